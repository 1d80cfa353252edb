// devflow — what a token endpoint answer means (RFC 6749 §5.1–5.2, RFC 8628
// §3.5). Classified by the body first: servers send the same OAuth errors with
// 400, 401 or 428. Pure; tested in tests/unit/token_response_test.cpp.
#pragma once

#include <devflow/detail/display_text.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/lifetimes.hpp>
#include <devflow/detail/retry_after.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The devflow::errc for a server `error` code; unknown codes are server_error.
inline errc errc_from_server_error(std::string_view e) noexcept {
    if (e == "access_denied") return errc::access_denied;
    if (e == "expired_token") return errc::expired_token;
    if (e == "invalid_grant") return errc::invalid_grant;
    if (e == "invalid_client") return errc::invalid_client;
    if (e == "invalid_request") return errc::invalid_request;
    if (e == "invalid_scope") return errc::invalid_scope;
    if (e == "unauthorized_client") return errc::unauthorized_client;
    if (e == "unsupported_grant_type") return errc::unsupported_grant_type;
    return errc::server_error;
}

/// "error: description" from a server's error answer, made safe to show and
/// cut to a sensible length (a hostile server controls both).
inline std::string server_words(const server_error_info& info) {
    std::string out = display_text(info.error, 80);
    if (!info.error_description.empty()) out += ": " + display_text(info.error_description, 300);
    return out;
}

/// What the flow should do with one token endpoint answer.
enum class token_outcome_kind {
    success,    ///< tokens arrived
    pending,    ///< authorization_pending: poll again at the same pace
    slow_down,  ///< slow_down: raise the interval by 5 s (or to the body's interval)
    retry,      ///< transport failure, 5xx or 429: back off and try again
    fail,       ///< stop with `code`
};

/// The classification of one answer.
struct token_outcome {
    token_outcome_kind kind = token_outcome_kind::fail;
    token_set tokens;                          ///< for success
    errc code = errc::malformed_response;      ///< for fail
    std::string message;                       ///< for fail and retry; never a secret
    server_error_info server;                  ///< verbatim server fields, when sent
    std::optional<std::chrono::seconds> interval;     ///< slow_down body `interval`
    std::optional<std::chrono::seconds> retry_after;  ///< Retry-After, for retry
};

/// Parses a successful token answer (RFC 6749 §5.1) whose lifetimes count
/// from wall time `now` (lifetime_anchor() of the request's send time).
/// std::nullopt with `why` set when it has no usable access_token or a bad field.
inline std::optional<token_set> parse_token_set(const json_object& o,
                                                std::chrono::system_clock::time_point now,
                                                std::string& why) {
    const auto access = string_field(o, "access_token");
    if (!access || access->empty()) {
        why = "token answer lacks a usable \"access_token\"";
        return std::nullopt;
    }
    token_set t;
    t.access_token = secret{*access};
    t.obtained_at = now;
    // RFC 6749 §5.1: token_type is case-insensitive; devflow sends Bearer tokens only
    // (RFC 6750). A missing type is taken as Bearer, as most clients do.
    const auto type = string_field(o, "token_type");
    if (type && ascii_lower(*type) != "bearer") {
        why = "token answer has token_type \"" + display_text(*type, 40) +
              "\"; only Bearer tokens are supported";
        return std::nullopt;
    }
    t.token_type = "Bearer";
    constexpr std::chrono::seconds ten_years{std::chrono::hours{24 * 3660}};
    const auto expires = seconds_field(o, "expires_in", ten_years);
    if (expires.status == seconds_status::invalid) {
        why = "token answer has a negative or absurd \"expires_in\"";
        return std::nullopt;
    }
    if (expires.status == seconds_status::ok) t.expires_at = now + expires.value;
    if (auto r = string_field(o, "refresh_token"); r && !r->empty()) t.refresh_token = secret{*r};
    // Keycloak: refresh_expires_in is the session's idle limit; 0 means no limit
    // (offline tokens).
    const auto refresh_expires = seconds_field(o, "refresh_expires_in", ten_years);
    if (refresh_expires.status == seconds_status::invalid) {
        why = "token answer has a negative or absurd \"refresh_expires_in\"";
        return std::nullopt;
    }
    if (refresh_expires.status == seconds_status::ok && refresh_expires.value.count() > 0)
        t.refresh_expires_at = now + refresh_expires.value;
    if (auto s = string_field(o, "scope")) t.scope = std::string(*s);
    if (auto id = string_field(o, "id_token"); id && !id->empty()) t.id_token = secret{*id};
    return t;
}

/// Classifies one token endpoint answer. `body` is the parsed body, or
/// std::nullopt when it was not a JSON object. `now` is the wall time of
/// receipt (a Retry-After date is read against it); token lifetimes count
/// from `lifetimes_from` (lifetime_anchor() of the send time), or from `now`
/// when it is not given.
inline token_outcome classify_token_response(
    const http_response& resp, const std::optional<json_object>& body,
    std::chrono::system_clock::time_point now,
    std::optional<std::chrono::system_clock::time_point> lifetimes_from = std::nullopt) {
    token_outcome out;
    if (!resp) {
        out.kind = token_outcome_kind::retry;
        out.message = "no answer from the token endpoint: " + resp.transport_message;
        return out;
    }
    const int status = resp.status;
    const bool overloaded = status == 429 || (status >= 500 && status <= 599);
    if (overloaded) {
        if (const secret* ra = resp.header("retry-after")) out.retry_after = parse_retry_after(ra->reveal(), now);
    }
    // Body first (RFC 8628 §3.5): the error code decides, whatever the status.
    if (body) {
        if (auto info = error_fields(*body, status)) {
            out.server = *info;
            if (info->error == "authorization_pending") {
                out.kind = token_outcome_kind::pending;
                return out;
            }
            if (info->error == "slow_down") {
                out.kind = token_outcome_kind::slow_down;
                // A minimum, so a fraction rounds up (RFC 8628 §3.5).
                const auto iv = seconds_field(*body, "interval", std::chrono::seconds{3600},
                                              /*round_up=*/true);
                if (iv.status == seconds_status::ok) out.interval = iv.value;
                return out;
            }
            const errc code = errc_from_server_error(info->error);
            if (overloaded && code == errc::server_error) {
                // temporarily_unavailable, server_error, ... with 5xx/429: transient.
                out.kind = token_outcome_kind::retry;
                out.message = "token endpoint is unavailable (HTTP " + std::to_string(status) +
                              ", " + display_text(info->error, 80) + ")";
                return out;
            }
            out.kind = token_outcome_kind::fail;
            out.code = code;
            out.message = "token endpoint answered " + server_words(*info);
            return out;
        }
        if (status >= 200 && status <= 299) {
            std::string why;
            if (auto tokens = parse_token_set(*body, lifetimes_from.value_or(now), why)) {
                out.kind = token_outcome_kind::success;
                out.tokens = std::move(*tokens);
                return out;
            }
            out.kind = token_outcome_kind::fail;
            out.code = errc::malformed_response;
            out.message = why + " (HTTP " + std::to_string(status) + ")";
            out.server.http_status = status;
            return out;
        }
    }
    if (overloaded) {
        out.kind = token_outcome_kind::retry;
        out.message = "token endpoint is unavailable (HTTP " + std::to_string(status) + ")";
        return out;
    }
    out.kind = token_outcome_kind::fail;
    out.code = errc::malformed_response;
    out.server.http_status = status;
    out.message = status >= 200 && status <= 299
                      ? "token answer is not a JSON object (HTTP " + std::to_string(status) + ")"
                      : "token endpoint answered HTTP " + std::to_string(status) +
                            " without an OAuth error";
    return out;
}

}  // namespace devflow::detail
