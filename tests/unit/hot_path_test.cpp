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
