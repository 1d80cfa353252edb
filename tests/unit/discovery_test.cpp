// Discovery (OpenID Connect Discovery 1.0, RFC 8414), the cached config, and
// the Keycloak realm helper, driven through fake_http.
#include "flow_fixture.hpp"

#include <devflow/discovery.hpp>

using namespace devflow_test;
using devflow::errc;
using devflow::testing::fake_http;
using devflow::testing::respond;

namespace {

constexpr const char* issuer = "https://auth.example.com/realms/test";
constexpr const char* openid_url =
    "https://auth.example.com/realms/test/.well-known/openid-configuration";
constexpr const char* oauth_url =
    "https://auth.example.com/.well-known/oauth-authorization-server/realms/test";

/// A metadata document like Keycloak's, for `iss`, with `extra` members appended.
std::string document(const std::string& iss, const std::string& extra = {}) {
    const std::string base = "https://auth.example.com/realms/test/protocol/openid-connect";
    return R"({"issuer":")" + iss + R"(","token_endpoint":")" + base +
           R"(/token","device_authorization_endpoint":")" + base +
           R"(/auth/device","grant_types_supported":["authorization_code","refresh_token",)"
           R"("urn:ietf:params:oauth:grant-type:device_code"],"scopes_supported":["openid","profile"])" +
           extra + "}";
}

struct discovery_fixture {
    devflow::testing::fake_clock clock;
    fake_http http{clock};
    devflow::nlohmann_json json;
};

}  // namespace

TEST_CASE("the openid-configuration URL appends the well-known path to the issuer (OIDC Discovery §4)",
          "[discovery]") {
    const auto urls = devflow::detail::metadata_locations(issuer);
    REQUIRE(urls.size() == 2);
    CHECK(urls[0].url == openid_url);
    CHECK(urls[0].source == devflow::metadata_source::openid_configuration);
}

TEST_CASE("the oauth-authorization-server URL inserts the well-known segment before the issuer path (RFC 8414 §3)",
          "[discovery]") {
    const auto urls = devflow::detail::metadata_locations(issuer);
    REQUIRE(urls.size() == 2);
    CHECK(urls[1].url == oauth_url);
    CHECK(urls[1].source == devflow::metadata_source::oauth_authorization_server);
}

TEST_CASE("an issuer without a path gets both well-known URLs at the root", "[discovery]") {
    const auto urls = devflow::detail::metadata_locations("https://login.example.org");
    REQUIRE(urls.size() == 2);
    CHECK(urls[0].url == "https://login.example.org/.well-known/openid-configuration");
    CHECK(urls[1].url == "https://login.example.org/.well-known/oauth-authorization-server");
}

TEST_CASE("a terminating slash of the issuer is removed before the well-known path (RFC 8414 §3.1)",
          "[discovery]") {
    const auto urls = devflow::detail::metadata_locations("https://a.example/tenant/");
    CHECK(urls[0].url == "https://a.example/tenant/.well-known/openid-configuration");
    CHECK(urls[1].url == "https://a.example/.well-known/oauth-authorization-server/tenant");
    const auto root = devflow::detail::metadata_locations("http://127.0.0.1:8080/");
    CHECK(root[0].url == "http://127.0.0.1:8080/.well-known/openid-configuration");
    CHECK(root[1].url == "http://127.0.0.1:8080/.well-known/oauth-authorization-server");
}

TEST_CASE("an issuer with a query or fragment is refused (RFC 8414 §2)", "[discovery]") {
    expect_error([] { devflow::detail::metadata_locations("https://a.example/x?tenant=1"); },
                 errc::invalid_config);
    expect_error([] { devflow::detail::metadata_locations("https://a.example/x#frag"); },
                 errc::invalid_config);
    expect_error([] { devflow::detail::metadata_locations(""); }, errc::invalid_config);
    expect_error([] { devflow::detail::metadata_locations("not a url"); }, errc::invalid_config);
}

TEST_CASE("an http issuer is refused unless it is a loopback host", "[discovery]") {
    expect_error([] { devflow::detail::metadata_locations("http://auth.example.com/realms/x"); },
                 errc::insecure_endpoint);
    CHECK(devflow::detail::metadata_locations("http://127.0.0.1:4000").size() == 2);
    CHECK(devflow::detail::metadata_locations("http://localhost:4000/x").size() == 2);
    CHECK(devflow::detail::metadata_locations("http://auth.example.com", true).size() == 2);
}

TEST_CASE("discover reads the openid-configuration with one GET and fills the endpoints",
          "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document(issuer)));
    const devflow::client_config cfg =
        devflow::discover(f.http, f.json, issuer, "my-cli", {"openid", "profile"});
    CHECK(cfg.issuer == issuer);
    CHECK(cfg.client_id == "my-cli");
    CHECK(cfg.scopes == std::vector<std::string>{"openid", "profile"});
    CHECK(cfg.token_endpoint == std::string(issuer) + "/protocol/openid-connect/token");
    CHECK(cfg.device_authorization_endpoint ==
          std::string(issuer) + "/protocol/openid-connect/auth/device");
    CHECK(cfg.revocation_endpoint.empty());
    const auto requests = f.http.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == devflow::http_method::get);
    CHECK(requests[0].url == openid_url);
    CHECK(requests[0].header("accept") == "application/json");
    CHECK(requests[0].body.empty());
}

TEST_CASE("discover picks up the revocation endpoint when the document has one", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url,
                   respond(200, document(issuer, R"(,"revocation_endpoint":"https://auth.example.com/revoke")")));
    const auto cfg = devflow::discover(f.http, f.json, issuer, "my-cli");
    CHECK(cfg.revocation_endpoint == "https://auth.example.com/revoke");
}

TEST_CASE("discover keeps every other member of the base config", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document(issuer)));
    devflow::client_config base;
    base.issuer = issuer;
    base.client_id = "c";
    base.client_secret = devflow::secret{"s3cret"};
    base.refresh_margin = std::chrono::seconds{17};
    base.extra_parameters = {{"audience", "api"}};
    const auto cfg = devflow::discover(f.http, f.json, base);
    CHECK(cfg.client_secret.reveal() == "s3cret");
    CHECK(cfg.refresh_margin == std::chrono::seconds{17});
    CHECK(cfg.extra_parameters.size() == 1);
    CHECK_FALSE(cfg.token_endpoint.empty());
}

TEST_CASE("discover falls back to oauth-authorization-server when openid-configuration is missing (RFC 8414 §3)",
          "[discovery]") {
    discovery_fixture f;  // fake_http answers 404 to routes it has no script for
    f.http.enqueue(oauth_url, respond(200, document(issuer)));
    const auto cfg = devflow::discover(f.http, f.json, issuer, "my-cli");
    CHECK_FALSE(cfg.device_authorization_endpoint.empty());
    const auto requests = f.http.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].url == openid_url);
    CHECK(requests[1].url == oauth_url);
}

TEST_CASE("the metadata source and arrays of strings are reported", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(oauth_url, respond(200, document(issuer)));
    const auto m = devflow::fetch_server_metadata(f.http, f.json, issuer);
    CHECK(m.source == devflow::metadata_source::oauth_authorization_server);
    CHECK(m.url == oauth_url);
    CHECK(m.scopes_supported == std::vector<std::string>{"openid", "profile"});
    REQUIRE(m.grant_types_supported.size() == 3);
    CHECK(m.grant_types_supported[2] == "urn:ietf:params:oauth:grant-type:device_code");
}

TEST_CASE("an issuer that differs by a trailing slash is an issuer mismatch (RFC 8414 §3.3)",
          "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document(std::string(issuer) + "/")));
    f.http.enqueue(oauth_url, respond(200, document(issuer)));
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::issuer_mismatch);
    CHECK(std::string(e.what()).find("realms/test/\"") != std::string::npos);
    // A document naming another issuer is a stop, not a reason to look elsewhere.
    CHECK(f.http.requests().size() == 1);
}

TEST_CASE("an issuer that differs only in letter case is an issuer mismatch", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document("https://auth.example.com/realms/Test")));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                 errc::issuer_mismatch);
}

TEST_CASE("a document without an issuer is a malformed response", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, R"({"token_endpoint":"https://a.example/t"})"));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                 errc::malformed_response);
}

TEST_CASE("a server without a device_authorization_endpoint is a clear configuration error (RFC 8628 §4)",
          "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url,
                   respond(200, R"({"issuer":")" + std::string(issuer) +
                                    R"(","token_endpoint":"https://auth.example.com/token"})"));
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::invalid_config);
    CHECK(std::string(e.what()).find("device_authorization_endpoint") != std::string::npos);
    CHECK(std::string(e.what()).find("does not offer the device flow") != std::string::npos);
}

TEST_CASE("a document without a token endpoint is a configuration error", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, R"({"issuer":")" + std::string(issuer) +
                                                R"(","device_authorization_endpoint":"https://auth.example.com/d"})"));
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::invalid_config);
    CHECK(std::string(e.what()).find("token_endpoint") != std::string::npos);
}

TEST_CASE("an http endpoint in the document is refused as insecure", "[discovery]") {
    for (const std::string member : {"token_endpoint", "device_authorization_endpoint",
                                     "revocation_endpoint"}) {
        INFO(member);
        discovery_fixture f;
        auto o = f.json.parse(document(issuer, R"(,"revocation_endpoint":"https://auth.example.com/r")"));
        REQUIRE(o);
        (*o)[member] = devflow::json_value::make_string("http://auth.example.com/" + member);
        f.http.enqueue(openid_url, respond(200, f.json.write(*o)));
        expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                     errc::insecure_endpoint);
    }
}

TEST_CASE("http endpoints are accepted for a loopback issuer", "[discovery]") {
    discovery_fixture f;
    const std::string local = "http://127.0.0.1:4000";
    f.http.enqueue(local + "/.well-known/openid-configuration",
                   respond(200, R"({"issuer":"http://127.0.0.1:4000","token_endpoint":"http://127.0.0.1:4000/token",)"
                                R"("device_authorization_endpoint":"http://127.0.0.1:4000/device/auth",)"
                                R"("revocation_endpoint":"http://127.0.0.1:4000/token/revocation",)"
                                R"("userinfo_endpoint":"http://127.0.0.1:4000/me"})"));
    const auto m = devflow::fetch_server_metadata(f.http, f.json, local);
    CHECK(m.token_endpoint == "http://127.0.0.1:4000/token");
    CHECK(m.revocation_endpoint == "http://127.0.0.1:4000/token/revocation");
    CHECK(m.userinfo_endpoint == "http://127.0.0.1:4000/me");
}

TEST_CASE("a member of the wrong type is a malformed response", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document(issuer, R"(,"revocation_endpoint":42)")));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                 errc::malformed_response);
    auto o = f.json.parse(document(issuer));
    REQUIRE(o);
    (*o)["grant_types_supported"] = devflow::json_value::make_string("device_code");
    f.http.enqueue(openid_url, respond(200, f.json.write(*o)));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                 errc::malformed_response);
}

TEST_CASE("a 200 answer that is not a JSON object is a malformed response", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, "<html>login</html>"));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                 errc::malformed_response);
    CHECK(f.http.requests().size() == 1);
}

TEST_CASE("no document at either URL is a configuration error naming both", "[discovery]") {
    discovery_fixture f;
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::invalid_config);
    CHECK(std::string(e.what()).find(openid_url) != std::string::npos);
    CHECK(std::string(e.what()).find(oauth_url) != std::string::npos);
    CHECK(e.http_status() == 404);
}

TEST_CASE("a 5xx answer at both URLs is a server error", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(503, ""));
    f.http.enqueue(oauth_url, respond(404, ""));
    expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); }, errc::server_error);
}

TEST_CASE("a transport failure stops discovery with transport_failed", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, devflow::testing::transport_failure());
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::transport_failed);
    CHECK(std::string(e.what()).find("connection refused") != std::string::npos);
    CHECK(f.http.requests().size() == 1);
}

TEST_CASE("server text in an error message has its control characters escaped", "[discovery]") {
    discovery_fixture f;
    f.http.enqueue(openid_url, respond(200, document("https://evil.example/\\u001b[2J")));
    const auto e = expect_error([&] { devflow::discover(f.http, f.json, issuer, "my-cli"); },
                                errc::issuer_mismatch);
    CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
    CHECK(std::string(e.what()).find("\\x1b[2J") != std::string::npos);
}

TEST_CASE("a cached run builds its config from the token record without any request",
          "[discovery]") {
    fixture f;  // the fake authorization server lives at `issuer`, Keycloak-style
    const std::string doc =
        document(issuer, R"(,"revocation_endpoint":")" + f.server.revocation_endpoint() + "\"");
    f.http.enqueue(openid_url, respond(200, doc));
    devflow::nlohmann_json json;

    // First run: nothing stored, so discovery, then the device flow.
    auto cfg = devflow::discover_cached(f.http, json, f.store, issuer, "devflow-cli", {"openid"});
    CHECK(f.http.requests_to(openid_url).size() == 1);
    CHECK(cfg.revocation_endpoint == f.server.revocation_endpoint());
    {
        auto flow = f.make_flow(cfg);
        flow->login();
    }
    const auto before = f.http.requests().size();

    // Second run (a new process): config from the record, token from the store.
    auto cached = devflow::discover_cached(f.http, json, f.store, issuer, "devflow-cli", {"openid"});
    CHECK(cached.token_endpoint == f.server.token_endpoint());
    CHECK(cached.device_authorization_endpoint == f.server.device_endpoint());
    CHECK(cached.revocation_endpoint == f.server.revocation_endpoint());
    auto flow = f.make_flow(cached);
    const auto header = flow->authorization_header();
    CHECK(header.rfind("Bearer ", 0) == 0);
    CHECK(f.http.requests().size() == before);
    CHECK(f.http.requests_to(openid_url).size() == 1);
}

TEST_CASE("the cached config is found only for the same issuer client and scopes", "[discovery]") {
    fixture f;
    f.http.handle(openid_url, [](const devflow::testing::recorded_request&) {
        return respond(200, document(issuer));
    });
    devflow::nlohmann_json json;
    {
        auto flow = f.make_flow(devflow::discover(f.http, json, issuer, "devflow-cli", {"openid"}));
        flow->login();
    }
    devflow::client_config base;
    base.issuer = issuer;
    base.client_id = "devflow-cli";
    base.scopes = {"openid"};
    CHECK(devflow::cached_config(json, f.store, base));
    auto other_scopes = base;
    other_scopes.scopes = {"openid", "email"};
    CHECK_FALSE(devflow::cached_config(json, f.store, other_scopes));
    auto other_client = base;
    other_client.client_id = "someone-else";
    CHECK_FALSE(devflow::cached_config(json, f.store, other_client));
    auto other_issuer = base;
    other_issuer.issuer = std::string(issuer) + "/";
    CHECK_FALSE(devflow::cached_config(json, f.store, other_issuer));

    // Without a record discover_cached asks the server.
    const auto before = f.http.requests_to(openid_url).size();
    devflow::discover_cached(f.http, json, f.store, other_scopes);
    CHECK(f.http.requests_to(openid_url).size() == before + 1);
}

TEST_CASE("a corrupt record gives no cached config", "[discovery]") {
    devflow::memory_store store;
    devflow::nlohmann_json json;
    devflow::client_config base;
    base.issuer = issuer;
    base.client_id = "c";
    const auto key = devflow::detail::store_key(devflow::detail::identity_of(base));
    store.save(key, devflow::secret{"{not json"});
    CHECK_FALSE(devflow::cached_config(json, store, base));
    store.save(key, devflow::secret{R"({"devflow_record":1})"});
    CHECK_FALSE(devflow::cached_config(json, store, base));
}

TEST_CASE("a cached endpoint that breaks the https rule is refused", "[discovery]") {
    devflow::memory_store store;
    devflow::nlohmann_json json;
    devflow::client_config base;
    base.issuer = issuer;
    base.client_id = "c";
    const auto id = devflow::detail::identity_of(base);
    devflow::token_set t;
    t.access_token = devflow::secret{"CANARY-access"};
    const devflow::detail::cached_endpoints endpoints{"http://auth.example.com/token",
                                                      "https://auth.example.com/device", ""};
    store.save(devflow::detail::store_key(id),
               devflow::secret{json.write(devflow::detail::record_to_json(id, t, endpoints))});
    expect_error([&] { devflow::cached_config(json, store, base); }, errc::insecure_endpoint);
}

TEST_CASE("cached_config needs an issuer", "[discovery]") {
    devflow::memory_store store;
    devflow::nlohmann_json json;
    devflow::client_config base;
    base.client_id = "c";
    expect_error([&] { devflow::cached_config(json, store, base); }, errc::invalid_config);
}

TEST_CASE("keycloak_config builds a realm's issuer and openid-connect endpoints", "[discovery][keycloak]") {
    const auto cfg = devflow::keycloak_config("https://sso.example.org", "lab", "my-cli", {"openid"});
    CHECK(cfg.issuer == "https://sso.example.org/realms/lab");
    CHECK(cfg.device_authorization_endpoint ==
          "https://sso.example.org/realms/lab/protocol/openid-connect/auth/device");
    CHECK(cfg.token_endpoint == "https://sso.example.org/realms/lab/protocol/openid-connect/token");
    CHECK(cfg.revocation_endpoint ==
          "https://sso.example.org/realms/lab/protocol/openid-connect/revoke");
    CHECK(cfg.client_id == "my-cli");
    CHECK(cfg.scopes == std::vector<std::string>{"openid"});
}

TEST_CASE("keycloak_config keeps the legacy auth prefix and drops trailing slashes",
          "[discovery][keycloak]") {
    const auto cfg = devflow::keycloak_config("https://sso.example.org/auth/", "lab", "my-cli");
    CHECK(cfg.issuer == "https://sso.example.org/auth/realms/lab");
    CHECK(cfg.token_endpoint ==
          "https://sso.example.org/auth/realms/lab/protocol/openid-connect/token");
    CHECK(cfg.device_authorization_endpoint ==
          "https://sso.example.org/auth/realms/lab/protocol/openid-connect/auth/device");
}

TEST_CASE("keycloak_config percent-encodes the realm name and refuses bad input",
          "[discovery][keycloak]") {
    CHECK(devflow::keycloak_config("https://sso.example.org", "my realm", "c").issuer ==
          "https://sso.example.org/realms/my%20realm");
    expect_error([] { devflow::keycloak_config("https://sso.example.org", "", "c"); },
                 errc::invalid_config);
    expect_error([] { devflow::keycloak_config("https://sso.example.org", "a/b", "c"); },
                 errc::invalid_config);
    expect_error([] { devflow::keycloak_config("https://sso.example.org/realms/lab", "lab", "c"); },
                 errc::invalid_config);
    expect_error([] { devflow::keycloak_config("http://sso.example.org", "lab", "c"); },
                 errc::insecure_endpoint);
    CHECK(devflow::keycloak_config("http://localhost:8080", "lab", "c").issuer ==
          "http://localhost:8080/realms/lab");
}

TEST_CASE("a keycloak_config signs in against a Keycloak-shaped server", "[discovery][keycloak]") {
    fixture f;  // endpoints at https://auth.example.com/realms/test/protocol/openid-connect/...
    auto cfg = devflow::keycloak_config("https://auth.example.com", "test", "devflow-cli",
                                        {"openid"});
    CHECK(cfg.token_endpoint == f.server.token_endpoint());
    CHECK(cfg.device_authorization_endpoint == f.server.device_endpoint());
    CHECK(cfg.revocation_endpoint == f.server.revocation_endpoint());
    auto flow = f.make_flow(cfg);
    const auto t = flow->login();
    CHECK(f.server.accepts(t.access_token.reveal()));
}

TEST_CASE("keycloak_config with a base config keeps its secret and margins", "[discovery][keycloak]") {
    devflow::client_config base;
    base.client_id = "c";
    base.client_secret = devflow::secret{"x"};
    base.keep_alive_margin = std::chrono::seconds{300};
    const auto cfg = devflow::keycloak_config("https://sso.example.org", "lab", base);
    CHECK(cfg.client_secret.reveal() == "x");
    CHECK(cfg.keep_alive_margin == std::chrono::seconds{300});
    CHECK(cfg.issuer == "https://sso.example.org/realms/lab");
}
