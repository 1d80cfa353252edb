// The keep-alive refresher (docs/design.md §2): Keycloak ends a session after 30
// idle minutes, long before its 10-hour maximum; refreshing before the idle
// limit keeps it alive to the maximum, without a user, in virtual time.
#include "flow_fixture.hpp"

using namespace devflow_test;
using devflow::errc;

TEST_CASE("without keep-alive a session idle for 31 minutes is over (the Keycloak problem)",
          "[keep_alive]") {
    fixture f;  // 5 min tokens, 30 min idle, 10 h max
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    flow->login();
    f.clock.advance(31min);
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
}

TEST_CASE("keep-alive keeps a 30-minute-idle session alive for 10 simulated hours (docs/design.md §2)",
          "[keep_alive]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    flow->login();
    const auto signed_in = f.clock.elapsed();

    std::stop_source stop;
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed > 11h) stop.request_stop();  // safety net; keep_alive ends by itself
    });
    flow->keep_alive(stop.get_token());

    // It returned by itself because the server's 10-hour maximum ended the session.
    CHECK_FALSE(stop.stop_requested());
    // Lifetimes count from each request's send less a second of server
    // rounding (docs/design.md), so the end is seen up to a second early.
    CHECK(f.clock.elapsed() - signed_in >= 10h - 1s);
    CHECK(f.clock.elapsed() - signed_in < 10h + 1min);
    const auto refreshes = f.refreshes();
    REQUIRE(refreshes.size() >= 20);
    CHECK(refreshes.front().since_start - signed_in < 30min);
    for (std::size_t i = 1; i < refreshes.size(); ++i)
        CHECK(refreshes[i].since_start - refreshes[i - 1].since_start < 30min);
    CHECK(f.server.successful_refreshes() == static_cast<int>(refreshes.size()));
    CHECK(refreshes.back().since_start - signed_in > 9h + 50min);
    CHECK(f.server.device_authorizations() == 1);
    CHECK_FALSE(f.warnings.empty());  // it said the session ended
}

TEST_CASE("keep-alive serves fresh headers throughout and stops when asked", "[keep_alive]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    flow->login();
    std::stop_source stop;
    int hours_checked = 0;
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed >= std::chrono::hours{hours_checked + 1} && hours_checked < 5) {
            ++hours_checked;
            // What a request handler in the program would do at this moment.
            const auto stored = flow->stored_tokens();
            REQUIRE(stored);
            CHECK(devflow::detail::refresh_token_usable(*stored, f.clock.now()));
        }
        if (elapsed > 5h) stop.request_stop();
    });
    flow->keep_alive(stop.get_token());
    CHECK(hours_checked == 5);
    CHECK(stop.stop_requested());
    CHECK(f.server.device_authorizations() == 1);
    CHECK_NOTHROW(flow->authorization_header());
}

TEST_CASE("keep-alive retries a transient failure and keeps the session", "[keep_alive]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    flow->login();
    f.http.enqueue(f.server.token_endpoint(), devflow::testing::transport_failure());
    std::stop_source stop;
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed > 2h) stop.request_stop();
    });
    flow->keep_alive(stop.get_token());
    CHECK(f.server.successful_refreshes() >= 4);
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("keep-alive never refreshes more than once a second and warns once and always moves "
          "time on when the server leaves it no room (docs/security.md S3)",
          "[keep_alive][security]") {
    devflow::testing::server_options o;
    o.access_token_lifetime = 0s;       // expires_in: 0
    o.send_refresh_expires_in = false;  // and no idle limit to plan by
    fixture f(o);
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    flow->login();
    const auto signed_in = f.clock.elapsed();

    std::stop_source stop;
    int refreshed = 0;
    flow->on_log([&](devflow::log_level level, std::string_view line) {
        if (level == devflow::log_level::warning) f.warnings.emplace_back(line);
        // A safety net for a flow without a pace: it would never move time on.
        if (line.find("refreshed") != std::string_view::npos && ++refreshed >= 500) stop.request_stop();
    });
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed - signed_in >= 60s) stop.request_stop();
    });
    flow->keep_alive(stop.get_token());

    const auto refreshes = f.refreshes();
    CHECK(f.clock.elapsed() - signed_in >= 60s);  // time moved on
    CHECK(refreshes.size() <= 61);
    REQUIRE(refreshes.size() >= 2);
    for (std::size_t i = 1; i < refreshes.size(); ++i)
        CHECK(refreshes[i].since_start - refreshes[i - 1].since_start >= 1s);
    int no_room = 0;
    for (const auto& w : f.warnings) no_room += w.find("no room") != std::string::npos ? 1 : 0;
    CHECK(no_room == 1);
}
