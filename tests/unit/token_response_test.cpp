// detail/token_response.hpp: what one token endpoint answer means
// (RFC 6749 §5.1–5.2, RFC 8628 §3.5), classified by the body first.
#include <devflow/detail/token_response.hpp>
#include <devflow/http_transport.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using devflow::errc;
using devflow::http_response;
using devflow::json_object;
using devflow::json_value;
using devflow::secret;
using devflow::transport_error;
using devflow::detail::classify_token_response;
using devflow::detail::errc_from_server_error;
using devflow::detail::token_outcome;
using devflow::detail::token_outcome_kind;
using devflow_test::leak_free;
using std::chrono::seconds;

namespace {

const std::chrono::system_clock::time_point now{seconds{1'700'000'000}};

json_value str(std::string s) { return json_value::make_string(std::move(s)); }
json_value num(double n) { return json_value::make_number(n); }

http_response answer(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_response r;
    r.status = status;
    for (auto& [name, value] : headers) r.headers.push_back({name, secret{value}});
    return r;
}

token_outcome classify(int status, std::optional<json_object> body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    return classify_token_response(answer(status, std::move(headers)), body, now);
}

json_object error_body(std::string error) { return json_object{{"error", str(std::move(error))}}; }

json_object token_body() {
    return json_object{{"access_token", str("CANARY-access-1")},
                       {"token_type", str("Bearer")},
                       {"expires_in", num(300)}};
}

}  // namespace

TEST_CASE("authorization_pending is pending whether it comes with 400 401 or 428", "[token_response]") {
    for (int status : {400, 401, 428, 200}) {
        INFO("HTTP " << status);
        const auto out = classify(status, error_body("authorization_pending"));
        CHECK(out.kind == token_outcome_kind::pending);
        CHECK(out.server.error == "authorization_pending");
        CHECK(out.server.http_status == status);
    }
}

TEST_CASE("access_denied fails the same way whether it comes with 400 401 or 428", "[token_response]") {
    for (int status : {400, 401, 428}) {
        INFO("HTTP " << status);
        json_object body = error_body("access_denied");
        body["error_description"] = str("The user said no");
        const auto out = classify(status, body);
        CHECK(out.kind == token_outcome_kind::fail);
        CHECK(out.code == errc::access_denied);
        CHECK(out.server.error == "access_denied");
        CHECK(out.server.error_description == "The user said no");
        CHECK(out.server.http_status == status);
        CHECK(out.message.find("access_denied") != std::string::npos);
    }
}

TEST_CASE("expired_token from the server fails with expired_token", "[token_response]") {
    const auto out = classify(400, error_body("expired_token"));
    CHECK(out.kind == token_outcome_kind::fail);
    CHECK(out.code == errc::expired_token);
}

TEST_CASE("slow_down without a body interval asks for the 5 s raise only (RFC 8628 §3.5)",
          "[token_response]") {
    const auto out = classify(400, error_body("slow_down"));
    CHECK(out.kind == token_outcome_kind::slow_down);
    CHECK_FALSE(out.interval.has_value());
}

TEST_CASE("slow_down carries the body interval as a number or a numeric string", "[token_response]") {
    json_object body = error_body("slow_down");
    body["interval"] = num(10);
    auto out = classify(400, body);
    CHECK(out.kind == token_outcome_kind::slow_down);
    CHECK(out.interval == seconds{10});

    body["interval"] = str("15");
    out = classify(428, body);
    CHECK(out.kind == token_outcome_kind::slow_down);
    CHECK(out.interval == seconds{15});

    // A nonsense interval is ignored, not trusted: the 5 s raise still applies.
    body["interval"] = num(-3);
    out = classify(400, body);
    CHECK(out.kind == token_outcome_kind::slow_down);
    CHECK_FALSE(out.interval.has_value());
}

TEST_CASE("slow_down sent with 429 is still slow_down because the body decides", "[token_response]") {
    const auto out = classify(429, error_body("slow_down"), {{"retry-after", "30"}});
    CHECK(out.kind == token_outcome_kind::slow_down);
}

TEST_CASE("a 2xx answer with tokens succeeds and keeps every field", "[token_response]") {
    json_object body = token_body();
    body["refresh_token"] = str("CANARY-refresh-1");
    body["refresh_expires_in"] = num(1800);
    body["scope"] = str("openid profile");
    body["id_token"] = str("CANARY-id-1");
    const auto out = classify(200, body);
    REQUIRE(out.kind == token_outcome_kind::success);
    CHECK(out.tokens.access_token.reveal() == "CANARY-access-1");
    CHECK(out.tokens.token_type == "Bearer");
    CHECK(out.tokens.expires_at == now + seconds{300});
    CHECK(out.tokens.refresh_token.reveal() == "CANARY-refresh-1");
    CHECK(out.tokens.refresh_expires_at == now + seconds{1800});
    CHECK(out.tokens.scope == "openid profile");
    CHECK(out.tokens.id_token.reveal() == "CANARY-id-1");
    CHECK(out.tokens.obtained_at == now);
    CHECK(out.message.empty());
}

TEST_CASE("a minimal token answer has no expiry and no refresh token", "[token_response]") {
    const auto out = classify(200, json_object{{"access_token", str("CANARY-access-2")},
                                               {"token_type", str("bearer")}});
    REQUIRE(out.kind == token_outcome_kind::success);
    CHECK_FALSE(out.tokens.expires_at.has_value());
    CHECK(out.tokens.refresh_token.empty());
    CHECK_FALSE(out.tokens.refresh_expires_at.has_value());
    CHECK(out.tokens.id_token.empty());
}

TEST_CASE("a 2xx answer without a usable access_token fails as malformed_response",
          "[token_response]") {
    json_object no_token{{"token_type", str("Bearer")}, {"expires_in", num(300)}};
    json_object empty_token = token_body();
    empty_token["access_token"] = str("");
    json_object number_token = token_body();
    number_token["access_token"] = num(12345);
    for (const json_object& body : {no_token, empty_token, number_token}) {
        const auto out = classify(200, body);
        CHECK(out.kind == token_outcome_kind::fail);
        CHECK(out.code == errc::malformed_response);
        CHECK(out.server.http_status == 200);
        CHECK(out.message.find("access_token") != std::string::npos);
    }
}

TEST_CASE("token_type bearer is accepted in any case and stored as Bearer", "[token_response]") {
    for (const char* type : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
        INFO(type);
        json_object body = token_body();
        body["token_type"] = str(type);
        const auto out = classify(200, body);
        REQUIRE(out.kind == token_outcome_kind::success);
        CHECK(out.tokens.token_type == "Bearer");
    }
}

TEST_CASE("a token_type other than Bearer is rejected without echoing the token", "[token_response]") {
    for (const char* type : {"mac", "DPoP", "N_A", "Bearer2"}) {
        INFO(type);
        json_object body = token_body();
        body["token_type"] = str(type);
        const auto out = classify(200, body);
        CHECK(out.kind == token_outcome_kind::fail);
        CHECK(out.code == errc::malformed_response);
        CHECK(out.message.find("token_type") != std::string::npos);
        CHECK(leak_free(out.message));
    }
}

TEST_CASE("expires_in sent as a string is read as seconds", "[token_response]") {
    json_object body = token_body();
    body["expires_in"] = str("3600");
    const auto out = classify(200, body);
    REQUIRE(out.kind == token_outcome_kind::success);
    CHECK(out.tokens.expires_at == now + seconds{3600});
}

TEST_CASE("a negative or absurd expires_in fails as malformed_response", "[token_response]") {
    for (const json_value& bad : {num(-1), str("-60"), str("soon"), num(1e12)}) {
        json_object body = token_body();
        body["expires_in"] = bad;
        const auto out = classify(200, body);
        CHECK(out.kind == token_outcome_kind::fail);
        CHECK(out.code == errc::malformed_response);
        CHECK(out.message.find("expires_in") != std::string::npos);
        CHECK(leak_free(out.message));
    }
}

TEST_CASE("refresh_expires_in of 0 means the refresh token has no known expiry", "[token_response]") {
    json_object body = token_body();
    body["refresh_token"] = str("CANARY-offline-1");
    body["refresh_expires_in"] = num(0);
    const auto out = classify(200, body);
    REQUIRE(out.kind == token_outcome_kind::success);
    CHECK(out.tokens.refresh_token.reveal() == "CANARY-offline-1");
    CHECK_FALSE(out.tokens.refresh_expires_at.has_value());
}

TEST_CASE("5xx and 429 without a body are retried with Retry-After parsed", "[token_response]") {
    for (int status : {429, 500, 502, 503, 504}) {
        INFO("HTTP " << status);
        const auto out = classify(status, std::nullopt, {{"Retry-After", "30"}});
        CHECK(out.kind == token_outcome_kind::retry);
        CHECK(out.retry_after == seconds{30});
        CHECK(out.message.find(std::to_string(status)) != std::string::npos);
    }
    const auto dated = classify(503, std::nullopt, {{"retry-after", "Tue, 14 Nov 2023 22:14:20 GMT"}});
    CHECK(dated.kind == token_outcome_kind::retry);
    CHECK(dated.retry_after == seconds{1'700'000'060 - 1'700'000'000});

    const auto none = classify(503, std::nullopt);
    CHECK(none.kind == token_outcome_kind::retry);
    CHECK_FALSE(none.retry_after.has_value());

    const auto garbage = classify(503, std::nullopt, {{"retry-after", "later please"}});
    CHECK(garbage.kind == token_outcome_kind::retry);
    CHECK_FALSE(garbage.retry_after.has_value());
}

TEST_CASE("503 with temporarily_unavailable is retried and keeps the server fields",
          "[token_response]") {
    json_object body = error_body("temporarily_unavailable");
    body["error_description"] = str("maintenance");
    const auto out = classify(503, body, {{"retry-after", "12"}});
    CHECK(out.kind == token_outcome_kind::retry);
    CHECK(out.retry_after == seconds{12});
    CHECK(out.server.error == "temporarily_unavailable");
    CHECK(out.server.error_description == "maintenance");
    CHECK(out.server.http_status == 503);

    const auto server_error = classify(500, error_body("server_error"));
    CHECK(server_error.kind == token_outcome_kind::retry);
}

TEST_CASE("an unknown error fails as server_error carrying the server fields verbatim",
          "[token_response]") {
    json_object body = error_body("Weird_Error");
    body["error_description"] = str("Something \"odd\" happened: see the docs");
    body["error_uri"] = str("https://auth.example.com/errors#weird");
    const auto out = classify(400, body);
    CHECK(out.kind == token_outcome_kind::fail);
    CHECK(out.code == errc::server_error);
    CHECK(out.server.error == "Weird_Error");
    CHECK(out.server.error_description == "Something \"odd\" happened: see the docs");
    CHECK(out.server.error_uri == "https://auth.example.com/errors#weird");
    CHECK(out.server.http_status == 400);
    CHECK(out.message.find("Weird_Error") != std::string::npos);
}

TEST_CASE("each RFC 6749 error code maps to its errc", "[token_response]") {
    const std::vector<std::pair<const char*, errc>> codes{
        {"access_denied", errc::access_denied},
        {"expired_token", errc::expired_token},
        {"invalid_grant", errc::invalid_grant},
        {"invalid_client", errc::invalid_client},
        {"invalid_request", errc::invalid_request},
        {"invalid_scope", errc::invalid_scope},
        {"unauthorized_client", errc::unauthorized_client},
        {"unsupported_grant_type", errc::unsupported_grant_type},
        {"Access_Denied", errc::server_error},
        {"", errc::server_error},
    };
    for (const auto& [name, code] : codes) {
        INFO(name);
        CHECK(errc_from_server_error(name) == code);
        if (*name) {
            const auto out = classify(401, error_body(name));
            CHECK(out.kind == token_outcome_kind::fail);
            CHECK(out.code == code);
        }
    }
}

TEST_CASE("a 4xx answer without an OAuth error fails as malformed_response", "[token_response]") {
    // An HTML error page (or any non-object) reaches the classifier as no body.
    const auto html = classify(400, std::nullopt);
    CHECK(html.kind == token_outcome_kind::fail);
    CHECK(html.code == errc::malformed_response);
    CHECK(html.server.http_status == 400);
    CHECK(html.server.error.empty());

    const auto no_error = classify(403, json_object{{"message", str("Forbidden")}});
    CHECK(no_error.kind == token_outcome_kind::fail);
    CHECK(no_error.code == errc::malformed_response);
    CHECK(no_error.server.http_status == 403);

    const auto redirect = classify(302, std::nullopt, {{"location", "https://elsewhere.example/"}});
    CHECK(redirect.kind == token_outcome_kind::fail);
    CHECK(redirect.code == errc::malformed_response);
}

TEST_CASE("a 2xx answer that is not a JSON object fails as malformed_response", "[token_response]") {
    const auto out = classify(200, std::nullopt);
    CHECK(out.kind == token_outcome_kind::fail);
    CHECK(out.code == errc::malformed_response);
    CHECK(out.server.http_status == 200);
}

TEST_CASE("a transport failure is retried and its message says so", "[token_response]") {
    for (auto why : {transport_error::dns, transport_error::connect, transport_error::tls,
                     transport_error::timeout, transport_error::other}) {
        const http_response r = devflow::transport_failure(why, "connection reset by peer");
        const auto out = classify_token_response(r, std::nullopt, now);
        CHECK(out.kind == token_outcome_kind::retry);
        CHECK(out.message.find("connection reset by peer") != std::string::npos);
        CHECK_FALSE(out.retry_after.has_value());
    }
}

TEST_CASE("no classification message carries a token from the answer", "[token_response]") {
    json_object bad_expiry = token_body();
    bad_expiry["refresh_token"] = str("CANARY-refresh-2");
    bad_expiry["refresh_expires_in"] = num(-5);
    json_object error_with_token = error_body("invalid_grant");
    error_with_token["access_token"] = str("CANARY-access-3");

    for (const auto& out :
         {classify(200, bad_expiry), classify(400, error_with_token), classify(503, std::nullopt),
          classify(200, std::nullopt), classify(418, json_object{{"access_token", str("CANARY-4")}})}) {
        CHECK(out.kind != token_outcome_kind::success);
        CHECK(leak_free(out.message));
    }
}
