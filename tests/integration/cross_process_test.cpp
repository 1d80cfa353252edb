// Four processes share one file_store directory and call
// authorization_header() across an access-token expiry: the store's
// cross-process lock lets exactly one refresh reach the real provider, and
// none of them replays a spent refresh token (docs/design.md §2). The processes
// are devflow_integration_worker (support/integration_worker.cpp).
#include "catch.hpp"
#if defined(DEVFLOW_CATCH_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include "support/child_process.hpp"
#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"
#include "support/worker_output.hpp"
#include "support/test_certificate.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/file_store.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#ifndef DEVFLOW_INTEGRATION_WORKER
#error "define DEVFLOW_INTEGRATION_WORKER (tests/integration/CMakeLists.txt does)"
#endif

using namespace std::chrono_literals;
using namespace devflow_test;

TEMPLATE_TEST_CASE("Four processes sharing one file store refresh an expired token exactly once",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    // Access tokens of 10 s: fresh for 5 s (the margin is capped at half the
    // life). A record read back from the store has its times in whole
    // seconds, so a worker may see it stale up to 1 s sooner.
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_ACCESS_TOKEN_TTL", "10"}}));
    temp_dir dir;
    const auto store_dir = dir.path() / "tokens";
    user_options o;
    o.after_polls = 0;
    auto user = std::make_shared<simulated_user>(o);
    devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::file_store,
                         devflow::system_clock, user_browser>
        flow(server.public_client(), observed_adapter<TestType>(server, user), {},
             devflow::file_store(store_dir), {}, user_browser{user});
    auto out = capture_output(flow);
    const devflow::token_set tokens = flow.login();
    INFO("simulated user: " << user->wait().output);
    REQUIRE(tokens.expires_at.has_value());

    // The workers run from now until 1.5 s after the token turned stale:
    // across one refresh, and well before the new token turns stale (at least
    // 5 - 1 - 1 = 3 s after the old one did).
    const auto stale_at = *tokens.expires_at - 5s;
    const auto until = stale_at + 1500ms;
    const auto until_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(until.time_since_epoch()).count();
    const devflow::client_config cfg = server.public_client();
    std::vector<std::unique_ptr<child_process>> workers;
    for (int i = 0; i < 4; ++i) {
        child_options w;
        w.argv = {DEVFLOW_INTEGRATION_WORKER,
                  "--adapter", std::string(adapter_name<TestType>()),
                  "--store", store_dir.string(),
                  "--issuer", cfg.issuer,
                  "--device-endpoint", cfg.device_authorization_endpoint,
                  "--token-endpoint", cfg.token_endpoint,
                  "--userinfo", server.userinfo_endpoint(),
                  "--client-id", cfg.client_id,
                  "--scope", "openid",
                  "--scope", "offline_access",
                  "--until-ms", std::to_string(until_ms)};
        w.stdout_file = worker_file(dir.path(), i, ".out").string();
        w.stderr_file = worker_file(dir.path(), i, ".err").string();
        workers.push_back(std::make_unique<child_process>(w));
    }
    const bool started_before_stale = std::chrono::system_clock::now() + 500ms < stale_at;

    for (int i = 0; i < 4; ++i) {
        const auto status = workers[static_cast<std::size_t>(i)]->wait_for(30s);
        const std::string output = worker_output(dir.path(), i);
        INFO("worker " << i << ": " << output);
        REQUIRE(status.has_value());
        CHECK(*status == 0);
        CHECK(output.find("userinfo=200") != std::string::npos);
        // Each process served the first token, then the refreshed one.
        if (started_before_stale) CHECK(output.find("tokens=2") != std::string::npos);
    }

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"refresh_requests"}) == 1);
    CHECK(count_at(stats, {"token_successes", "refresh_token"}) == 1);
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 0);
    CHECK(count_at(stats, {"grants_revoked"}) == 0);
    CHECK(count_at(stats, {"device_authorization_requests"}) == 1);
    CHECK(count_at(stats, {"userinfo_requests"}) == 4);

    // The parent, holding the first token in memory, takes the refreshed one
    // from the store without a request of its own.
    const std::string header = flow.authorization_header();
    CHECK(flow.http().journal().of(exchange_kind::refresh).empty());
    CHECK(get_userinfo<TestType>(server, header).status == 200);
    CHECK(server.stat({"refresh_requests"}) == 1);
}
