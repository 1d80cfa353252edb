// Token lifecycle (RFC 6749 §5.1, §6): the cache, proactive refresh,
// rotation, invalid_grant handling, transient failures, session end.
#include "flow_fixture.hpp"

#include <atomic>

using namespace devflow_test;
using devflow::errc;
using devflow::testing::respond;
using devflow::testing::transport_failure;

namespace {

/// The record bytes the store holds for `flow`.
std::string stored(fixture& f, test_flow& flow) {
    const auto bytes = f.store.load(flow.store_key());
    return bytes ? bytes->reveal() : std::string{};
}

/// Builds a stored record as another process would write it.
devflow::secret sibling_record(const devflow::client_config& cfg, std::string access,
                               std::string refresh, devflow::testing::fake_clock& clock) {
    devflow::token_set t;
    t.access_token = devflow::secret{std::move(access)};
    t.token_type = "Bearer";
    t.refresh_token = devflow::secret{std::move(refresh)};
    t.obtained_at = clock.now();
    t.expires_at = clock.now() + 300s;
    t.refresh_expires_at = clock.now() + 1800s;
    const auto json = devflow::detail::record_to_json(devflow::detail::identity_of(cfg), t, {});
    return devflow::secret{devflow::nlohmann_json{}.write(json)};
}

}  // namespace

TEST_CASE("a fresh access token is served from memory with no request", "[refresh]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const auto first = flow->authorization_header();
    const auto requests = f.http.requests().size();
    f.clock.advance(200s);
    for (int i = 0; i < 100; ++i) CHECK(flow->authorization_header() == first);
    CHECK(f.http.requests().size() == requests);
    CHECK(first.rfind("Bearer CANARY-access-", 0) == 0);
}

TEST_CASE("a second flow sharing the store reuses the record with no request (docs/design.md §2)",
          "[refresh]") {
    fixture f;
    auto first = f.make_flow();
    first->login();
    const auto header = first->authorization_header();
    const auto requests = f.http.requests().size();
    auto second = f.make_flow();
    CHECK(second->authorization_header() == header);
    CHECK(f.http.requests().size() == requests);
}

TEST_CASE("the access token is refreshed once it is within the margin of expiry (RFC 6749 §6)",
          "[refresh]") {
    fixture f;  // 300 s access tokens, default margin 60 s
    auto flow = f.make_flow();
    flow->login();
    const auto first = flow->authorization_header();
    const auto login_done = f.clock.elapsed();
    // Expiry counts from the poll's send less a second of server rounding
    // (docs/design.md): 299 s from now.
    f.clock.advance(238s);  // 61 s left: still fresh
    CHECK(flow->authorization_header() == first);
    CHECK(f.refreshes().empty());
    f.clock.advance(2s);  // 59 s left: inside the margin
    const auto second = flow->authorization_header();
    CHECK(second != first);
    const auto refreshes = f.refreshes();
    REQUIRE(refreshes.size() == 1);
    CHECK(refreshes[0].since_start - login_done == 240s);
    CHECK(refreshes[0].field("refresh_token").rfind("CANARY-refresh-", 0) == 0);
    CHECK(refreshes[0].field("client_id") == "devflow-cli");
    CHECK_FALSE(refreshes[0].has_field("scope"));
    CHECK(f.server.accepts(second.substr(7)));
}

TEST_CASE("the refresh margin is configurable and capped at half the token lifetime", "[refresh]") {
    devflow::testing::server_options o;
    o.access_token_lifetime = 60s;
    fixture f{o};
    auto cfg = f.server.config();
    cfg.refresh_margin = 300s;  // larger than the token's whole life
    auto flow = f.make_flow(cfg);
    flow->login();
    const auto first = flow->authorization_header();
    f.clock.advance(28s);  // the token expires 59 s from now (60 s less a second of rounding)
    CHECK(flow->authorization_header() == first);  // capped at 30 s: still fresh
    f.clock.advance(2s);
    CHECK(flow->authorization_header() != first);
    CHECK(f.refreshes().size() == 1);
}

TEST_CASE("a rotated refresh token is stored and the old one never sent again (RFC 6749 §6)",
          "[refresh]") {
    fixture f;  // rotation on
    auto flow = f.make_flow();
    const auto t1 = flow->login();
    const std::string rt1 = t1.refresh_token.reveal();
    f.clock.advance(250s);
    flow->authorization_header();
    const auto record = stored(f, *flow);
    CHECK(record.find(rt1) == std::string::npos);
    const auto t2 = flow->stored_tokens();
    REQUIRE(t2);
    CHECK(t2->refresh_token.reveal() != rt1);
    f.clock.advance(250s);
    flow->authorization_header();
    const auto refreshes = f.refreshes();
    REQUIRE(refreshes.size() == 2);
    CHECK(refreshes[0].field("refresh_token") == rt1);
    CHECK(refreshes[1].field("refresh_token") == t2->refresh_token.reveal());
    CHECK(f.server.successful_refreshes() == 2);
}

TEST_CASE("a refresh answer without a refresh token keeps the old one (RFC 6749 §6)", "[refresh]") {
    devflow::testing::server_options o;
    o.rotate_refresh_tokens = false;
    fixture f{o};
    auto flow = f.make_flow();
    const auto rt = flow->login().refresh_token.reveal();
    for (int i = 0; i < 3; ++i) {
        f.clock.advance(250s);
        flow->authorization_header();
        const auto now_stored = flow->stored_tokens();
        REQUIRE(now_stored);
        CHECK(now_stored->refresh_token.reveal() == rt);
    }
    CHECK(f.server.successful_refreshes() == 3);
    for (const auto& r : f.refreshes()) CHECK(r.field("refresh_token") == rt);
}

TEST_CASE("invalid_grant with a sibling's newer record uses that record (RFC 6749 §5.2)",
          "[refresh]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    f.clock.advance(250s);
    // While our refresh is on the wire, another process rotates the token and
    // writes its record; the server then rejects our (old) refresh token.
    std::atomic<bool> armed{true};
    const auto cfg = f.server.config();
    f.http.set_latency(1s);
    f.clock.on_advance([&](auto) {
        if (armed.exchange(false))
            f.store.save(flow->store_key(),
                         sibling_record(cfg, "CANARY-sibling-access", "CANARY-sibling-refresh", f.clock));
    });
    f.http.enqueue(cfg.token_endpoint, respond(400, R"({"error":"invalid_grant"})"));
    CHECK(flow->authorization_header() == "Bearer CANARY-sibling-access");
    CHECK(f.server.device_authorizations() == 1);  // no new sign-in
    CHECK(f.refreshes().size() == 1);
    CHECK(stored(f, *flow).find("CANARY-sibling-refresh") != std::string::npos);
}

TEST_CASE("invalid_grant without a newer record ends the session and signs in again (RFC 6749 §5.2)",
          "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;  // a dead session signs in again
    auto flow = f.make_flow(cfg);
    const auto first = flow->authorization_header();
    f.server.end_all_sessions();
    f.clock.advance(250s);
    const auto second = flow->authorization_header();
    CHECK(second != first);
    CHECK(f.server.device_authorizations() == 2);
    CHECK(f.refreshes().size() == 1);
    CHECK(f.server.accepts(second.substr(7)));
    CHECK_FALSE(f.warnings.empty());
}

TEST_CASE("invalid_grant with session_end raise throws reauth_required and erases the dead record",
          "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    auto login_flow = f.make_flow(cfg);
    login_flow->login();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    f.server.end_all_sessions();
    f.clock.advance(250s);
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
    CHECK(f.server.device_authorizations() == 1);
    CHECK_FALSE(f.store.load(flow->store_key()));
    // login() is the explicit way back in.
    flow->login();
    CHECK(f.server.device_authorizations() == 2);
}

TEST_CASE("session_end raise never prompts on first use", "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto flow = f.make_flow(cfg);
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
    CHECK(f.http.requests().empty());
    CHECK(f.prompts.empty());
}

TEST_CASE("a transient refresh failure keeps everything and serves the still-valid token (docs/design.md §2)",
          "[refresh]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const auto first = flow->authorization_header();
    const auto record_before = stored(f, *flow);
    const auto cfg = f.server.config();
    f.clock.advance(250s);  // inside the margin, 50 s before expiry
    f.http.enqueue(cfg.token_endpoint, transport_failure());
    f.http.enqueue(cfg.token_endpoint, respond(503, "<html>maintenance</html>"));
    CHECK(flow->authorization_header() == first);
    // For the next 10 s callers are served without hammering the failing server.
    for (int i = 0; i < 50; ++i) CHECK(flow->authorization_header() == first);
    CHECK(f.refreshes().size() == 1);
    f.clock.advance(10s);
    CHECK(flow->authorization_header() == first);
    CHECK(f.refreshes().size() == 2);
    CHECK(stored(f, *flow) == record_before);
    CHECK(f.warnings.size() >= 2);
    // Once expired with the server still down: a clear error, record intact.
    f.clock.advance(50s);
    f.http.enqueue(cfg.token_endpoint, transport_failure(devflow::transport_error::timeout, "timed out"));
    expect_error([&] { flow->authorization_header(); }, errc::transport_failed);
    CHECK(stored(f, *flow) == record_before);
    // The server comes back: the kept refresh token still works, no new sign-in.
    const auto after = flow->authorization_header();
    CHECK(after != first);
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.server.successful_refreshes() == 1);
}

TEST_CASE("an invalid_client on refresh is a configuration error and keeps the record", "[refresh]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const auto record_before = stored(f, *flow);
    f.clock.advance(400s);
    f.http.enqueue(f.server.token_endpoint(), respond(401, R"({"error":"invalid_client"})"));
    const auto e = expect_error([&] { flow->authorization_header(); }, errc::invalid_client);
    CHECK(e.http_status() == 401);
    CHECK(stored(f, *flow) == record_before);
}

TEST_CASE("records for another issuer or client are never used and never replaced (docs/design.md §3)",
          "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    auto other = cfg;
    other.issuer = "https://evil.example.com/realms/test";
    SECTION("another issuer's record under our key") {
        f.store.save(devflow::detail::store_key(devflow::detail::identity_of(cfg)),
                     sibling_record(other, "CANARY-foreign-access", "CANARY-foreign-refresh", f.clock));
    }
    SECTION("another client's record under our key") {
        other = cfg;
        other.client_id = "someone-else";
        f.store.save(devflow::detail::store_key(devflow::detail::identity_of(cfg)),
                     sibling_record(other, "CANARY-foreign-access", "CANARY-foreign-refresh", f.clock));
    }
    SECTION("a record for other scopes under our key") {
        other = cfg;
        other.scopes = {"admin"};
        f.store.save(devflow::detail::store_key(devflow::detail::identity_of(cfg)),
                     sibling_record(other, "CANARY-foreign-access", "CANARY-foreign-refresh", f.clock));
    }
    const auto key = devflow::detail::store_key(devflow::detail::identity_of(cfg));
    const auto before = f.store.load(key)->reveal();
    auto flow = f.make_flow(cfg);
    // Not used: nothing to serve without a sign-in.
    expect_error([&] { flow->authorization_header(); }, errc::reauth_required);
    // Not replaced: signing in would overwrite another session, so it is refused
    // naming whose session it is.
    const auto e = expect_error([&] { flow->login(); }, errc::invalid_config);
    CHECK(std::string(e.what()).find("already holds the session of client") != std::string::npos);
    CHECK(f.http.requests().empty());
    CHECK(f.store.load(key)->reveal() == before);
    // Nor erased by this client's logout.
    CHECK_FALSE(flow->logout());
    CHECK(f.store.load(key)->reveal() == before);
}

TEST_CASE("the store key separates issuers clients and scope sets but not scope order (docs/design.md §3)",
          "[refresh]") {
    fixture f;
    auto a = f.server.config({"openid", "profile"});
    auto b = f.server.config({"profile", "openid"});
    auto c = f.server.config({"openid"});
    auto d = a;
    d.client_id = "other";
    CHECK(f.make_flow(a)->store_key() == f.make_flow(b)->store_key());
    CHECK(f.make_flow(a)->store_key() != f.make_flow(c)->store_key());
    CHECK(f.make_flow(a)->store_key() != f.make_flow(d)->store_key());
}

TEST_CASE("a corrupt stored record is set aside with a warning and treated as absent (docs/design.md §3)",
          "[refresh]") {
    fixture f;
    auto flow = f.make_flow();
    f.store.save(flow->store_key(), devflow::secret{"{\"devflow_record\":1,\"access_tok"});
    const auto header = "Bearer " + flow->login().access_token.reveal();
    CHECK(header.rfind("Bearer CANARY-access-", 0) == 0);
    CHECK(f.server.device_authorizations() == 1);
    REQUIRE_FALSE(f.warnings.empty());
    CHECK(f.warnings[0].find("corrupt") != std::string::npos);
}

TEST_CASE("insecure endpoints are refused before any request (docs/design.md §3)", "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.token_endpoint = "http://auth.example.com/token";
    expect_error([&] { f.make_flow(cfg); }, errc::insecure_endpoint);
    cfg.token_endpoint = "http://127.0.0.1:8080/token";
    cfg.device_authorization_endpoint = "http://localhost:8080/device";
    CHECK_NOTHROW(f.make_flow(cfg));
    cfg.revocation_endpoint = "http://auth.example.com/revoke";
    expect_error([&] { f.make_flow(cfg); }, errc::insecure_endpoint);
    cfg.insecure_allow_http_for_non_loopback_hosts = true;
    CHECK_NOTHROW(f.make_flow(cfg));
    CHECK(f.http.requests().empty());
}

TEST_CASE("a config without client_id or with a repeated protocol parameter is refused", "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.client_id.clear();
    expect_error([&] { f.make_flow(cfg); }, errc::invalid_config);
    cfg = f.server.config();
    cfg.extra_parameters = {{"scope", "admin"}};
    expect_error([&] { f.make_flow(cfg); }, errc::invalid_config);
    cfg = f.server.config({"openid profile"});
    expect_error([&] { f.make_flow(cfg); }, errc::invalid_config);
}

TEST_CASE("without a refresh token the access token is served until it expires then the user signs in again",
          "[refresh]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;
    f.http.enqueue(cfg.device_authorization_endpoint,
                   respond(200, R"({"device_code":"CANARY-dc","user_code":"ABCD-EFGH",)"
                                R"("verification_uri":"https://auth.example.com/device","expires_in":600})"));
    f.http.enqueue(cfg.token_endpoint,
                   respond(200, R"({"access_token":"CANARY-only-access","token_type":"Bearer","expires_in":300})"));
    auto flow = f.make_flow(cfg);
    CHECK(flow->authorization_header() == "Bearer CANARY-only-access");
    f.clock.advance(290s);  // inside the margin, nothing to refresh with
    CHECK(flow->authorization_header() == "Bearer CANARY-only-access");
    CHECK(f.refreshes().empty());
    f.clock.advance(11s);  // expired: a new sign-in (the fake server's own flow)
    CHECK(flow->authorization_header().rfind("Bearer CANARY-access-", 0) == 0);
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("no flow sends more than one refresh request a second whatever expires_in says "
          "(docs/security.md S3)",
          "[refresh][security]") {
    devflow::testing::server_options o;
    o.access_token_lifetime = 0s;  // every token is born expired
    fixture f(o);
    auto flow = f.make_flow();
    flow->login();
    for (int i = 0; i < 10; ++i) {
        const auto header = flow->authorization_header();
        CHECK(header.rfind("Bearer CANARY-access-", 0) == 0);
    }
    const auto refreshes = f.refreshes();
    REQUIRE(refreshes.size() >= 9);
    CHECK(refreshes.size() <= 10);
    for (std::size_t i = 1; i < refreshes.size(); ++i)
        CHECK(refreshes[i].since_start - refreshes[i - 1].since_start >= 1s);
}

namespace {
/// A memory_store that cannot be read while `down` is set: a disk error, an
/// etcd cluster that is down, a locked keyring.
struct unreadable_store {
    devflow::memory_store inner;
    std::shared_ptr<bool> down = std::make_shared<bool>(false);
    std::optional<devflow::secret> load(std::string_view key) {
        if (*down) throw devflow::error(errc::storage_failed, "the test store is down");
        return inner.load(key);
    }
    void save(std::string_view key, const devflow::secret& record) { inner.save(key, record); }
    void erase(std::string_view key) { inner.erase(key); }
    auto lock(std::string_view key, std::stop_token stop = {}) { return inner.lock(key, std::move(stop)); }
};
}  // namespace

TEST_CASE("a store that cannot be read is an error for the caller and never a new sign-in over the "
          "session",
          "[refresh][storage]") {
    fixture f;
    unreadable_store store{f.store};
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;  // would sign in if it thought none was left
    auto flow = f.make_flow_with(store, cfg);
    flow->login();
    const auto requests = f.http.requests().size();
    f.clock.advance(250s);  // inside the margin: the next call reads the store to refresh
    *store.down = true;
    const auto e = expect_error([&] { flow->authorization_header(); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("the test store is down") != std::string::npos);
    expect_error([&] { flow->login(); }, errc::storage_failed);
    CHECK(f.http.requests().size() == requests);  // no refresh, no device authorization
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
    // Back up: the session carries on with the record it had.
    *store.down = false;
    const auto header = flow->authorization_header();
    CHECK(f.server.accepts(header.substr(7)));
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("a record written by a newer devflow is reported and left untouched and never set aside "
          "or re-prompted (docs/security.md S13)",
          "[refresh][security]") {
    fixture f;
    auto flow = f.make_flow();
    const std::string newer =
        R"({"devflow_record":2,"sealed":"AES-GCM...","issuer":"https://auth.example.com/realms/test"})";
    f.store.save(flow->store_key(), devflow::secret{newer});
    const auto e = expect_error([&] { flow->authorization_header(); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("newer version of devflow") != std::string::npos);
    expect_error([&] { flow->login(); }, errc::storage_failed);
    REQUIRE(f.store.load(flow->store_key()));
    CHECK(f.store.load(flow->store_key())->reveal() == newer);
    CHECK(f.http.requests().empty());
    CHECK(f.prompts.empty());
}

TEST_CASE("a refused access token is refreshed at once however fresh it looks (RFC 6750 §3.1)",
          "[refresh][refused]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const devflow::secret refused = flow->access_token();
    f.clock.advance(10s);  // fresh for another 289 s
    const devflow::token_set fresh = flow->refresh_refused(refused);
    CHECK_FALSE(fresh.access_token == refused);
    CHECK(f.refreshes().size() == 1);
    CHECK(f.server.accepts(fresh.access_token.reveal()));
    // The flow and the store serve the new token from now on, with no request.
    CHECK(flow->access_token() == fresh.access_token);
    CHECK(stored(f, *flow).find(fresh.access_token.reveal()) != std::string::npos);
    CHECK(f.refreshes().size() == 1);
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("a refused token another process already replaced costs no request", "[refresh][refused]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const devflow::secret refused = flow->access_token();
    auto sibling = f.make_flow();
    f.clock.advance(2s);
    const auto replaced = sibling->refresh_refused(refused);
    CHECK(f.refreshes().size() == 1);
    // The first flow learns of the refusal too late: the store already holds a new token.
    const auto got = flow->refresh_refused(refused);
    CHECK(got.access_token == replaced.access_token);
    CHECK(f.refreshes().size() == 1);
    // A token that was never the stored one changes nothing either.
    CHECK(flow->refresh_refused(devflow::secret{"CANARY-unknown"}).access_token == replaced.access_token);
    CHECK(f.refreshes().size() == 1);
}

TEST_CASE("a refused token with the session over is reauth_required and never a prompt",
          "[refresh][refused]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;
    auto flow = f.make_flow(cfg);
    flow->login();
    const devflow::secret refused = flow->access_token();
    f.server.end_all_sessions();
    f.clock.advance(2s);
    expect_error([&] { (void)flow->refresh_refused(refused); }, errc::reauth_required);
    CHECK(f.prompts.size() == 1);  // only login's
    CHECK(f.server.device_authorizations() == 1);
    CHECK_FALSE(f.store.load(flow->store_key()));
    auto empty = f.make_flow();
    expect_error([&] { (void)empty->refresh_refused(refused); }, errc::reauth_required);
}
