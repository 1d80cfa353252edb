// logout(): RFC 7009 revocation, then the record is erased.
#include "flow_fixture.hpp"

using namespace devflow_test;

TEST_CASE("logout revokes the refresh token then the access token then erases the record (RFC 7009 §2.1)",
          "[logout]") {
    fixture f;
    auto flow = f.make_flow();
    const auto t = flow->login();
    CHECK(f.server.accepts(t.access_token.reveal()));
    CHECK(flow->logout());
    const auto revocations = f.http.requests_to(f.server.revocation_endpoint());
    REQUIRE(revocations.size() == 2);
    CHECK(revocations[0].field("token") == t.refresh_token.reveal());
    CHECK(revocations[0].field("token_type_hint") == "refresh_token");
    CHECK(revocations[0].field("client_id") == "devflow-cli");
    CHECK(revocations[1].field("token") == t.access_token.reveal());
    CHECK(revocations[1].field("token_type_hint") == "access_token");
    CHECK_FALSE(f.store.load(flow->store_key()));
    CHECK_FALSE(f.server.accepts(t.access_token.reveal()));
    // The next use finds no session; login() signs in again.
    devflow_test::expect_error([&] { flow->authorization_header(); }, devflow::errc::reauth_required);
    flow->login();
    CHECK(f.server.device_authorizations() == 2);
}

TEST_CASE("logout erases the record even when the server cannot be reached", "[logout]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    f.http.enqueue(f.server.revocation_endpoint(), devflow::testing::transport_failure());
    CHECK_FALSE(flow->logout());
    CHECK_FALSE(f.store.load(flow->store_key()));
    CHECK_FALSE(f.warnings.empty());
}

TEST_CASE("logout without a revocation endpoint only erases the record", "[logout]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.revocation_endpoint.clear();
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK_FALSE(flow->logout());
    CHECK(f.http.requests_to(f.server.revocation_endpoint()).empty());
    CHECK_FALSE(f.store.load(flow->store_key()));
}
