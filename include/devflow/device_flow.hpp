// devflow — get and keep OAuth 2.0 tokens through the Device Authorization
// Grant (RFC 8628). This header brings in the flow and everything it uses
// (config, stores, system clock and browser; standard library and operating
// system only); <devflow/devflow.hpp> is the whole core, discovery included.
//
//     devflow::client_config cfg{...};
//     devflow::device_flow flow{cfg, devflow::curl_http{}, devflow::nlohmann_json{}};
//     std::string h = flow.authorization_header();  // cache -> refresh -> device flow
//
// Declarations and their contracts are here; definitions are in
// impl/device_flow.hpp. The protocol is session_machine's (a sans-I/O state
// machine whose decisions are the pure functions of detail/); device_flow
// drives it with the policies, blocking the calling thread.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/config.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/memory_store.hpp>
#include <devflow/session_machine.hpp>
#include <devflow/secret.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/system_clock.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>
#include <devflow/detail/published_secret.hpp>
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

    /// Sends `request` to a resource server at `origin` — a URL whose
    /// scheme, host and port are the origin ("https://api.example.org", or
    /// any URL there, such as the config's issuer) — with "Authorization: Bearer <access token>", through `transport` (any
    /// devflow::http_client; the flow's own Http policy by default). When the
    /// answer is 401 with a Bearer `invalid_token` challenge (RFC 6750 §3.1 —
    /// the token was revoked or expired early), the flow gets another token
    /// (the one another thread already refreshed to, or one refresh: single
    /// flight) and sends the request once more; any other answer, a second
    /// 401 included, is returned as it is. The token goes only to `origin`:
    /// a request for another origin is refused, and transports never follow
    /// redirects.
    /// @throws devflow::error invalid_config (the request's URL is not at
    ///         `origin`), insecure_endpoint (plain http to a host that is not
    ///         loopback), whatever authorization_header() throws, and, for a
    ///         refused token that cannot be replaced, what refresh_refused()
    ///         throws (reauth_required when the session is over: no prompt).
    template <class Transport>
    http_response send_authorized(Transport& transport, std::string_view origin,
                                  http_request request, std::stop_token stop = {});
    /// As above, through the flow's own Http policy.
    http_response send_authorized(std::string_view origin, http_request request,
                                  std::stop_token stop = {});

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
    [[nodiscard]] const client_config& config() const noexcept { return machine_.config(); }
    /// The token store key of this client (issuer, client_id, scopes).
    [[nodiscard]] const std::string& store_key() const noexcept { return machine_.store_key(); }

    /// The policies, reachable so tests can script the fakes they passed in.
    Http& http() noexcept { return http_; }
    Json& json() noexcept { return json_; }
    Storage& store() noexcept { return store_; }
    Clock& clock() noexcept { return clock_; }
    Browser& browser() noexcept { return browser_; }

    /// The protocol machine this flow drives (docs/async.md). For tests and
    /// tools; do not drive it while the flow is in use.
    const session_machine& machine() const noexcept { return machine_; }

private:
    token_set ensure_tokens(std::stop_token stop, operation op);
    step drive(step s, std::stop_token stop);
    std::optional<token_set> fresh_from_cache();
    stored_session read_store();
    bool write_store(const step& s);
    void sync_cache();
    void set_cache(const token_set& tokens);
    void drop_cache();
    void log(log_level level, std::string_view message) const;
    std::optional<json_object> parse_body(const http_response& response);
    instant now();
    // The hot path's check: with a coarse clock, served on its word while the
    // refresh time is more than coarse_guard away, else by now().
    static constexpr std::chrono::seconds coarse_guard{1};
    // Copies the cached header into `out` when it is fresh.
    bool fresh_header(std::string& out) {
        if constexpr (coarse_clock<Clock>) {
            if (header_.copy_if_fresh(clock_.coarse_now() + coarse_guard, out)) return true;
        }
        return header_.copy_if_fresh(clock_.now(), out);
    }
    auto lock_store(std::stop_token stop);

    session_machine machine_;
    [[no_unique_address]] Http http_;
    [[no_unique_address]] Json json_;
    [[no_unique_address]] Storage store_;
    [[no_unique_address]] Clock clock_;
    [[no_unique_address]] Browser browser_;
    prompt_handler prompt_;
    log_handler log_;

    detail::stoppable_mutex flow_mutex_;     // one operation of machine_ at a time
    mutable std::shared_mutex cache_mutex_;  // guards cache_ and fresh_until_
    std::optional<token_set> cache_;
    // The wall time until which cache_'s access token is served without a
    // refresh, set with it.
    std::chrono::system_clock::time_point fresh_until_{};
    // The hot path's view of cache_, published with it (under cache_mutex_)
    // and read without a lock: the header ready to copy and fresh_until_
    // (docs/performance.md).
    detail::published_secret header_;
};

}  // namespace devflow

#include <devflow/impl/device_flow.hpp>
