// The device flow's polling rules (RFC 8628 §3.2–3.5), end to end through
// device_flow against the scripted server, asserting on what the server saw
// and when (virtual time).
#include "flow_fixture.hpp"

#include <stop_token>

using namespace devflow_test;
using devflow::errc;
using devflow::testing::respond;
using devflow::testing::transport_failure;

namespace {

std::string device_answer(const std::string& extra = R"(,"interval":5)",
                          const std::string& expires = "600") {
    return R"({"device_code":"CANARY-dc","user_code":"ABCD-EFGH",)"
           R"("verification_uri":"https://auth.example.com/realms/test/device",)"
           R"("verification_uri_complete":"https://auth.example.com/realms/test/device?user_code=ABCD-EFGH",)"
           R"("expires_in":)" +
           expires + extra + "}";
}

const std::string pending = R"({"error":"authorization_pending"})";
const std::string slow_down = R"({"error":"slow_down"})";
const std::string tokens =
    R"({"access_token":"CANARY-at","token_type":"Bearer","expires_in":300,"refresh_token":"CANARY-rt"})";

/// Seconds between consecutive polls.
std::vector<double> gaps(const std::vector<devflow::testing::recorded_request>& polls, double start) {
    std::vector<double> out;
    double previous = start;
    for (const auto& p : polls) {
        out.push_back(p.seconds() - previous);
        previous = p.seconds();
    }
    return out;
}

}  // namespace

TEST_CASE("the first poll comes one interval after the device authorization answer (RFC 8628 §3.4)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(1);
    auto flow = f.make_flow();
    flow->login();
    const auto polls = f.polls();
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].seconds() == Approx(5.0));  // interval 5 s, no margin (docs/protocol.md)
    CHECK(f.server.slow_downs() == 0);
}

TEST_CASE("the deadline and first poll count from receipt of the answer not from the request (RFC 8628 §3.2)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(1);
    f.http.set_latency(2s);  // every answer takes 2 s to arrive
    auto flow = f.make_flow();
    flow->login();
    const auto polls = f.polls();
    REQUIRE(polls.size() == 1);
    // Request sent at 0, answered at 2; first poll 5 s after the answer.
    CHECK(polls[0].seconds() == Approx(7.0));
}

TEST_CASE("pending then success polls once per interval and stops at the tokens (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(3);
    auto flow = f.make_flow();
    const auto t = flow->login();
    CHECK(t.access_token.reveal().rfind("CANARY-access-", 0) == 0);
    auto polls = f.polls();
    REQUIRE(polls.size() == 3);
    CHECK(gaps(polls, 0) == std::vector<double>{5.0, 5.0, 5.0});
    CHECK(f.server.slow_downs() == 0);
    // Stop polling once tokens arrive: later calls make no request at all.
    const auto before = f.http.requests().size();
    flow->authorization_header();
    flow->login();
    CHECK(f.http.requests().size() == before);
}

TEST_CASE("each wait is measured from the previous answer so a strict server never sees early polls (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;  // strict: Keycloak-like slow_down on any early poll
    f.server.approve_on_poll(6);
    f.http.set_latency(3s);
    auto flow = f.make_flow();
    flow->login();
    const auto polls = f.polls();
    REQUIRE(polls.size() == 6);
    for (std::size_t i = 1; i < polls.size(); ++i)
        CHECK(polls[i].seconds() - polls[i - 1].seconds() == Approx(8.0));  // 3 s answer + 5 s
    CHECK(f.server.slow_downs() == 0);
}

TEST_CASE("slow_down adds 5 s to the interval for every later poll (RFC 8628 §3.5)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    for (const auto& body : {slow_down, pending, pending})
        f.http.enqueue(cfg.token_endpoint, respond(400, body));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 12.5, 12.5, 12.5});
}

TEST_CASE("slow_down twice adds 10 s in all (RFC 8628 §3.5)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    for (const auto& body : {slow_down, slow_down, pending})
        f.http.enqueue(cfg.token_endpoint, respond(400, body));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 12.5, 18.75, 18.75});
}

TEST_CASE("a strict Keycloak-like server polled early by a fast clock is obeyed after one slow_down (RFC 8628 §3.5)",
          "[poll]") {
    devflow::testing::server_options o;
    o.interval = 5s;
    o.approve_on_poll = 3;
    fixture f{o};
    f.clock.set_sleep_scale(0.85);  // a clock that runs 15% fast: every wait is cut short
    auto flow = f.make_flow();
    flow->login();
    // The first poll is early (5 × 0.85 < 5); after one slow_down the
    // interval is 10 s and the margin a quarter of it, so no further one.
    CHECK(f.server.slow_downs() == 1);
    const auto polls = f.polls();
    REQUIRE(polls.size() == 4);
    CHECK(polls[1].seconds() - polls[0].seconds() == Approx(12.5 * 0.85));
}

TEST_CASE("the slow_down floor holds after a later transport error (RFC 8628 §3.5)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(400, slow_down));
    f.http.enqueue(cfg.token_endpoint, transport_failure());
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    const auto g = gaps(f.polls(), 0);
    REQUIRE(g.size() == 5);
    CHECK(g[0] == Approx(5.0));
    // After slow_down: 10 s plus the widened margin (a quarter interval).
    CHECK(g[1] == Approx(12.5));
    CHECK(g[2] == Approx(22.5));  // after the transport failure: backoff 2 × 10 s
    CHECK(g[3] == Approx(12.5));  // back to the raised floor, never 5 s again
    CHECK(g[4] == Approx(12.5));
}

TEST_CASE("slow_down with a larger interval in its body takes that interval (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(400, R"({"error":"slow_down","interval":30})"));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 37.5, 37.5});
}

TEST_CASE("an absent or null interval means 5 seconds (RFC 8628 §3.2)", "[poll]") {
    const std::string extra = GENERATE(std::string{}, std::string{R"(,"interval":null)"});
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer(extra)));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 5.0});
}

TEST_CASE("numbers sent as strings are accepted (RFC 8628 §3.2)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint,
                   respond(200, device_answer(R"(,"interval":"7")", R"("30")")));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint,
                   respond(200, R"({"access_token":"CANARY-at","token_type":"bearer","expires_in":"300"})"));
    auto flow = f.make_flow(cfg);
    const auto t = flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{7.0, 7.0});
    REQUIRE(t.expires_at);
    CHECK(*t.expires_at - f.clock.now() == 299s);  // 300 s less a second of server rounding
}

TEST_CASE("the verification_url alias is accepted and its complete form opened (RFC 8628 §3.2)",
          "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint,
                   respond(200, R"({"device_code":"CANARY-dc","user_code":"GOOG-LE12",)"
                                R"("verification_url":"https://www.google.com/device",)"
                                R"("verification_url_complete":"https://www.google.com/device?c=1",)"
                                R"("expires_in":1800,"interval":5})"));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    REQUIRE(f.prompts.size() == 1);
    CHECK(f.prompts[0].verification_uri == "https://www.google.com/device");
    CHECK(f.prompts[0].host == "www.google.com");
    CHECK(f.browser.opened() == std::vector<std::string>{"https://www.google.com/device?c=1"});
}

TEST_CASE("the browser opens verification_uri_complete and the prompt warns against phishing (RFC 8628 §3.3.1 and §5.4)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(1);
    auto flow = f.make_flow();
    flow->login();
    REQUIRE(f.browser.opened().size() == 1);
    CHECK(f.browser.opened()[0].find("/device?user_code=") != std::string::npos);
    REQUIRE(f.prompts.size() == 1);
    const auto& p = f.prompts[0];
    CHECK(p.browser_opened);
    CHECK(p.host == "auth.example.com");
    CHECK(p.text.find(p.user_code) != std::string::npos);
    CHECK(p.text.find("auth.example.com") != std::string::npos);
    CHECK(p.text.find("Approve only if you started this sign-in yourself") != std::string::npos);
    CHECK(p.expires_at - f.clock.start() == 599s);  // 600 s less a second of server rounding
}

TEST_CASE("a headless browser still gets the code shown and the flow goes on (RFC 8628 §3.3)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(1);
    f.browser.set_result(false);
    auto flow = f.make_flow();
    flow->login();
    REQUIRE(f.prompts.size() == 1);
    CHECK_FALSE(f.prompts[0].browser_opened);
    CHECK(f.prompts[0].text.find("browser window") == std::string::npos);
}

TEST_CASE("access_denied stops polling with that error and the server's words (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;
    f.server.deny();
    auto flow = f.make_flow();
    const auto e = expect_error([&] { flow->login(); }, errc::access_denied);
    CHECK(e.server_error() == "access_denied");
    CHECK(e.error_description() == "The end-user denied the authorization request");
    CHECK(e.http_status() == 400);
    CHECK(f.polls().size() == 1);
    CHECK_FALSE(f.store.load(flow->store_key()));
}

TEST_CASE("expired_token from the server stops polling (RFC 8628 §3.5)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, respond(400, R"({"error":"expired_token"})"));
    auto flow = f.make_flow(cfg);
    expect_error([&] { flow->login(); }, errc::expired_token);
    CHECK(f.polls().size() == 2);
}

TEST_CASE("the local deadline stops polling before expires_in passes (RFC 8628 §3.5)", "[poll]") {
    devflow::testing::server_options o;
    o.device_code_lifetime = 30s;
    o.approve_on_poll = 1000;  // never approves
    fixture f{o};
    auto flow = f.make_flow();
    const auto e = expect_error([&] { flow->login(); }, errc::expired_token);
    CHECK(e.server_error().empty());  // given up locally, not told by the server
    const auto polls = f.polls();
    REQUIRE(polls.size() == 5);  // 5, 10, 15, 20, 25; the next would be 30, past the deadline (29 s: anchored at the send less a second)
    CHECK(polls.back().seconds() < 30.0);
    CHECK(f.clock.elapsed() < 31s);  // it did not sleep past the deadline either
}

TEST_CASE("the same error body is classified alike with 400 401 and 428 (RFC 8628 §3.5)", "[poll]") {
    const int status = GENERATE(400, 401, 428);
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(status, pending));
    f.http.enqueue(cfg.token_endpoint, respond(status, slow_down));
    f.http.enqueue(cfg.token_endpoint, respond(status, R"({"error":"access_denied"})"));
    auto flow = f.make_flow(cfg);
    const auto e = expect_error([&] { flow->login(); }, errc::access_denied);
    CHECK(e.http_status() == status);
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 5.0, 12.5});
}

TEST_CASE("a 2xx answer without access_token is a malformed response (RFC 6749 §5.1)", "[poll]") {
    const std::string body = GENERATE(std::string{R"({"token_type":"Bearer"})"},
                                      std::string{R"({"access_token":""})"},
                                      std::string{"<html>ok</html>"});
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(200, body));
    auto flow = f.make_flow(cfg);
    expect_error([&] { flow->login(); }, errc::malformed_response);
    CHECK(f.polls().size() == 1);
}

TEST_CASE("an unknown error stops polling and is carried verbatim (RFC 6749 §5.2)", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint,
                   respond(400, R"({"error":"consent_revoked","error_description":"Gone.",)"
                                R"("error_uri":"https://auth.example.com/errors/1"})"));
    auto flow = f.make_flow(cfg);
    const auto e = expect_error([&] { flow->login(); }, errc::server_error);
    CHECK(e.server_error() == "consent_revoked");
    CHECK(e.error_description() == "Gone.");
    CHECK(e.error_uri() == "https://auth.example.com/errors/1");
}

TEST_CASE("a transport failure mid-poll is retried with backoff and the flow succeeds (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(400, pending));
    f.http.enqueue(cfg.token_endpoint, transport_failure());
    f.http.enqueue(cfg.token_endpoint, transport_failure(devflow::transport_error::timeout, "timed out"));
    f.http.enqueue(cfg.token_endpoint, respond(502, "<html>bad gateway</html>"));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    const auto t = flow->login();
    CHECK(t.access_token.reveal() == "CANARY-at");
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 5.0, 10.0, 20.0, 40.0});
    CHECK_FALSE(f.warnings.empty());
}

TEST_CASE("Retry-After on 429 and 503 is honoured (RFC 9110 §10.2.3)", "[poll]") {
    const int status = GENERATE(429, 503);
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer()));
    f.http.enqueue(cfg.token_endpoint, respond(status, "", {{"Retry-After", "45"}}));
    f.http.enqueue(cfg.token_endpoint, respond(200, tokens));
    auto flow = f.make_flow(cfg);
    flow->login();
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 45.0});
}

TEST_CASE("transport failures until the deadline end in expired_token without polling past it (RFC 8628 §3.5)",
          "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, respond(200, device_answer(R"(,"interval":5)", "120")));
    f.http.handle(cfg.token_endpoint, [](const auto&) { return transport_failure(); });
    auto flow = f.make_flow(cfg);
    const auto e = expect_error([&] { flow->login(); }, errc::expired_token);
    CHECK(std::string(e.what()).find("connection refused") != std::string::npos);
    for (const auto& p : f.polls()) CHECK(p.seconds() < 120.0);
    CHECK(gaps(f.polls(), 0) == std::vector<double>{5.0, 10.0, 20.0, 40.0});
}

TEST_CASE("cancellation mid-wait stops the flow with cancelled and no later poll", "[poll]") {
    fixture f;
    f.server.approve_on_poll(1000);
    std::stop_source stop;
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed > 12s) stop.request_stop();
    });
    auto flow = f.make_flow();
    expect_error([&] { flow->login(stop.get_token()); }, errc::cancelled);
    const auto polls = f.polls();
    REQUIRE(polls.size() == 2);
    CHECK(polls.back().seconds() < 12.0);
}

TEST_CASE("the device authorization request carries client_id and space-joined scope and extras (RFC 8628 §3.1)",
          "[poll]") {
    fixture f;
    f.server.approve_on_poll(1);
    auto cfg = f.server.config({"openid", "profile", "offline_access"});
    cfg.extra_parameters = {{"audience", "https://api.example.com"}};
    auto flow = f.make_flow(cfg);
    flow->login();
    const auto sent = f.http.requests_to(cfg.device_authorization_endpoint);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].body ==
          "client_id=devflow-cli&scope=openid+profile+offline_access&audience=https%3A%2F%2Fapi.example.com");
    CHECK(sent[0].header("content-type") == "application/x-www-form-urlencoded");
    const auto polls = f.polls();
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].field("device_code").rfind("CANARY-device-", 0) == 0);
    CHECK(polls[0].field("client_id") == "devflow-cli");
}

TEST_CASE("a confidential client authenticates with client_secret_basic and never sends client_id in the body (RFC 6749 §2.3.1)",
          "[poll]") {
    devflow::testing::server_options o;
    o.client_secret = "CANARY-client secret:1";
    o.approve_on_poll = 1;
    fixture f{o};
    auto flow = f.make_flow();
    flow->login();
    for (const auto& r : f.http.requests()) {
        CHECK_FALSE(r.has_field("client_id"));
        CHECK_FALSE(r.has_field("client_secret"));
        CHECK(r.header("authorization").rfind("Basic ", 0) == 0);
    }
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("device authorization errors carry the server's words", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint,
                   respond(400, R"({"error":"invalid_scope","error_description":"unknown scope x"})"));
    auto flow = f.make_flow(cfg);
    const auto e = expect_error([&] { flow->login(); }, errc::invalid_scope);
    CHECK(e.error_description() == "unknown scope x");
    CHECK(f.polls().empty());
}

TEST_CASE("a device authorization answer missing user_code is rejected before any prompt (RFC 8628 §3.2)",
          "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint,
                   respond(200, R"({"device_code":"CANARY-dc","verification_uri":"https://a.example/d","expires_in":600})"));
    auto flow = f.make_flow(cfg);
    const auto e = expect_error([&] { flow->login(); }, errc::malformed_response);
    CHECK(std::string(e.what()).find("user_code") != std::string::npos);
    CHECK(f.prompts.empty());
    CHECK(f.browser.opened().empty());
}

TEST_CASE("a device authorization request that gets no answer fails with transport_failed", "[poll]") {
    fixture f;
    auto cfg = f.server.config();
    f.http.enqueue(cfg.device_authorization_endpoint, transport_failure(devflow::transport_error::dns, "no such host"));
    auto flow = f.make_flow(cfg);
    expect_error([&] { flow->login(); }, errc::transport_failed);
}
