// Single-flight refresh (docs/design.md §2): many threads across one expiry make one
// refresh request, in one process and across "processes" sharing a lockable store.
#include "flow_fixture.hpp"

#include <set>
#include <thread>

using namespace devflow_test;

TEST_CASE("64 threads across one expiry make exactly one refresh request (docs/design.md §2)",
          "[concurrency]") {
    fixture f;
    f.http.set_latency(1s);  // the refresh takes a while: threads pile up behind it
    auto flow = f.make_flow();
    flow->login();
    const auto before = flow->authorization_header();
    f.clock.advance(290s);
    std::vector<std::string> headers(64);
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < headers.size(); ++i)
            threads.emplace_back([&, i] { headers[i] = flow->authorization_header(); });
    }
    CHECK(f.refreshes().size() == 1);
    const std::set<std::string> distinct(headers.begin(), headers.end());
    CHECK(distinct.size() == 1);
    CHECK(*distinct.begin() != before);
    CHECK(f.server.accepts(distinct.begin()->substr(7)));
}

TEST_CASE("flows sharing a lockable store refresh once across an expiry like processes (docs/design.md §2)",
          "[concurrency]") {
    fixture f;
    f.http.set_latency(1s);
    auto first = f.make_flow();
    first->login();
    std::vector<std::unique_ptr<test_flow>> flows;
    for (int i = 0; i < 4; ++i) {
        flows.push_back(f.make_flow());
        flows.back()->authorization_header();  // each "process" has the record cached
    }
    f.clock.advance(290s);
    std::vector<std::string> headers(16);
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < headers.size(); ++i)
            threads.emplace_back([&, i] { headers[i] = flows[i % flows.size()]->authorization_header(); });
    }
    // Lock, re-read, refresh only if still needed: one refresh, no replay of
    // a rotated refresh token (which would have killed the grant).
    CHECK(f.refreshes().size() == 1);
    CHECK(f.server.successful_refreshes() == 1);
    const std::set<std::string> distinct(headers.begin(), headers.end());
    CHECK(distinct.size() == 1);
    CHECK(f.server.accepts(distinct.begin()->substr(7)));
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("threads waiting behind a device flow share its result with no second sign-in",
          "[concurrency]") {
    fixture f;
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::interactive;  // the first caller signs in
    auto flow = f.make_flow(cfg);
    std::vector<std::string> headers(8);
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < headers.size(); ++i)
            threads.emplace_back([&, i] { headers[i] = flow->authorization_header(); });
    }
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
    CHECK(std::set<std::string>(headers.begin(), headers.end()).size() == 1);
}
