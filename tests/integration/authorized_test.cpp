// Authorized requests (device_flow::send_authorized) against the real
// provider's userinfo endpoint: a token revoked at the server is replaced
// after one 401, with one refresh and one retry; a resource server that
// keeps refusing gets its second 401 returned, not looped on (RFC 6750 §3.1).
#include "catch.hpp"

#include "support/local_http_server.hpp"
#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/device_flow.hpp>

#include <memory>
#include <string>

namespace {

using namespace devflow_test;
using flow_type = devflow::device_flow<devflow::curl_http, devflow::nlohmann_json, devflow::memory_store,
                                       devflow::system_clock, user_browser>;

devflow::http_request get(const std::string& url) {
    devflow::http_request r;
    r.method = devflow::http_method::get;
    r.url = url;
    return r;
}

}  // namespace

TEST_CASE("A token revoked at the provider is replaced after one 401 with one refresh and one "
          "retry (RFC 6750 §3.1)",
          "[authorized][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = std::make_shared<simulated_user>(user_options{});
    flow_type flow(server.public_client(), make_adapter<devflow::curl_http>(), {}, {}, {}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    const devflow::token_set t = flow.login();
    (void)user->wait();
    const std::string origin = *devflow::detail::origin_of(server.userinfo_endpoint());
    REQUIRE(flow.send_authorized(origin, get(server.userinfo_endpoint())).status == 200);

    // The access token alone is destroyed at the provider: the session lives on.
    REQUIRE(server.drop_access_token(t.access_token));
    REQUIRE(get_userinfo<devflow::curl_http>(server, "Bearer " + t.access_token.reveal()).status == 401);
    const auto refreshes_before = server.stat({"refresh_requests"});
    const auto answer = flow.send_authorized(origin, get(server.userinfo_endpoint()));
    CHECK(answer.status == 200);
    CHECK(server.stat({"refresh_requests"}) - refreshes_before == 1);
    CHECK(get_userinfo<devflow::curl_http>(server, flow.authorization_header()).status == 200);
}

TEST_CASE("A resource server that keeps refusing gets its second 401 returned and is never "
          "looped on (RFC 6750 §3.1)",
          "[authorized][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    local_http_server api([](httplib::Server& s) {
        s.Get("/v1/me", [](const httplib::Request&, httplib::Response& res) {
            res.status = 401;
            res.set_header("WWW-Authenticate", R"(Bearer realm="api", error="invalid_token")");
        });
    });
    auto user = std::make_shared<simulated_user>(user_options{});
    flow_type flow(server.public_client(), make_adapter<devflow::curl_http>(), {}, {}, {}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    flow.login();
    (void)user->wait();
    const auto refreshes_before = server.stat({"refresh_requests"});
    const auto answer = flow.send_authorized(*devflow::detail::origin_of(api.url("/")), get(api.url("/v1/me")));
    CHECK(answer.status == 401);
    CHECK(api.requests().size() == 2);
    CHECK(server.stat({"refresh_requests"}) - refreshes_before == 1);
}
