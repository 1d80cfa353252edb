// detail/device_authorization.hpp: the device authorization request and the
// validation of its answer (RFC 8628 §3.1–3.2).
#include <devflow/detail/device_authorization.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <chrono>
#include <string>
#include <utility>

using devflow::client_config;
using devflow::errc;
using devflow::http_method;
using devflow::http_request;
using devflow::json_object;
using devflow::json_value;
using devflow::secret;
using devflow::detail::device_authorization_request;
using devflow::detail::join_scopes;
using devflow::detail::parse_device_authorization;
using devflow_test::expect_error;
using devflow_test::leak_free;
using std::chrono::seconds;

namespace {

constexpr seconds max_expires_in{std::chrono::hours{24}};

json_value str(std::string s) { return json_value::make_string(std::move(s)); }
json_value num(double n) { return json_value::make_number(n); }

client_config public_client() {
    client_config cfg;
    cfg.device_authorization_endpoint = "https://auth.example.com/device";
    cfg.token_endpoint = "https://auth.example.com/token";
    cfg.client_id = "devflow-cli";
    cfg.scopes = {"openid", "profile", "offline_access"};
    cfg.extra_parameters = {{"audience", "api://orders"}, {"resource", "https://api.example.com/"}};
    return cfg;
}

/// The header called `name`, or nullptr.
const secret* header(const http_request& req, std::string_view name) {
    for (const auto& h : req.headers)
        if (h.name == name) return &h.value;
    return nullptr;
}

json_object good_answer() {
    return json_object{{"device_code", str("CANARY-device-code-1")},
                       {"user_code", str("WDJB-MJHT")},
                       {"verification_uri", str("https://auth.example.com/device")},
                       {"verification_uri_complete",
                        str("https://auth.example.com/device?user_code=WDJB-MJHT")},
                       {"expires_in", num(1800)},
                       {"interval", num(5)}};
}

devflow::device_authorization parse(const json_object& o) {
    return parse_device_authorization(o, max_expires_in);
}

}  // namespace

TEST_CASE("join_scopes joins with single spaces and skips empty scopes (RFC 6749 §3.3)",
          "[device_authorization]") {
    CHECK(join_scopes({}) == "");
    CHECK(join_scopes({"openid"}) == "openid");
    CHECK(join_scopes({"openid", "", "email"}) == "openid email");
}

TEST_CASE("a public client sends client_id then the space-joined scope then extra parameters in order",
          "[device_authorization]") {
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

TEST_CASE("a request without scopes omits the scope parameter", "[device_authorization]") {
    client_config cfg = public_client();
    cfg.scopes.clear();
    cfg.extra_parameters.clear();
    CHECK(device_authorization_request(cfg).body.reveal() == "client_id=devflow-cli");
}

TEST_CASE("a confidential client sends Basic authentication and no client_id in the body",
          "[device_authorization]") {
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

TEST_CASE("a complete answer is read field by field", "[device_authorization]") {
    const auto da = parse(good_answer());
    CHECK(da.device_code.reveal() == "CANARY-device-code-1");
    CHECK(da.user_code == "WDJB-MJHT");
    CHECK(da.verification_uri == "https://auth.example.com/device");
    CHECK(da.verification_uri_complete == "https://auth.example.com/device?user_code=WDJB-MJHT");
    CHECK(da.expires_in == seconds{1800});
    CHECK(da.interval == seconds{5});
}

TEST_CASE("each missing required field is a malformed_response naming the field",
          "[device_authorization]") {
    for (const char* field : {"device_code", "user_code", "verification_uri", "expires_in"}) {
        INFO(field);
        json_object o = good_answer();
        o.erase(field);
        const auto e = expect_error([&] { (void)parse(o); }, errc::malformed_response);
        CHECK(std::string(e.what()).find(field) != std::string::npos);
    }
}

TEST_CASE("required fields that are empty null or not strings are malformed_response",
          "[device_authorization]") {
    for (const char* field : {"device_code", "user_code", "verification_uri"}) {
        for (const json_value& bad : {str(""), json_value::make_null(), num(42)}) {
            INFO(field);
            json_object o = good_answer();
            o[field] = bad;
            const auto e = expect_error([&] { (void)parse(o); }, errc::malformed_response);
            CHECK(std::string(e.what()).find(field) != std::string::npos);
        }
    }
}

TEST_CASE("verification_url and verification_url_complete are accepted as aliases",
          "[device_authorization]") {
    json_object o = good_answer();
    o.erase("verification_uri");
    o.erase("verification_uri_complete");
    o["verification_url"] = str("https://www.google.com/device");
    o["verification_url_complete"] = str("https://www.google.com/device?code=WDJB-MJHT");
    const auto da = parse(o);
    CHECK(da.verification_uri == "https://www.google.com/device");
    CHECK(da.verification_uri_complete == "https://www.google.com/device?code=WDJB-MJHT");

    o.erase("verification_url_complete");
    CHECK(parse(o).verification_uri_complete.empty());
}

TEST_CASE("the standard names win over the aliases when both are sent", "[device_authorization]") {
    json_object o = good_answer();
    o["verification_url"] = str("https://alias.example.com/device");
    o["verification_url_complete"] = str("https://alias.example.com/device?c=1");
    const auto da = parse(o);
    CHECK(da.verification_uri == "https://auth.example.com/device");
    CHECK(da.verification_uri_complete == "https://auth.example.com/device?user_code=WDJB-MJHT");
}

TEST_CASE("an absent or null interval means 5 s (RFC 8628 §3.2)", "[device_authorization]") {
    json_object o = good_answer();
    o.erase("interval");
    CHECK(parse(o).interval == seconds{5});
    o["interval"] = json_value::make_null();
    CHECK(parse(o).interval == seconds{5});
}

TEST_CASE("expires_in and interval sent as strings are read as numbers", "[device_authorization]") {
    json_object o = good_answer();
    o["expires_in"] = str("900");
    o["interval"] = str("7");
    const auto da = parse(o);
    CHECK(da.expires_in == seconds{900});
    CHECK(da.interval == seconds{7});
}

TEST_CASE("a negative zero or absurd expires_in is rejected", "[device_authorization]") {
    for (const json_value& bad : {num(-1), num(0), str("0"), str("-600"), num(86401), num(1e15),
                                  str("ten minutes"), json_value::make_null(),
                                  json_value::make_bool(true)}) {
        json_object o = good_answer();
        o["expires_in"] = bad;
        const auto e = expect_error([&] { (void)parse(o); }, errc::malformed_response);
        CHECK(std::string(e.what()).find("expires_in") != std::string::npos);
    }
    json_object at_limit = good_answer();
    at_limit["expires_in"] = num(86400);
    CHECK(parse(at_limit).expires_in == seconds{86400});
}

TEST_CASE("a negative or absurd interval is rejected", "[device_authorization]") {
    for (const json_value& bad : {num(-5), str("-1"), num(3601), str("fast")}) {
        json_object o = good_answer();
        o["interval"] = bad;
        const auto e = expect_error([&] { (void)parse(o); }, errc::malformed_response);
        CHECK(std::string(e.what()).find("interval") != std::string::npos);
    }
}

TEST_CASE("an interval of 0 is raised to the 1 s floor", "[device_authorization]") {
    json_object o = good_answer();
    o["interval"] = num(0);
    CHECK(parse(o).interval == seconds{1});
    o["interval"] = num(0.5);
    CHECK(parse(o).interval == seconds{1});
    o["interval"] = str("0");
    CHECK(parse(o).interval == seconds{1});
}

TEST_CASE("a verification URI that is not http or https is rejected", "[device_authorization]") {
    for (const char* bad : {"javascript:alert(1)", "file:///etc/passwd", "ftp://auth.example.com/",
                            "data:text/html,hi", "auth.example.com/device",
                            "https://auth.example.com/de vice"}) {
        INFO(bad);
        json_object o = good_answer();
        o["verification_uri"] = str(bad);
        expect_error([&] { (void)parse(o); }, errc::malformed_response);

        json_object complete = good_answer();
        complete["verification_uri_complete"] = str(bad);
        expect_error([&] { (void)parse(complete); }, errc::malformed_response);
    }
    json_object plain_http = good_answer();
    plain_http["verification_uri"] = str("http://127.0.0.1:8080/device");
    CHECK(parse(plain_http).verification_uri == "http://127.0.0.1:8080/device");
}

TEST_CASE("validation errors never carry the device code", "[device_authorization]") {
    json_object o = good_answer();
    o["device_code"] = str("CANARY-device-code-2");
    o["expires_in"] = str("CANARY");
    const auto e = expect_error([&] { (void)parse(o); }, errc::malformed_response);
    CHECK(leak_free(e.what()));
}

TEST_CASE("a user_code with control characters is refused before it reaches a terminal (RFC 8628 §3.2)",
          "[device_authorization]") {
    devflow::json_object o;
    o["device_code"] = devflow::json_value::make_string("CANARY-dc");
    o["user_code"] = devflow::json_value::make_string("ABCD\x1b[2J-EFGH");
    o["verification_uri"] = devflow::json_value::make_string("https://auth.example.com/device");
    o["expires_in"] = devflow::json_value::make_number(600);
    devflow_test::expect_error(
        [&] { (void)devflow::detail::parse_device_authorization(o, std::chrono::hours{24}); },
        devflow::errc::malformed_response);
}
