// The Keycloak field report (docs/keycloak.md): no unattended prompt loop,
// expiry anchored conservatively against a server that counts in whole
// seconds, and the default that serves a library. In virtual time against
// the fake server playing Keycloak's rules.
#include "flow_fixture.hpp"

using namespace devflow_test;
using devflow::errc;

namespace {

devflow::client_config interactive(const fixture& f) {
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;
    return cfg;
}

}  // namespace

TEST_CASE("the default session_end is raise so authorization_header never prompts on its own "
          "(docs/design.md defaults)",
          "[keycloak]") {
    CHECK(devflow::client_config{}.session_end == devflow::on_session_end::raise);
    fixture f;
    auto flow = f.make_flow();
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
    expect_error([&] { (void)flow->access_token(); }, errc::reauth_required);
    CHECK(f.http.requests().empty());
    CHECK(f.prompts.empty());
    flow->login();  // the explicit way in
    CHECK(flow->authorization_header().rfind("Bearer CANARY-access-", 0) == 0);
}

TEST_CASE("after a sign-in that expired unapproved later calls fail at once until login() "
          "(docs/keycloak.md no unattended prompt loop)",
          "[keycloak]") {
    devflow::testing::server_options o;
    o.device_code_lifetime = 20s;
    o.approve_on_poll = 1000;  // nobody is there to approve
    fixture f(o);
    auto flow = f.make_flow(interactive(f));
    expect_error([&] { flow->authorization_header(); }, errc::expired_token);
    REQUIRE(f.server.device_authorizations() == 1);
    REQUIRE(f.prompts.size() == 1);

    // Every later call fails at once: no new code, no prompt, no time spent.
    const auto after_first = f.clock.elapsed();
    for (int i = 0; i < 3; ++i) {
        const auto e = expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
        CHECK(std::string(e.what()).find("call login()") != std::string::npos);
        expect_error([&] { (void)flow->access_token(); }, errc::reauth_required);
    }
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
    CHECK(f.clock.elapsed() == after_first);

    // login() is the program's explicit decision to ask again.
    f.server.approve_on_poll(2);
    flow->login();
    CHECK(f.server.device_authorizations() == 2);
    CHECK(flow->authorization_header().rfind("Bearer CANARY-access-", 0) == 0);
}

TEST_CASE("after a denied sign-in later calls fail at once until login() "
          "(docs/keycloak.md no unattended prompt loop)",
          "[keycloak]") {
    fixture f;
    f.server.deny();
    auto flow = f.make_flow(interactive(f));
    expect_error([&] { flow->authorization_header(); }, errc::access_denied);
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
}

TEST_CASE("no token is handed out within the margin of its real expiry when the server counts "
          "in whole seconds (docs/keycloak.md conservative expiry)",
          "[keycloak]") {
    // The field report: 3-second tokens, 6-second idle and 20-second maximum
    // sessions, a server that rounds to whole seconds, answers that take 0.3 s.
    devflow::testing::server_options o;
    o.access_token_lifetime = 3s;
    o.session_idle = 6s;
    o.session_max = 20s;
    o.whole_seconds = true;
    o.interval = 1s;
    o.approve_on_poll = 1;
    for (const auto start : {100ms, 350ms, 700ms, 950ms}) {
        INFO("sign-in starts " << start.count() << " ms into a second");
        fixture f(o);
        f.http.set_latency(300ms);
        f.clock.advance(start);
        auto cfg = f.server.config();
        cfg.refresh_margin = 1s;
        auto flow = f.make_flow(cfg);
        flow->login();
        double least_left = 1e9;
        // 25 calls 0.37 s apart (plus 0.3 s per refresh): within the 20 s maximum.
        for (int i = 0; i < 25; ++i) {
            f.clock.advance(370ms);
            const std::string header = flow->authorization_header();
            const auto expiry = f.server.access_token_expiry(header.substr(7));
            REQUIRE(expiry);
            least_left = std::min(least_left,
                                  std::chrono::duration<double>(*expiry - f.clock.now()).count());
        }
        INFO("least real lifetime left in a token handed out: " << least_left << " s");
        CHECK(least_left >= 1.0);  // the whole refresh margin
        CHECK(f.server.device_authorizations() == 1);
    }
}

TEST_CASE("no poll reaches the server after the device code died when the server counts in "
          "whole seconds (RFC 8628 §3.5; docs/keycloak.md conservative expiry)",
          "[keycloak][poll]") {
    int polls = 0;
    for (int lifetime = 10; lifetime <= 31; lifetime += 3) {
        for (int tenth = 0; tenth < 10; ++tenth) {
            INFO("device code lifetime " << lifetime << " s, start " << tenth << "/10 s into a second");
            devflow::testing::server_options o;
            o.device_code_lifetime = std::chrono::seconds{lifetime};
            o.interval = 5s;
            o.whole_seconds = true;
            o.approve_on_poll = 1000;
            fixture f(o);
            f.http.set_latency(400ms);
            f.clock.advance(std::chrono::milliseconds{tenth * 100 + 50});
            auto flow = f.make_flow();
            expect_error([&] { flow->login(); }, errc::expired_token);
            polls += f.server.polls();
            CHECK(f.server.polls_after_expiry() == 0);
        }
    }
    CHECK(polls > 100);  // the sweep did poll
}
