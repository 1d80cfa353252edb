// Authorized requests (device_flow::send_authorized, the seed's get_auth):
// the header attached, a Bearer invalid_token challenge answered by one
// refresh and one retry (RFC 6750 §3.1), and the token only ever sent to
// the origin the caller named. Also the WWW-Authenticate parser.
#include "flow_fixture.hpp"

#include <devflow/detail/bearer_challenge.hpp>

#include <thread>

using namespace devflow_test;
using devflow::errc;
using devflow::detail::bearer_error;

namespace {

const std::string api = "https://api.example.com";
const std::string me = api + "/v1/me";

devflow::http_request get(const std::string& url) {
    devflow::http_request r;
    r.method = devflow::http_method::get;
    r.url = url;
    return r;
}

std::size_t calls_to(const fixture& f, const std::string& url) { return f.http.requests_to(url).size(); }

}  // namespace

TEST_CASE("bearer_error reads the error of the Bearer challenge (RFC 6750 §3)", "[authorized]") {
    CHECK(bearer_error(R"(Bearer realm="example", error="invalid_token", error_description="expired")") ==
          "invalid_token");
    CHECK(bearer_error("Bearer error=invalid_token") == "invalid_token");
    CHECK(bearer_error(R"(bearer ERROR="invalid_token")") == "invalid_token");
    CHECK(bearer_error(R"(Basic realm="x", Bearer error="insufficient_scope", scope="a b")") ==
          "insufficient_scope");
    CHECK(bearer_error(R"(Bearer realm="a\"b", error="invalid_token")") == "invalid_token");
    CHECK_FALSE(bearer_error(R"(Bearer realm="example")"));
    CHECK_FALSE(bearer_error(R"(Basic realm="x", error="invalid_token")"));  // not the Bearer one
    CHECK_FALSE(bearer_error(""));
}

TEST_CASE("an authorized request carries the access token to the named origin", "[authorized]") {
    fixture f;
    f.server.serve_resource(f.http, me);
    auto flow = f.make_flow();
    flow->login();
    const auto answer = flow->send_authorized(api, get(me));
    CHECK(answer.status == 200);
    const auto sent = f.http.requests_to(me);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].header("authorization").rfind("Bearer CANARY-access-", 0) == 0);
    CHECK(f.refreshes().empty());
}

TEST_CASE("a token revoked before its expiry is replaced after one 401 with one refresh and one "
          "retry (RFC 6750 §3.1)",
          "[authorized]") {
    fixture f;
    f.server.serve_resource(f.http, me);
    auto flow = f.make_flow();
    flow->login();
    f.server.revoke_access_tokens();  // the session lives on
    const auto answer = flow->send_authorized(api, get(me));
    CHECK(answer.status == 200);
    CHECK(calls_to(f, me) == 2);
    CHECK(f.refreshes().size() == 1);
    // The new token is the one the flow serves from now on.
    CHECK(f.server.accepts(flow->authorization_header().substr(7)));
}

TEST_CASE("a second 401 is returned and never looped on (RFC 6750 §3.1)", "[authorized]") {
    fixture f;
    f.http.handle(me, [](const devflow::testing::recorded_request&) {
        return devflow::testing::respond(401, "", {{"WWW-Authenticate", R"(Bearer error="invalid_token")"}});
    });
    auto flow = f.make_flow();
    flow->login();
    const auto answer = flow->send_authorized(api, get(me));
    CHECK(answer.status == 401);
    CHECK(calls_to(f, me) == 2);
    CHECK(f.refreshes().size() == 1);
}

TEST_CASE("any answer but a Bearer invalid_token challenge is returned as it is", "[authorized]") {
    fixture f;
    f.http.enqueue(me, devflow::testing::respond(401, "", {{"WWW-Authenticate", R"(Bearer error="invalid_request")"}}));
    f.http.enqueue(me, devflow::testing::respond(403, "", {{"WWW-Authenticate", R"(Bearer error="insufficient_scope")"}}));
    f.http.enqueue(me, devflow::testing::respond(401, "", {{"WWW-Authenticate", R"(Basic realm="x")"}}));
    auto flow = f.make_flow();
    flow->login();
    CHECK(flow->send_authorized(api, get(me)).status == 401);
    CHECK(flow->send_authorized(api, get(me)).status == 403);
    CHECK(flow->send_authorized(api, get(me)).status == 401);
    CHECK(calls_to(f, me) == 3);
    CHECK(f.refreshes().empty());
}

TEST_CASE("the token never goes to another origin than the one named, nor over plain http "
          "(docs/design.md authorized requests)",
          "[authorized]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    const auto before = f.http.requests().size();
    for (const char* url : {"https://evil.example.com/v1/me", "https://api.example.com:8443/v1/me",
                            "http://api.example.com/v1/me"}) {
        INFO(url);
        expect_error([&] { (void)flow->send_authorized(api, get(url)); }, errc::invalid_config);
    }
    expect_error([&] { (void)flow->send_authorized("http://api.example.com", get("http://api.example.com/x")); },
                 errc::insecure_endpoint);
    CHECK(f.http.requests().size() == before);
    // The default port is the same origin.
    f.http.handle("https://API.example.com:443/v1/me",
                  [](const devflow::testing::recorded_request&) { return devflow::testing::respond(200, "{}"); });
    CHECK(flow->send_authorized(api, get("https://API.example.com:443/v1/me")).status == 200);
}

TEST_CASE("threads refused at once share one refresh (RFC 6750 §3.1; docs/security.md S16)",
          "[authorized][concurrency]") {
    fixture f;
    f.server.serve_resource(f.http, me);
    auto flow = f.make_flow();
    flow->login();
    f.server.revoke_access_tokens();
    std::vector<int> statuses(8);
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < statuses.size(); ++i)
            threads.emplace_back([&, i] { statuses[i] = flow->send_authorized(api, get(me)).status; });
    }
    for (int s : statuses) CHECK(s == 200);
    CHECK(f.refreshes().size() == 1);
}
