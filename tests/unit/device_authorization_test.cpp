// detail/device_authorization.hpp: the validation of the device
// authorization answer and the reading of an error answer (RFC 8628 §3.2).
// (The request itself: tests/unit/requests_test.cpp.)
#include <devflow/detail/device_authorization.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <chrono>
#include <string>
#include <utility>

using devflow::errc;
using devflow::json_object;
using devflow::json_value;
using devflow::secret;
using devflow::detail::parse_device_authorization;
using devflow_test::expect_error;
using devflow_test::leak_free;
using std::chrono::seconds;

namespace {

constexpr seconds max_expires_in{std::chrono::hours{24}};

json_value str(std::string s) { return json_value::make_string(std::move(s)); }
json_value num(double n) { return json_value::make_number(n); }

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

TEST_CASE("an error answer to the device authorization request carries the server's code and words "
          "whatever its status (RFC 8628 §3.2; RFC 6749 §5.2)",
          "[device_authorization]") {
    using devflow::detail::read_device_authorization;
    devflow::http_response r;
    r.status = 401;
    const json_object body{{"error", str("invalid_client")}, {"error_description", str("unknown client")}};
    const auto e = expect_error([&] { (void)read_device_authorization(r, body, max_expires_in); },
                                errc::invalid_client);
    CHECK(e.server_error() == "invalid_client");
    CHECK(e.error_description() == "unknown client");
    CHECK(e.http_status() == 401);
    CHECK(std::string(e.what()) == "device authorization endpoint answered invalid_client: unknown client");
}

TEST_CASE("a device authorization answer without an OAuth error is judged by its status "
          "(RFC 8628 §3.2; RFC 6585 §4)",
          "[device_authorization]") {
    using devflow::detail::read_device_authorization;
    devflow::http_response r;
    r.status = 503;
    expect_error([&] { (void)read_device_authorization(r, std::nullopt, max_expires_in); },
                 errc::server_error);
    r.status = 429;
    expect_error([&] { (void)read_device_authorization(r, std::nullopt, max_expires_in); },
                 errc::server_error);
    r.status = 404;
    expect_error([&] { (void)read_device_authorization(r, std::nullopt, max_expires_in); },
                 errc::malformed_response);
    r.status = 200;
    expect_error([&] { (void)read_device_authorization(r, std::nullopt, max_expires_in); },
                 errc::malformed_response);
    CHECK(read_device_authorization(r, good_answer(), max_expires_in).user_code == "WDJB-MJHT");
    devflow::http_response none;
    none.transport = devflow::transport_error::connect;
    none.transport_message = "connection refused";
    expect_error([&] { (void)read_device_authorization(none, good_answer(), max_expires_in); },
                 errc::transport_failed);
}
