// devflow — the five policy concepts (docs/policies.md has the tables of
// valid expressions and a minimal model of each).
#pragma once

#include <devflow/secret.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace devflow {

/// Models devflow::http_client: sends one request and returns its answer.
/// Never throws for network failure: that comes back in
/// http_response::transport. Must not follow redirects (docs/policies.md#http).
template <class H>
concept http_client = requires(H& h, const http_request& request) {
    { h.send(request) } -> std::same_as<http_response>;
};

/// Models devflow::json_codec: parses a body into a flat object (std::nullopt
/// when it is not one JSON object) and writes a flat object back
/// (docs/policies.md#json).
template <class J>
concept json_codec = requires(J& j, std::string_view text, const json_object& object) {
    { j.parse(text) } -> std::same_as<std::optional<json_object>>;
    { j.write(object) } -> std::same_as<std::string>;
};

/// Models devflow::token_store: keeps one opaque record (bytes) per key.
/// load returns std::nullopt when there is none; failures throw
/// devflow::error with errc::storage_failed (docs/policies.md#storage).
template <class S>
concept token_store = requires(S& s, std::string_view key, const secret& record) {
    { s.load(key) } -> std::same_as<std::optional<secret>>;
    s.save(key, record);
    s.erase(key);
};

/// Optional token_store capability: `s.lock(key)` returns an object that holds
/// an exclusive, cross-process lock on `key` until it is destroyed.
template <class S>
concept lockable_store = token_store<S> && requires(S& s, std::string_view key) {
    { s.lock(key) };
};

/// Optional token_store capability: `s.set_aside(key)` moves a corrupt record
/// out of the way (kept for inspection) so that it reads as absent.
template <class S>
concept quarantining_store = token_store<S> && requires(S& s, std::string_view key) {
    s.set_aside(key);
};

/// Models devflow::waitable_clock: wall time for expiry, steady time for
/// polling and deadlines, and a sleep that a std::stop_token cuts short
/// (returns false when stopped) (docs/policies.md#clock).
template <class C>
concept waitable_clock =
    requires(C& c, std::chrono::steady_clock::duration d, std::stop_token stop) {
        { c.now() } -> std::same_as<std::chrono::system_clock::time_point>;
        { c.steady_now() } -> std::same_as<std::chrono::steady_clock::time_point>;
        { c.sleep_for(d, stop) } -> std::same_as<bool>;
    };

/// Optional waitable_clock capability: `c.coarse_now()` returns the wall time
/// more cheaply than `c.now()`, behind it by at most a few milliseconds. When
/// a clock has it, authorization_header() serves a cached token on its word
/// while the token's refresh time is more than a second away, and reads
/// `c.now()` closer to it (devflow::system_clock has it; docs/policies.md#clock).
template <class C>
concept coarse_clock = waitable_clock<C> && requires(const C& c) {
    { c.coarse_now() } -> std::same_as<std::chrono::system_clock::time_point>;
};

/// Models devflow::browser: tries to open an http(s) URL for the user and says
/// whether it did. Never runs a shell (docs/policies.md#browser).
template <class B>
concept browser = requires(B& b, std::string_view url) {
    { b.open(url) } -> std::same_as<bool>;
};

}  // namespace devflow
