// detail/refresh_policy.hpp: when tokens are fresh, when to refresh, and
// what a refresh keeps (RFC 6749 §6).
#include <devflow/detail/lifetimes.hpp>
#include <devflow/detail/refresh_policy.hpp>

#include "catch.hpp"

#include <chrono>

using devflow::secret;
using devflow::token_set;
using devflow::detail::access_token_fresh;
using devflow::detail::access_token_usable;
using devflow::detail::effective_margin;
using devflow::detail::merge_refreshed;
using devflow::detail::next_keep_alive;
using devflow::detail::refresh_token_usable;
using devflow::detail::wall_time;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const wall_time t0{seconds{1'700'000'000}};

/// Tokens obtained at t0 whose access token lives `life`.
token_set tokens(seconds life) {
    token_set t;
    t.access_token = secret{"CANARY-access"};
    t.token_type = "Bearer";
    t.obtained_at = t0;
    t.expires_at = t0 + life;
    t.refresh_token = secret{"CANARY-refresh"};
    return t;
}

}  // namespace

TEST_CASE("effective_margin is the configured margin capped at half the token lifetime",
          "[refresh_policy]") {
    CHECK(effective_margin(tokens(hours{1}), seconds{60}) == seconds{60});
    CHECK(effective_margin(tokens(seconds{120}), seconds{60}) == seconds{60});
    CHECK(effective_margin(tokens(seconds{60}), seconds{60}) == seconds{30});
    CHECK(effective_margin(tokens(seconds{10}), seconds{60}) == seconds{5});
}

TEST_CASE("effective_margin keeps the margin when the lifetime is unknown", "[refresh_policy]") {
    token_set no_expiry = tokens(hours{1});
    no_expiry.expires_at.reset();
    CHECK(effective_margin(no_expiry, seconds{60}) == seconds{60});
    token_set no_receipt = tokens(seconds{10});
    no_receipt.obtained_at = wall_time{};
    CHECK(effective_margin(no_receipt, seconds{60}) == seconds{60});
}

TEST_CASE("access_token_fresh is true until the margin before expiry", "[refresh_policy]") {
    const token_set t = tokens(seconds{300});
    CHECK(access_token_fresh(t, t0, seconds{60}));
    CHECK(access_token_fresh(t, t0 + seconds{239}, seconds{60}));
    CHECK_FALSE(access_token_fresh(t, t0 + seconds{240}, seconds{60}));
    CHECK_FALSE(access_token_fresh(t, t0 + seconds{300}, seconds{60}));
    CHECK_FALSE(access_token_fresh(t, t0 + hours{1}, seconds{60}));
}

TEST_CASE("access_token_fresh uses the capped margin for short-lived tokens", "[refresh_policy]") {
    // 20 s token, 60 s margin: refresh after 10 s, not on every call.
    const token_set t = tokens(seconds{20});
    CHECK(access_token_fresh(t, t0 + seconds{9}, seconds{60}));
    CHECK_FALSE(access_token_fresh(t, t0 + seconds{10}, seconds{60}));
}

TEST_CASE("access_token_fresh treats a token without expiry as fresh and an empty one as not",
          "[refresh_policy]") {
    token_set t = tokens(seconds{300});
    t.expires_at.reset();
    CHECK(access_token_fresh(t, t0 + hours{1000}, seconds{60}));
    t.access_token.clear();
    CHECK_FALSE(access_token_fresh(t, t0, seconds{60}));
}

TEST_CASE("access_token_usable is true until expiry even within the margin", "[refresh_policy]") {
    token_set t = tokens(seconds{300});
    CHECK(access_token_usable(t, t0 + seconds{299}));
    CHECK_FALSE(access_token_usable(t, t0 + seconds{300}));
    t.expires_at.reset();
    CHECK(access_token_usable(t, t0 + hours{1000}));
    t.access_token.clear();
    CHECK_FALSE(access_token_usable(t, t0));
}

TEST_CASE("refresh_token_usable needs a refresh token that has not expired", "[refresh_policy]") {
    token_set t = tokens(seconds{300});
    CHECK(refresh_token_usable(t, t0 + hours{1000}));
    t.refresh_expires_at = t0 + minutes{30};
    CHECK(refresh_token_usable(t, t0 + seconds{1799}));
    CHECK_FALSE(refresh_token_usable(t, t0 + seconds{1800}));
    t.refresh_expires_at.reset();
    t.refresh_token.clear();
    CHECK_FALSE(refresh_token_usable(t, t0));
}

TEST_CASE("merge_refreshed keeps the old refresh token and its expiry when none is sent",
          "[refresh_policy]") {
    token_set before = tokens(seconds{300});
    before.refresh_expires_at = t0 + minutes{30};
    before.scope = "openid profile";
    before.id_token = secret{"CANARY-id-old"};

    token_set fresh;
    fresh.access_token = secret{"CANARY-access-new"};
    fresh.token_type = "Bearer";
    fresh.obtained_at = t0 + minutes{4};
    fresh.expires_at = t0 + minutes{9};

    const token_set merged = merge_refreshed(before, fresh);
    CHECK(merged.access_token.reveal() == "CANARY-access-new");
    CHECK(merged.expires_at == t0 + minutes{9});
    CHECK(merged.obtained_at == t0 + minutes{4});
    CHECK(merged.refresh_token.reveal() == "CANARY-refresh");
    CHECK(merged.refresh_expires_at == t0 + minutes{30});
    CHECK(merged.scope == "openid profile");
    CHECK(merged.id_token.reveal() == "CANARY-id-old");
}

TEST_CASE("merge_refreshed takes a rotated refresh token and everything else sent", "[refresh_policy]") {
    token_set before = tokens(seconds{300});
    before.refresh_expires_at = t0 + minutes{30};
    before.scope = "openid profile";
    before.id_token = secret{"CANARY-id-old"};

    token_set fresh;
    fresh.access_token = secret{"CANARY-access-new"};
    fresh.token_type = "Bearer";
    fresh.obtained_at = t0 + minutes{4};
    fresh.expires_at = t0 + minutes{9};
    fresh.refresh_token = secret{"CANARY-refresh-rotated"};
    fresh.scope = "openid";
    fresh.id_token = secret{"CANARY-id-new"};

    const token_set merged = merge_refreshed(before, fresh);
    CHECK(merged.refresh_token.reveal() == "CANARY-refresh-rotated");
    // The old expiry belonged to the old token: a rotated token without one has none known.
    CHECK_FALSE(merged.refresh_expires_at.has_value());
    CHECK(merged.scope == "openid");
    CHECK(merged.id_token.reveal() == "CANARY-id-new");

    fresh.refresh_expires_at = t0 + minutes{34};
    CHECK(merge_refreshed(before, fresh).refresh_expires_at == t0 + minutes{34});
}

TEST_CASE("merge_refreshed takes a new refresh expiry even when the token is not rotated",
          "[refresh_policy]") {
    token_set before = tokens(seconds{300});
    before.refresh_expires_at = t0 + minutes{30};
    token_set fresh = tokens(seconds{300});
    fresh.refresh_token.clear();
    fresh.refresh_expires_at = t0 + minutes{40};
    const token_set merged = merge_refreshed(before, fresh);
    CHECK(merged.refresh_token.reveal() == "CANARY-refresh");
    CHECK(merged.refresh_expires_at == t0 + minutes{40});
}

TEST_CASE("next_keep_alive refreshes a margin before the refresh token expires", "[refresh_policy]") {
    token_set t = tokens(minutes{5});
    t.refresh_expires_at = t0 + minutes{30};
    CHECK(next_keep_alive(t, t0, seconds{120}, seconds{60}) - t0 == minutes{28});
    // The margin is capped at half the session's remaining idle life.
    t.refresh_expires_at = t0 + seconds{100};
    CHECK(next_keep_alive(t, t0, seconds{120}, seconds{60}) - t0 == seconds{50});
}

TEST_CASE("next_keep_alive without a refresh expiry follows the access token expiry",
          "[refresh_policy]") {
    const token_set t = tokens(minutes{5});
    CHECK(next_keep_alive(t, t0, seconds{120}, seconds{60}) - t0 == minutes{4});
}

TEST_CASE("next_keep_alive with no expiry at all waits an hour", "[refresh_policy]") {
    token_set t = tokens(minutes{5});
    t.expires_at.reset();
    CHECK(next_keep_alive(t, t0 + minutes{7}, seconds{120}, seconds{60}) - t0 == minutes{67});
}

TEST_CASE("next_keep_alive is never before now", "[refresh_policy]") {
    token_set t = tokens(minutes{5});
    t.refresh_expires_at = t0 + minutes{30};
    const wall_time late = t0 + minutes{29};
    CHECK(next_keep_alive(t, late, seconds{120}, seconds{60}) == late);
    const wall_time after = t0 + hours{2};
    CHECK(next_keep_alive(t, after, seconds{120}, seconds{60}) == after);
    t.refresh_expires_at.reset();
    CHECK(next_keep_alive(t, after, seconds{120}, seconds{60}) == after);
}

TEST_CASE("next_session_step serves a fresh token and refreshes one within the margin "
          "(RFC 6749 §6)",
          "[refresh_policy]") {
    using devflow::detail::next_session_step;
    using devflow::detail::session_step;
    const auto t = tokens(seconds{300});
    CHECK(next_session_step(std::nullopt, t0, seconds{60}, false) == session_step::sign_in);
    CHECK(next_session_step(t, t0 + seconds{239}, seconds{60}, false) == session_step::serve);
    CHECK(next_session_step(t, t0 + seconds{241}, seconds{60}, false) == session_step::refresh);
    // In the backoff after a transient failure a still-valid token is served...
    CHECK(next_session_step(t, t0 + seconds{241}, seconds{60}, true) == session_step::serve);
    // ...but an expired one is refreshed whatever the backoff says.
    CHECK(next_session_step(t, t0 + seconds{301}, seconds{60}, true) == session_step::refresh);
    // Without a usable refresh token: served until it really expires.
    auto no_refresh = t;
    no_refresh.refresh_token.clear();
    CHECK(next_session_step(no_refresh, t0 + seconds{299}, seconds{60}, false) == session_step::serve);
    CHECK(next_session_step(no_refresh, t0 + seconds{300}, seconds{60}, false) == session_step::sign_in);
    auto dead_session = t;
    dead_session.refresh_expires_at = t0 + seconds{100};
    CHECK(next_session_step(dead_session, t0 + seconds{301}, seconds{60}, false) == session_step::sign_in);
}

TEST_CASE("a record that vanished or was replaced since the flow saw it means the session ended "
          "elsewhere (docs/security.md S2)",
          "[refresh_policy]") {
    using devflow::detail::session_ended_elsewhere;
    CHECK(session_ended_elsewhere(true, true, false));
    CHECK(session_ended_elsewhere(true, false, true));
    CHECK_FALSE(session_ended_elsewhere(true, false, false));  // still there
    CHECK_FALSE(session_ended_elsewhere(false, true, false));  // never saved: memory is all there is
}

TEST_CASE("keep-alive waits until the refresh is due and the pace allows one, and backs off "
          "30 s doubling to 5 min after failures",
          "[refresh_policy][keep_alive]") {
    using devflow::detail::keep_alive_wait;
    using devflow::detail::next_keep_alive_retry_wait;
    using std::chrono::steady_clock;
    CHECK(keep_alive_wait(t0 + seconds{10}, t0, steady_clock::duration::zero()) == seconds{10});
    CHECK(keep_alive_wait(t0, t0, steady_clock::duration::zero()) == steady_clock::duration::zero());
    CHECK(keep_alive_wait(t0 - seconds{5}, t0, std::chrono::milliseconds{400}) ==
          std::chrono::milliseconds{400});
    CHECK(devflow::detail::keep_alive_first_retry_wait == seconds{30});
    CHECK(next_keep_alive_retry_wait(seconds{30}) == seconds{60});
    CHECK(next_keep_alive_retry_wait(seconds{240}) == seconds{300});
    CHECK(next_keep_alive_retry_wait(seconds{300}) == seconds{300});
}

TEST_CASE("lifetimes count from the send less a second of server rounding "
          "(docs/design.md conservative expiry)",
          "[refresh_policy]") {
    CHECK(devflow::detail::lifetime_anchor(t0) == t0 - seconds{1});
    const std::chrono::steady_clock::time_point s0{hours{5}};
    CHECK(devflow::detail::device_code_deadline(s0, seconds{600}) == s0 + seconds{599});
}
