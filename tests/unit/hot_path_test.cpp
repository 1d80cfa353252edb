// The hot path of authorization_header() and access_token(): a header and a
// freshness deadline prepared when the cache is set (docs/performance.md).
// These check that what it serves always follows the cache.
#include "flow_fixture.hpp"

using namespace devflow_test;

TEST_CASE("after logout the next header comes from a new sign-in and never from memory",
          "[hot_path]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;
    auto flow = f.make_flow(cfg);
    const auto first = flow->authorization_header();
    CHECK(flow->logout());
    const auto second = flow->authorization_header();
    CHECK(second != first);
    CHECK(f.server.device_authorizations() == 2);
    CHECK(f.server.accepts(second.substr(7)));
}

TEST_CASE("authorization_header and access_token serve the same cached token with no request",
          "[hot_path]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const auto header = flow->authorization_header();
    const auto requests = f.http.requests().size();
    const devflow::secret token = flow->access_token();
    CHECK(header == "Bearer " + token.reveal());
    CHECK(flow->authorization_header() == header);
    CHECK(f.http.requests().size() == requests);
}

TEST_CASE("a token answer without expires_in is served from memory until the flow ends",
          "[hot_path]") {
    fixture f;
    // The first poll gets tokens with no expiry: RFC 6749 §5.1 makes expires_in optional.
    f.http.enqueue(f.server.token_endpoint(),
                   devflow::testing::respond(
                       200, R"({"access_token":"CANARY-no-expiry","token_type":"Bearer"})"));
    auto flow = f.make_flow();
    flow->login();
    CHECK(flow->authorization_header() == "Bearer CANARY-no-expiry");
    const auto requests = f.http.requests().size();
    f.clock.advance(std::chrono::hours{24 * 365});
    CHECK(flow->authorization_header() == "Bearer CANARY-no-expiry");
    CHECK(flow->access_token().reveal() == "CANARY-no-expiry");
    CHECK(f.http.requests().size() == requests);
}

TEST_CASE("a refreshed token replaces the cached header for every later call (RFC 6749 §6)",
          "[hot_path]") {
    fixture f;  // 300 s access tokens, default margin 60 s
    auto flow = f.make_flow();
    flow->login();
    const auto first = flow->authorization_header();
    f.clock.advance(241s);
    const auto second = flow->authorization_header();
    REQUIRE(second != first);
    for (int i = 0; i < 10; ++i) CHECK(flow->authorization_header() == second);
    CHECK(flow->access_token().reveal() == second.substr(7));
    CHECK(f.refreshes().size() == 1);
}

namespace {
/// fake_clock with the coarse_clock capability, reading `lag` behind now().
struct coarse_fake_clock : devflow::testing::fake_clock {
    std::shared_ptr<std::chrono::milliseconds> lag = std::make_shared<std::chrono::milliseconds>(0);
    [[nodiscard]] std::chrono::system_clock::time_point coarse_now() const { return now() - *lag; }
};
static_assert(devflow::coarse_clock<coarse_fake_clock>);
static_assert(devflow::coarse_clock<devflow::system_clock>);
static_assert(!devflow::coarse_clock<devflow::testing::fake_clock>);
}  // namespace

TEST_CASE("with a coarse clock the hot path trusts coarse_now only a second before the refresh time",
          "[hot_path]") {
    devflow::testing::fake_clock base;
    coarse_fake_clock clock{base};
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server(http, clock);
    devflow::device_flow<devflow::testing::fake_http, devflow::nlohmann_json, devflow::memory_store,
                         coarse_fake_clock, devflow::testing::recording_browser>
        flow(server.config(), http, devflow::nlohmann_json{}, devflow::memory_store{}, clock,
             devflow::testing::recording_browser{});
    flow.on_prompt([](const devflow::prompt_info&) {});
    flow.login();
    const auto first = flow.authorization_header();
    const auto requests = http.requests().size();
    // 300 s tokens anchored a second early, 60 s margin: refreshed from 239 s.
    // Within a second of that time an accurate coarse clock is not enough:
    // now() is asked, and says fresh.
    clock.advance(238500ms);
    CHECK(flow.authorization_header() == first);
    CHECK(http.requests().size() == requests);
    // A coarse clock 10 s slow (absurdly) is believed: the hot path reads it.
    *clock.lag = 10s;
    clock.advance(1s);
    CHECK(flow.authorization_header() == first);
    CHECK(http.requests().size() == requests);
    // An accurate one past the time: refreshed.
    *clock.lag = 0s;
    const auto second = flow.authorization_header();
    CHECK(second != first);
    CHECK(http.requests().size() == requests + 1);
    CHECK(server.accepts(second.substr(7)));
}
