// devflow — get and keep OAuth 2.0 tokens through the Device Authorization
// Grant (RFC 8628). This is the umbrella header: it brings in the whole core
// (standard library and operating system only).
//
//     devflow::client_config cfg{...};
//     devflow::device_flow flow{cfg, devflow::curl_http{}, devflow::nlohmann_json{}};
//     std::string h = flow.authorization_header();  // cache -> refresh -> device flow
//
// Declarations and their contracts are here; definitions are in
// impl/device_flow.hpp; protocol decisions are pure functions in detail/.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/config.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/memory_store.hpp>
#include <devflow/secret.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/system_clock.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/detail/stoppable_mutex.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

namespace devflow {

/// Gets, keeps and refreshes the tokens of one client at one server.
///
/// Policies (docs/policies.md): `Http` sends requests, `Json` parses and
/// writes JSON, `Storage` keeps the token record, `Clock` tells and waits,
/// `Browser` opens the verification page. The flow owns them by value.
///
/// Thread safety: authorization_header(), access_token(), login(), logout()
/// and keep_alive() may be called from any number of threads at once. Network
/// work happens one operation at a time per flow (others wait and share its
/// result), so the Http policy is never used by two threads at once. Clock's
/// now() must be safe to call concurrently. Set the prompt and log callbacks
/// before sharing the flow between threads.
template <class Http, class Json, class Storage = file_store, class Clock = system_clock,
          class Browser = system_browser>
class device_flow {
    static_assert(http_client<Http>,
                  "Http must model devflow::http_client: http_response send(const http_request&) "
                  "(docs/policies.md#http)");
    static_assert(json_codec<Json>,
                  "Json must model devflow::json_codec: std::optional<json_object> "
                  "parse(std::string_view) and std::string write(const json_object&) "
                  "(docs/policies.md#json)");
    static_assert(token_store<Storage>,
                  "Storage must model devflow::token_store: load(key), save(key, secret), "
                  "erase(key) (docs/policies.md#storage)");
    static_assert(waitable_clock<Clock>,
                  "Clock must model devflow::waitable_clock: now(), steady_now(), "
                  "bool sleep_for(duration, std::stop_token) (docs/policies.md#clock)");
    static_assert(browser<Browser>,
                  "Browser must model devflow::browser: bool open(std::string_view) "
                  "(docs/policies.md#browser)");

public:
    /// Shows the user code and where to enter it. Default: writes
    /// prompt_info::text to stderr.
    using prompt_handler = std::function<void(const prompt_info&)>;
    /// Receives diagnostics; never given a secret. Default: warnings to stderr.
    using log_handler = std::function<void(log_level, std::string_view)>;

    /// Checks `config` and takes the policies.
    /// @throws devflow::error invalid_config (no client_id, no token endpoint,
    ///         extra parameters that repeat protocol ones) or insecure_endpoint
    ///         (an endpoint that is not https and not loopback).
    explicit device_flow(client_config config, Http http = Http{}, Json json = Json{},
                         Storage store = Storage{}, Clock clock = Clock{},
                         Browser browser = Browser{});

    device_flow(const device_flow&) = delete;
    device_flow& operator=(const device_flow&) = delete;

    /// Makes sure valid tokens exist and returns them: the cached access
    /// token if fresh, else a refresh, else the device flow (which prompts,
    /// whatever session_end says: this is the call that signs in).
    /// @throws devflow::error invalid_config when the store holds another
    ///         client's or issuer's session under this flow's key (signing in
    ///         would replace it).
    /// @throws devflow::error access_denied, expired_token, cancelled,
    ///         transport_failed, malformed_response, or a server error code.
    token_set login(std::stop_token stop = {});

    /// "Bearer <access token>", always valid when returned: served from
    /// memory on the hot path, refreshed when within the margin of expiry.
    /// When no session is left it throws reauth_required (the default,
    /// on_session_end::raise), or runs the device flow when session_end is
    /// interactive — but never again after a sign-in that was denied or
    /// expired, until login() is called (no unattended prompt loop).
    /// @throws devflow::error as login(), plus reauth_required.
    std::string authorization_header(std::stop_token stop = {});

    /// The access token itself, as authorization_header() would send it.
    /// @throws devflow::error as authorization_header().
    secret access_token(std::stop_token stop = {});

    /// For an access token a resource server refused (RFC 6750 §3.1
    /// invalid_token: revoked there before its expiry, say): refreshes now,
    /// whatever its expiry says, and returns the new tokens. Under the store
    /// lock, after re-reading the store: when the stored access token is no
    /// longer `refused` (another thread or process has replaced it), that one
    /// is returned without a request. Never prompts. The one-refresh-a-second
    /// pace still holds (within it, the current token comes back).
    /// @throws devflow::error reauth_required when no usable refresh token is
    ///         left (the session is over, or was ended elsewhere); otherwise
    ///         as access_token() for transport and server failures.
    token_set refresh_refused(const secret& refused, std::stop_token stop = {});

    /// Revokes the tokens at the server (RFC 7009) when a revocation endpoint
    /// is known, then erases the stored record and the in-memory copy. Other
    /// flows and processes sharing the store see the session as ended and
    /// never refresh it back.
    /// Returns true when every revocation the server was asked for succeeded.
    /// @throws devflow::error storage_failed when the record cannot be erased.
    bool logout();

    /// Refreshes in the background before the refresh token (the server's
    /// idle session) expires, so a long-running program keeps its session up
    /// to the server's maximum without a user. Blocks until `stop` is
    /// requested or the session ends; waits through the Clock policy.
    void keep_alive(std::stop_token stop);

    /// Runs keep_alive() on a new thread; destroying the jthread stops it
    /// (so the result must be kept: a discarded jthread would stop and join
    /// at once, and keep_alive blocks until the session ends).
    [[nodiscard]] std::jthread start_keep_alive();

    /// The tokens in the store for this client, without any network request
    /// (for status displays). std::nullopt when there are none.
    std::optional<token_set> stored_tokens();

    /// Replaces the prompt callback.
    void on_prompt(prompt_handler handler) { prompt_ = std::move(handler); }
    /// Replaces the log callback.
    void on_log(log_handler handler) { log_ = std::move(handler); }

    /// The configuration in use.
    [[nodiscard]] const client_config& config() const noexcept { return config_; }
    /// The token store key of this client (issuer, client_id, scopes).
    [[nodiscard]] const std::string& store_key() const noexcept { return key_; }

    /// The policies, reachable so tests can script the fakes they passed in.
    Http& http() noexcept { return http_; }
    Json& json() noexcept { return json_; }
    Storage& store() noexcept { return store_; }
    Clock& clock() noexcept { return clock_; }
    Browser& browser() noexcept { return browser_; }

private:
    /// What the store holds under this flow's key.
    struct stored_record {
        detail::record_status state = detail::record_status::absent;
        std::optional<token_set> tokens;  ///< when state is ok
        detail::record_identity owner;    ///< when state is ok or foreign
    };

    std::optional<token_set> fresh_from_cache();
    token_set ensure_tokens(std::stop_token stop, bool explicit_login);
    token_set sign_in(std::stop_token stop);
    std::optional<token_set> current_tokens(bool& ended_elsewhere);
    std::optional<token_set> refresh_under_lock(
        token_set current, const std::function<bool(const token_set&)>& still_needed,
        std::stop_token stop);
    std::optional<token_set> refresh_once(const token_set& current, bool& session_over);
    std::chrono::steady_clock::duration refresh_pace_wait();
    token_set run_device_flow(std::stop_token stop);
    stored_record read_store();
    bool write_store(const token_set& tokens);
    void set_cache(const token_set& tokens);
    void drop_cache();
    void log(log_level level, std::string_view message) const;
    std::optional<json_object> parse_body(const http_response& response);
    bool revoke(const secret& token, std::string_view hint);
    auto lock_store(std::stop_token stop);
    static void throw_if_stopped(const std::stop_token& stop, const char* what);

    client_config config_;
    detail::record_identity identity_;
    std::string key_;
    [[no_unique_address]] Http http_;
    [[no_unique_address]] Json json_;
    [[no_unique_address]] Storage store_;
    [[no_unique_address]] Clock clock_;
    [[no_unique_address]] Browser browser_;
    prompt_handler prompt_;
    log_handler log_;

    detail::stoppable_mutex flow_mutex_;  // one network operation at a time
    mutable std::shared_mutex cache_mutex_;  // guards cache_ (hot path reads)
    std::optional<token_set> cache_;
    // The hot path's view of cache_, set with it under cache_mutex_: the
    // header ready to copy (empty when there is no access token) and the wall
    // time until which it is served without a refresh (docs/performance.md).
    secret cached_header_;
    std::chrono::system_clock::time_point fresh_until_{};
    // No refresh attempt before this time after a transient refresh failure
    // (while the access token is still valid). Guarded by flow_mutex_.
    std::chrono::steady_clock::time_point refresh_backoff_until_{};
    // When this flow last sent a refresh request (the one-a-second pace).
    // Guarded by flow_mutex_.
    std::optional<std::chrono::steady_clock::time_point> last_refresh_sent_;
    // True while the store holds a record this flow has read or written: its
    // disappearance then means the session was ended elsewhere (a logout in
    // another process). Guarded by flow_mutex_.
    bool store_had_record_ = false;
    // True after a device flow ended without approval (denied or expired):
    // until login() is called again, nothing else prompts (docs/design.md:
    // no unattended prompt loop). Guarded by flow_mutex_.
    bool sign_in_refused_ = false;
};

}  // namespace devflow

#include <devflow/impl/device_flow.hpp>
