// devflow — session_machine: the whole protocol of one client's session —
// sign-in (RFC 8628), refresh (RFC 6749 §6), keep-alive and logout
// (RFC 7009) — as a state machine that performs no I/O and owns no clock.
// It is told what happened (an HTTP answer arrived, a wait is over, the store
// was read, a stop was asked for, with the time it happened) and answers
// with the next thing to do (send this request, wait until then, show this
// prompt, done with these tokens). docs/async.md drives it from a plain
// poll() loop; device_flow drives it with blocking calls, and the Asio
// adapter with asynchronous ones.
//
//     devflow::session_machine m{config};
//     devflow::step s = m.start(devflow::operation::sign_in, now());
//     while (!s.finished()) {
//         switch (s.what) {
//             case devflow::step::action::send: s = m.on_response(http.send(s.request), parse(...), now()); break;
//             case devflow::step::action::wait: /* until s.until */ s = m.on_time(now()); break;
//             ...
//         }
//     }
//
// Declarations and contracts are here; definitions in impl/session_machine.hpp;
// the decisions themselves are the pure functions of detail/.
#pragma once

#include <devflow/config.hpp>
#include <devflow/error.hpp>
#include <devflow/secret.hpp>
#include <devflow/stored_session.hpp>
#include <devflow/types.hpp>
#include <devflow/detail/polling.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/detail/refresh_policy.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace devflow {

/// A moment, on both clocks: wall time (token expiry) and steady time
/// (polling, deadlines). Events carry the moment they happened.
struct instant {
    std::chrono::system_clock::time_point wall{};
    std::chrono::steady_clock::time_point steady{};
};

/// What an operation of the machine is for.
enum class operation {
    /// Make sure valid tokens exist (cache, refresh, device flow) and give
    /// them; always allowed to sign in. device_flow::login().
    sign_in,
    /// The same, but signs in only when client_config::session_end is
    /// interactive and no sign-in was refused since the last sign_in.
    /// device_flow::authorization_header().
    get_tokens,
    /// One round of keep-alive: refresh when the session's idle limit is near,
    /// else say when to look again (step::next_round). device_flow::keep_alive().
    keep_alive,
    /// Revoke the tokens (RFC 7009) and erase the record. device_flow::logout().
    logout,
    /// The access token in memory was refused by a resource server (a 401
    /// with a Bearer invalid_token challenge, RFC 6750 §3.1): get another one
    /// — the one another flow already refreshed to, or a refresh now, however
    /// fresh the refused one looked. Never signs in: with no session left it
    /// fails with reauth_required. device_flow::refresh_refused() and
    /// send_authorized().
    refresh,
};

/// One line the driver passes to the application's log.
struct log_entry {
    log_level level = log_level::info;
    std::string message;  ///< never holds a secret
};

/// What the machine asks its driver to do next, and (when finished) the
/// outcome of the operation.
struct step {
    enum class action {
        send,          ///< send `request`, then call on_response()
        wait,          ///< wait until `until` (steady), then call on_time()
        lock_store,    ///< take the store's lock for the key, then call on_locked()
        unlock_store,  ///< release it, then call on_unlocked()
        read_store,    ///< read the record, then call on_record()
        write_store,   ///< save `record` (and `pending`), then call on_written()
        erase_store,   ///< erase the record, then call on_erased()
        open_browser,  ///< try to open `url`, then call on_browser()
        show_prompt,   ///< show `prompt`, then call on_prompted()
        done,          ///< the operation succeeded: see `tokens` / `revoked` / `next_round`
        failed,        ///< the operation failed: see `failure`
    };

    action what = action::failed;
    http_request request;                                 ///< send
    std::chrono::steady_clock::time_point until{};        ///< wait
    token_set record;                                     ///< write_store: the tokens
    std::optional<pending_authorization> pending; ///< write_store: a sign-in in progress
    cached_endpoints endpoints;                   ///< write_store: endpoints to keep
    std::string url;                                      ///< open_browser
    prompt_info prompt;                                   ///< show_prompt
    std::optional<token_set> tokens;                      ///< done (sign_in, get_tokens)
    bool revoked = false;                                 ///< done (logout)
    /// done (keep_alive): when the next round should start (wall time).
    std::optional<std::chrono::system_clock::time_point> next_round;
    std::optional<error> failure;                         ///< failed
    std::vector<log_entry> logs;                          ///< lines to log, in order

    /// True for done and failed: the operation is over.
    [[nodiscard]] bool finished() const noexcept {
        return what == action::done || what == action::failed;
    }
};

/// The protocol of one client's session as a sans-I/O state machine.
///
/// One operation at a time: start() begins one, every event returns the next
/// step, and the operation is over when a step is finished(). State that
/// outlives an operation (the tokens in memory, whether the store held the
/// record, a refused sign-in, the refresh pace) is kept between operations.
/// Every event must be the one the last step asked for (calling on_time()
/// after a `send` step is a programming error: std::logic_error).
/// Not thread-safe: drive it from one thread (or one strand) at a time.
class session_machine {
public:
    /// Checks `config` (as device_flow's constructor does).
    /// @throws devflow::error invalid_config or insecure_endpoint
    explicit session_machine(client_config config);

    /// Begins `op` at `now`. Must not be called while an operation runs.
    [[nodiscard]] step start(operation op, instant now);

    /// Begins operation::refresh for the access token `refused` (the one a
    /// resource server turned away; the one in memory when start() is used).
    [[nodiscard]] step start_refresh(const secret& refused, instant now);

    /// The answer to the last `send` step; `body` is its parsed body
    /// (std::nullopt when it is not one JSON object).
    [[nodiscard]] step on_response(const http_response& response,
                                   const std::optional<json_object>& body, instant now);
    /// The last `wait` step's time has come.
    [[nodiscard]] step on_time(instant now);
    /// The store's lock is held (after `lock_store`).
    [[nodiscard]] step on_locked(instant now);
    /// The store's lock is released (after `unlock_store`).
    [[nodiscard]] step on_unlocked(instant now);
    /// What the store holds (after `read_store`).
    [[nodiscard]] step on_record(stored_session record, instant now);
    /// The record was saved, or could not be (`saved` false; after `write_store`).
    [[nodiscard]] step on_written(bool saved, instant now);
    /// The record is gone (after `erase_store`).
    [[nodiscard]] step on_erased(instant now);
    /// Whether the browser opened (after `open_browser`).
    [[nodiscard]] step on_browser(bool opened, instant now);
    /// The prompt was shown (after `show_prompt`).
    [[nodiscard]] step on_prompted(instant now);
    /// A stop was asked for (instead of whatever the last step asked for).
    /// The operation ends with errc::cancelled; a pending sign-in stays saved
    /// so that the next sign_in resumes it.
    [[nodiscard]] step on_stop(instant now);

    /// Ends the running operation without an outcome, as when the driver
    /// gave up on it (an exception from a store or a callback). The driver
    /// releases the store's lock itself. State between operations is kept.
    void abandon() noexcept {
        phase_ = phase::idle;
        locked_ = false;
        logs_.clear();
    }

    /// True while an operation runs.
    [[nodiscard]] bool busy() const noexcept { return phase_ != phase::idle; }
    /// True while the operation holds the store's lock (the driver releases
    /// it if it abandons the operation).
    [[nodiscard]] bool holds_lock() const noexcept { return locked_; }
    /// The tokens in memory: what the last operation ended with, or
    /// std::nullopt when there are none (never signed in, signed out, the
    /// session ended). The driver's hot path serves from a copy of these.
    [[nodiscard]] const std::optional<token_set>& tokens() const noexcept { return memory_; }

    /// Reads a record's bytes (as the store gave them, or std::nullopt when
    /// it holds none) into what on_record() wants, with `json` (a
    /// devflow::json_codec). A record the Json policy cannot parse is corrupt.
    template <class Json>
    [[nodiscard]] stored_session read_record(Json& json, const std::optional<secret>& bytes) const;

    /// The bytes to save for a `write_store` step, written with `json`.
    template <class Json>
    [[nodiscard]] secret record_bytes(Json& json, const step& write) const;

    /// The configuration in use.
    [[nodiscard]] const client_config& config() const noexcept { return config_; }
    /// Who the session's record belongs to (issuer, client_id, scopes).
    [[nodiscard]] const record_owner& identity() const noexcept { return identity_; }
    /// The token store key of this session.
    [[nodiscard]] const std::string& store_key() const noexcept { return key_; }

private:
    enum class phase {
        idle,
        pre_read,            // get tokens: an unlocked read for a fresh record
        locking,
        locked_read,
        pace_wait,           // refresh: waiting for the one-a-second pace
        refreshing,          // refresh request sent
        saving_refreshed,
        reread_after_grant,  // invalid_grant: read the store again
        erasing_dead,
        requesting_code,     // device authorization request sent
        opening_browser,
        saving_pending,
        prompting,
        poll_wait,
        polling,
        saving_tokens,
        clearing_pending,
        keep_alive_read,     // keep-alive: an unlocked read (nothing in memory)
        logout_read,
        revoking_refresh,
        revoking_access,
        logout_erase,
        unlocking,
    };

    // Helpers that build steps (each ends or continues the operation).
    step send(phase next, http_request request);
    step wait(phase next, std::chrono::steady_clock::time_point until);
    step simple(phase next, step::action what);
    step finish_tokens(token_set t);
    step finish_failure(errc code, const std::string& message, server_error_info server = {});
    step finish_failure(const error& e);
    step finish_round(std::chrono::system_clock::time_point next);
    step finish_logout(bool revoked);
    step end(step s);  // releases the lock first when held
    void log(log_level level, std::string message);

    // The phases' decisions.
    step decide_locked(instant now);
    step begin_refresh(instant now);
    step after_refresh_answer(const http_response& r, const std::optional<json_object>& body, instant now);
    step session_over(instant now);
    step begin_sign_in(instant now);
    step after_device_answer(const http_response& r, const std::optional<json_object>& body, instant now);
    step next_poll(instant now);
    step poll_now(instant now);
    step after_poll_answer(const http_response& r, const std::optional<json_object>& body, instant now);
    step fail_sign_in(const error& e, instant now);
    step keep_alive_decide(instant now);
    step keep_alive_after(instant now);
    step logout_next(instant now);
    bool still_needed(const token_set& t, instant now) const;
    std::optional<token_set> current_tokens(const stored_session& found);
    std::chrono::steady_clock::duration refresh_pace_left(instant now) const;
    void expect(std::initializer_list<phase> allowed, const char* event) const;

    client_config config_;
    record_owner identity_;
    std::string key_;

    // ---- state between operations
    std::optional<token_set> memory_;
    bool store_had_record_ = false;
    bool sign_in_refused_ = false;
    std::optional<std::chrono::steady_clock::time_point> last_refresh_sent_;
    std::chrono::steady_clock::time_point refresh_backoff_until_{};
    std::chrono::seconds keep_alive_retry_wait_ = detail::keep_alive_first_retry_wait;
    bool warned_no_room_ = false;

    // ---- state of the running operation
    operation op_ = operation::get_tokens;
    phase phase_ = phase::idle;
    bool locked_ = false;
    step pending_end_;                // the step to give once the lock is released
    std::vector<log_entry> logs_;     // lines gathered for the next step
    bool ended_elsewhere_ = false;
    record_status last_state_ = record_status::absent;
    record_owner last_owner_;
    cached_endpoints last_endpoints_;
    std::optional<pending_authorization> stored_pending_;
    std::optional<token_set> stored_tokens_;  // the tokens the locked read found
    std::optional<token_set> current_;
    int refresh_attempt_ = 0;
    secret rejected_access_;  // operation::refresh: the token a server refused
    // sign-in
    device_authorization da_;
    std::optional<detail::poll_schedule> schedule_;
    std::chrono::steady_clock::time_point requested_at_{};
    std::chrono::system_clock::time_point lifetimes_from_{};
    std::string last_trouble_;
    bool resumed_ = false;
    bool browser_opened_ = false;
    token_set signed_in_;
    // logout
    bool revoked_ = true;
};

}  // namespace devflow

#include <devflow/impl/session_machine.hpp>
