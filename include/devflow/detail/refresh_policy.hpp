// devflow — when tokens are fresh, when to refresh, what a refresh keeps
// (RFC 6749 §6). Pure; tested in tests/unit/refresh_policy_test.cpp.
#pragma once

#include <devflow/types.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace devflow::detail {

using wall_time = std::chrono::system_clock::time_point;

/// The shortest time between two refresh requests of one flow, whatever
/// lifetimes the server gives (a server answering `expires_in: 0` would
/// otherwise be asked thousands of times a second).
inline constexpr std::chrono::seconds min_refresh_spacing{1};

/// After a transient refresh failure, while the access token is still
/// valid, no new refresh is tried for this long: callers are served the
/// valid token instead of all hammering a failing server (docs/design.md).
inline constexpr std::chrono::seconds transient_refresh_backoff{10};

/// keep-alive's wait after a failed refresh: 30 s at first, doubled after
/// each further failure, at most 5 minutes.
inline constexpr std::chrono::seconds keep_alive_first_retry_wait{30};
inline constexpr std::chrono::seconds keep_alive_max_retry_wait{300};

/// The wait after another failed keep-alive refresh, given the last one.
inline std::chrono::seconds next_keep_alive_retry_wait(std::chrono::seconds last) {
    return std::min(last * 2, keep_alive_max_retry_wait);
}

/// How long keep-alive sleeps before it looks again: until the refresh is
/// `due` (wall time) and the refresh pace allows one (`pace_left`). Zero
/// means refresh now.
inline std::chrono::steady_clock::duration keep_alive_wait(wall_time due, wall_time now,
                                                           std::chrono::steady_clock::duration pace_left) {
    const auto until_due = due > now ? std::chrono::ceil<std::chrono::steady_clock::duration>(due - now)
                                     : std::chrono::steady_clock::duration::zero();
    return std::max(until_due, pace_left);
}

/// The refresh margin actually used: the configured one, capped at half the
/// token's lifetime so short-lived tokens are not refreshed on every call.
inline std::chrono::seconds effective_margin(const token_set& t, std::chrono::seconds margin) {
    if (!t.expires_at || t.obtained_at == wall_time{}) return margin;
    const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(*t.expires_at - t.obtained_at);
    return std::min(margin, lifetime / 2);
}

/// True when the access token can be served without refreshing: present and
/// not within the margin of its expiry. No expires_in means no known expiry.
inline bool access_token_fresh(const token_set& t, wall_time now, std::chrono::seconds margin) {
    if (t.access_token.empty()) return false;
    if (!t.expires_at) return true;
    return now < *t.expires_at - effective_margin(t, margin);
}

/// True when the access token has not expired yet (it may be within the margin).
inline bool access_token_usable(const token_set& t, wall_time now) { return t.access_token_valid(now); }

/// True when a refresh token exists and, as far as the server said, is alive.
inline bool refresh_token_usable(const token_set& t, wall_time now) { return t.refresh_token_valid(now); }

/// The tokens after a refresh (RFC 6749 §6): what the server sent wins; a
/// refresh token, id_token or scope it did not send is kept from before
/// (no rotation), and so is the refresh expiry that goes with a kept token.
inline token_set merge_refreshed(const token_set& before, token_set fresh) {
    if (fresh.refresh_token.empty()) {
        fresh.refresh_token = before.refresh_token;
        if (!fresh.refresh_expires_at) fresh.refresh_expires_at = before.refresh_expires_at;
    }
    if (fresh.id_token.empty()) fresh.id_token = before.id_token;
    if (fresh.scope.empty()) fresh.scope = before.scope;
    if (!fresh.session_idle_limit) fresh.session_idle_limit = before.session_idle_limit;
    return fresh;
}

/// What a flow does with the tokens it has (or has not) when a caller needs one.
enum class session_step {
    serve,    ///< hand out the access token as it is
    refresh,  ///< refresh first (RFC 6749 §6)
    sign_in,  ///< no session can produce a token: sign in (or report it)
};

/// The next step for `t` at `now`: serve a fresh token; refresh one within
/// the margin when a refresh token is usable (unless a transient failure
/// just happened and the access token is still valid: then serve it); serve
/// a still-valid token that cannot be refreshed; otherwise sign in.
inline session_step next_session_step(const std::optional<token_set>& t, wall_time now,
                                      std::chrono::seconds margin, bool in_refresh_backoff) {
    if (!t) return session_step::sign_in;
    if (access_token_fresh(*t, now, margin)) return session_step::serve;
    if (refresh_token_usable(*t, now))
        return in_refresh_backoff && access_token_usable(*t, now) ? session_step::serve
                                                                  : session_step::refresh;
    return access_token_usable(*t, now) ? session_step::serve : session_step::sign_in;
}

/// True when the store's answer means the session was ended elsewhere: the
/// record this flow saw is gone, or another client's stands in its place
/// (docs/design.md: logout elsewhere).
inline bool session_ended_elsewhere(bool store_had_record, bool record_absent, bool record_foreign) {
    return store_had_record && (record_absent || record_foreign);
}

/// The tokens of a new session (a device flow's answer): the refresh token's
/// lifetime now is the session's idle limit (docs/keycloak.md).
inline token_set begin_session(token_set t) {
    if (t.refresh_expires_at)
        t.session_idle_limit =
            std::chrono::duration_cast<std::chrono::seconds>(*t.refresh_expires_at - t.obtained_at);
    return t;
}



/// When the keep-alive refresher should refresh next (wall time): a margin
/// before the refresh token (the server's idle session) expires, capped at
/// half its remaining life; without a refresh expiry, a margin before the
/// access token expires; with neither, an hour from now. Never before `now`.
inline wall_time next_keep_alive(const token_set& t, wall_time now,
                                 std::chrono::seconds keep_alive_margin,
                                 std::chrono::seconds refresh_margin) {
    wall_time target;
    if (t.refresh_expires_at) {
        const auto life = std::chrono::duration_cast<std::chrono::seconds>(
            *t.refresh_expires_at - (t.obtained_at == wall_time{} ? now : t.obtained_at));
        target = *t.refresh_expires_at - std::min(keep_alive_margin, life / 2);
    } else if (t.expires_at) {
        target = *t.expires_at - effective_margin(t, refresh_margin);
    } else {
        target = now + std::chrono::hours{1};
    }
    return std::max(target, now);
}

}  // namespace devflow::detail
