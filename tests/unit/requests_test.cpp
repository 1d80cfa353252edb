// detail/requests.hpp: every request the flow sends, built in one place —
// the device authorization request (RFC 8628 §3.1), the poll (§3.4), the
// refresh (RFC 6749 §6), the revocation (RFC 7009 §2.1) — with the same
// headers and client authentication (RFC 6749 §2.3.1).
#include <devflow/detail/requests.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <string>
#include <string_view>

using devflow::client_config;
using devflow::http_method;
using devflow::http_request;
using devflow::secret;
using devflow::detail::device_authorization_request;
using devflow::detail::join_scopes;
using devflow_test::leak_free;

namespace {

client_config public_client() {
    client_config cfg;
    cfg.device_authorization_endpoint = "https://auth.example.com/device";
    cfg.token_endpoint = "https://auth.example.com/token";
    cfg.revocation_endpoint = "https://auth.example.com/revoke";
    cfg.client_id = "devflow-cli";
    cfg.scopes = {"openid", "profile", "offline_access"};
    cfg.extra_parameters = {{"audience", "api://orders"}, {"resource", "https://api.example.com/"}};
    return cfg;
}

client_config confidential_client() {
    client_config cfg = public_client();
    cfg.client_secret = secret{"CANARY-client-secret"};
    return cfg;
}

/// The header called `name`, or nullptr.
const secret* header(const http_request& req, std::string_view name) {
    for (const auto& h : req.headers)
        if (h.name == name) return &h.value;
    return nullptr;
}

}  // namespace

TEST_CASE("join_scopes joins with single spaces and skips empty scopes (RFC 6749 §3.3)",
          "[requests]") {
    CHECK(join_scopes({}) == "");
    CHECK(join_scopes({"openid"}) == "openid");
    CHECK(join_scopes({"openid", "", "email"}) == "openid email");
}

TEST_CASE("a public client sends client_id then the space-joined scope then extra parameters in order",
          "[requests]") {
    const http_request req = device_authorization_request(public_client());
    CHECK(req.method == http_method::post);
    CHECK(req.url == "https://auth.example.com/device");
    CHECK(req.body.reveal() ==
          "client_id=devflow-cli&scope=openid+profile+offline_access"
          "&audience=api%3A%2F%2Forders&resource=https%3A%2F%2Fapi.example.com%2F");
    const secret* type = header(req, "content-type");
    REQUIRE(type);
    CHECK(type->reveal() == "application/x-www-form-urlencoded");
    const secret* accept = header(req, "accept");
    REQUIRE(accept);
    CHECK(accept->reveal() == "application/json");
    CHECK(header(req, "authorization") == nullptr);
}

TEST_CASE("a request without scopes omits the scope parameter", "[requests]") {
    client_config cfg = public_client();
    cfg.scopes.clear();
    cfg.extra_parameters.clear();
    CHECK(device_authorization_request(cfg).body.reveal() == "client_id=devflow-cli");
}

TEST_CASE("a confidential client sends Basic authentication and no client_id in the body",
          "[requests]") {
    client_config cfg = public_client();
    cfg.client_secret = secret{"CANARY-client-secret"};
    const http_request req = device_authorization_request(cfg);
    const secret* auth = header(req, "authorization");
    REQUIRE(auth);
    // base64("devflow-cli:CANARY-client-secret"), RFC 6749 §2.3.1.
    CHECK(auth->reveal() == "Basic ZGV2Zmxvdy1jbGk6Q0FOQVJZLWNsaWVudC1zZWNyZXQ=");
    CHECK(req.body.reveal() ==
          "scope=openid+profile+offline_access"
          "&audience=api%3A%2F%2Forders&resource=https%3A%2F%2Fapi.example.com%2F");
    CHECK(req.body.reveal().find("client_id") == std::string::npos);
    CHECK(leak_free(req.body.reveal()));
}

TEST_CASE("a poll sends the device_code grant and the device code (RFC 8628 §3.4)", "[requests]") {
    const secret code{"CANARY-device-code"};
    const http_request pub = devflow::detail::poll_request(public_client(), code);
    CHECK(pub.method == http_method::post);
    CHECK(pub.url == "https://auth.example.com/token");
    CHECK(pub.body.reveal() ==
          "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
          "&device_code=CANARY-device-code&client_id=devflow-cli");
    CHECK(header(pub, "authorization") == nullptr);
    const http_request conf = devflow::detail::poll_request(confidential_client(), code);
    CHECK(conf.body.reveal().find("client_id") == std::string::npos);
    REQUIRE(header(conf, "authorization"));
    CHECK(header(conf, "authorization")->reveal().rfind("Basic ", 0) == 0);
}

TEST_CASE("a refresh sends the refresh token and no scope (RFC 6749 §6)", "[requests]") {
    const http_request req =
        devflow::detail::refresh_request(public_client(), secret{"CANARY-refresh"});
    CHECK(req.url == "https://auth.example.com/token");
    CHECK(req.body.reveal() == "grant_type=refresh_token&refresh_token=CANARY-refresh&client_id=devflow-cli");
    REQUIRE(header(req, "content-type"));
    CHECK(header(req, "content-type")->reveal() == "application/x-www-form-urlencoded");
}

TEST_CASE("a revocation sends the token and its type hint with client authentication "
          "(RFC 7009 §2.1)",
          "[requests]") {
    const http_request req = devflow::detail::revocation_request(
        confidential_client(), secret{"CANARY-refresh"}, "refresh_token");
    CHECK(req.url == "https://auth.example.com/revoke");
    CHECK(req.body.reveal() == "token=CANARY-refresh&token_type_hint=refresh_token");
    REQUIRE(header(req, "authorization"));
    CHECK(header(req, "accept")->reveal() == "application/json");
}

TEST_CASE("the device_code grant type is spelled once (RFC 8628 §3.4)", "[requests]") {
    CHECK(devflow::detail::device_code_grant_type == "urn:ietf:params:oauth:grant-type:device_code");
}
