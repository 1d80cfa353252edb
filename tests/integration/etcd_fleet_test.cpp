// A fleet on etcd: eight processes that share no file keep one session in
// one three-member etcd cluster (sealed_store over etcd_store), at the real
// provider, which rotates refresh tokens and revokes the whole grant when a
// spent one comes back. Across three access-token expiries the lease-held
// lock lets exactly one refresh through per expiry, and none is replayed;
// so it does when the cluster's leader is killed, and when the lock holder is
// SIGKILLed in the middle of its refresh (the next process takes over when the
// holder's lease runs out).
// The processes are devflow_integration_worker --etcd
// (support/integration_worker.cpp); the cluster is tests/stores/etcd_cluster.hpp.
#include "catch.hpp"

#include "etcd_cluster.hpp"
#include "support/child_process.hpp"
#include "support/provider.hpp"
#include "support/simulated_user.hpp"
#include "support/worker_output.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/adapters/sealed_store.hpp>
#include <devflow/device_flow.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef DEVFLOW_INTEGRATION_WORKER
#error "define DEVFLOW_INTEGRATION_WORKER (tests/integration/CMakeLists.txt does)"
#endif

using namespace std::chrono_literals;
using namespace devflow_test;

using fleet_store = devflow::sealed_store<devflow::etcd_store<devflow::curl_http>>;

namespace {

/// What happens to the cluster while the fleet runs.
enum class disturbance { none, leader_killed, holder_killed_mid_refresh };

/// The process among `candidates` with a TCP socket on local port `port`
/// (/proc/net/tcp, then each process's descriptors), or -1.
::pid_t owner_of_port(long port, const std::vector<::pid_t>& candidates) {
    std::set<std::string> sockets;
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    std::getline(tcp, line);  // the header
    while (std::getline(tcp, line)) {
        std::istringstream in(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        in >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        const auto colon = local.find(':');
        if (colon != std::string::npos && std::strtol(local.c_str() + colon + 1, nullptr, 16) == port)
            sockets.insert("socket:[" + inode + "]");
    }
    for (const ::pid_t pid : candidates) {
        std::error_code ec;
        for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
            std::error_code link_ec;
            if (sockets.count(std::filesystem::read_symlink(fd.path(), link_ec).string()) != 0) return pid;
        }
    }
    return -1;
}

/// Runs the fleet scenario: signs in, starts the workers, waits for them and
/// checks the provider's counters.
void run_fleet(disturbance what) {
    // DEVFLOW_FLEET_PROCESSES=32 measures a larger fleet (docs/storage.md).
    const char* wanted = std::getenv("DEVFLOW_FLEET_PROCESSES");
    const int machines = wanted != nullptr && std::atoi(wanted) > 0 ? std::atoi(wanted) : 8;
    constexpr int expiries = 3;
    // Access tokens of 8 s: fresh for 4 s (the margin is capped at half the life).
    const bool kill_holder = what == disturbance::holder_killed_mid_refresh;
    // To kill the holder mid-refresh, the provider holds the first refresh
    // request until its client goes away, and then drops it unhandled.
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"},
                              {"DEVFLOW_ACCESS_TOKEN_TTL", "8"},
                              {"DEVFLOW_HOLD_FIRST_REFRESH", kill_holder ? "60" : "0"}}));
    etcd_cluster cluster;
    temp_dir dir;
    const auto key_file = dir.path() / "token-key";
    {
        std::ofstream out(key_file);
        out << std::string(64, 'c') << '\n';
    }
    ::chmod(key_file.c_str(), 0600);
    devflow::etcd_options etcd;
    etcd.endpoints = cluster.endpoints();
    etcd.prefix = "/fleet";

    user_options o;
    o.after_polls = 0;
    auto user = std::make_shared<simulated_user>(o);
    const devflow::client_config cfg = server.public_client();
    devflow::device_flow<devflow::curl_http, devflow::nlohmann_json, fleet_store, devflow::system_clock,
                         user_browser>
        flow(cfg, devflow::curl_http{}, {},
             fleet_store(devflow::etcd_store<devflow::curl_http>(devflow::curl_http{}, etcd),
                         fleet_store::read_key_file(key_file)),
             {}, user_browser{user});
    const devflow::token_set tokens = flow.login();
    INFO("simulated user: " << user->wait().output);
    REQUIRE(tokens.expires_at.has_value());

    // From now until 1.5 s after the third expiry's refresh is due.
    const auto stale_at = *tokens.expires_at - 4s;
    const auto until = stale_at + (expiries - 1) * 4s + 1500ms;
    const auto until_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until.time_since_epoch()).count();
    std::vector<std::unique_ptr<child_process>> workers;
    for (int i = 0; i < machines; ++i) {
        child_options w;
        w.argv = {DEVFLOW_INTEGRATION_WORKER, "--adapter", "curl"};
        for (const auto& e : cluster.endpoints()) {
            w.argv.emplace_back("--etcd");
            w.argv.push_back(e);
        }
        for (const std::string& arg :
             {std::string("--prefix"), std::string("/fleet"), std::string("--key-file"), key_file.string(),
              std::string("--issuer"), cfg.issuer, std::string("--device-endpoint"),
              cfg.device_authorization_endpoint, std::string("--token-endpoint"), cfg.token_endpoint,
              std::string("--userinfo"), server.userinfo_endpoint(), std::string("--client-id"), cfg.client_id,
              std::string("--scope"), std::string("openid"), std::string("--scope"), std::string("offline_access"),
              std::string("--until-ms"), std::to_string(until_ms)})
            w.argv.push_back(arg);
        w.stdout_file = worker_file(dir.path(), i, ".out").string();
        w.stderr_file = worker_file(dir.path(), i, ".err").string();
        workers.push_back(std::make_unique<child_process>(w));
    }
    const bool started_before_stale = std::chrono::system_clock::now() + 500ms < stale_at;
    if (what == disturbance::leader_killed) {
        // Just before the first expiry's refresh: the lock and the write
        // happen while the cluster elects a new leader.
        std::this_thread::sleep_until(stale_at - 300ms);
        cluster.kill_member(cluster.leader());
    }

    ::pid_t killed = -1;
    std::int64_t killed_at_ms = 0;
    if (kill_holder) {
        // The lock holder's refresh request reaches the provider and is held:
        // SIGKILL that process, mid-refresh, with the lock and its lease.
        std::vector<::pid_t> pids;
        for (const auto& w : workers) pids.push_back(w->pid());
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (killed < 0 && std::chrono::steady_clock::now() < give_up) {
            if (const auto port = count_at(server.stats(), {"held_refresh_port"}); port != 0)
                killed = owner_of_port(static_cast<long>(port), pids);
            if (killed < 0) std::this_thread::sleep_for(20ms);
        }
        REQUIRE(killed > 0);
        ::kill(killed, SIGKILL);
        killed_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    }

    long most_tokens = 0;
    for (int i = 0; i < machines; ++i) {
        const auto status = workers[static_cast<std::size_t>(i)]->wait_for(60s);
        const std::string output = worker_output(dir.path(), i);
        INFO("worker " << i << ": " << output);
        if (workers[static_cast<std::size_t>(i)]->pid() == killed) continue;
        REQUIRE(status.has_value());
        CHECK(*status == 0);
        CHECK(output.find("userinfo=200") != std::string::npos);
        CHECK(output.find("warning") == std::string::npos);
        const auto at = output.find("tokens=");
        if (at != std::string::npos) most_tokens = std::max(most_tokens, std::stol(output.substr(at + 7)));
    }

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    const auto refreshes = count_at(stats, {"refresh_requests"});
    // A refreshed token is fresh for about 3 s (8 s counted from the send
    // less 1 s of rounding, less the 4 s margin): a second refresh for the
    // same expiry would come well within that of the first.
    std::vector<std::int64_t> times = stats.at("refresh_times_ms").get<std::vector<std::int64_t>>();
    std::sort(times.begin(), times.end());
    const auto dropped = count_at(stats, {"refreshes_dropped"});
    if (kill_holder) {
        // The killed holder's refresh never reached the provider's handling;
        // the next holder took the lock when the lease ran out (3 s).
        CHECK(dropped == 1);
        REQUIRE(times.size() >= 2);
        const double takeover = static_cast<double>(times[1] - killed_at_ms) / 1000;
        std::printf("etcd fleet: %d processes, holder killed mid-refresh, the next refresh %.2f s later "
                    "(lease TTL 3 s)\n",
                    machines, takeover);
        CHECK(takeover < 3 + 2.0);
        times.erase(times.begin());
    } else {
        CHECK(dropped == 0);
    }
    std::int64_t closest_ms = -1;
    for (std::size_t i = 1; i < times.size(); ++i)
        if (closest_ms < 0 || times[i] - times[i - 1] < closest_ms) closest_ms = times[i] - times[i - 1];
    std::printf("etcd fleet: %d processes, %lld refresh requests, at most %ld tokens seen by one process, "
                "closest two refreshes %lld ms apart\n",
                machines, static_cast<long long>(refreshes), most_tokens, static_cast<long long>(closest_ms));
    const auto stale_ms = std::chrono::duration_cast<std::chrono::milliseconds>(stale_at.time_since_epoch()).count();
    std::printf("etcd fleet: refreshes at");
    for (const std::int64_t t : times) std::printf(" %+.2f", static_cast<double>(t - stale_ms) / 1000);
    std::printf(" s from the first expiry's refresh point; the run ended at %+.2f s\n",
                static_cast<double>(until_ms - stale_ms) / 1000);
    INFO(machines << " processes; closest two refreshes " << closest_ms << " ms apart");
    CHECK(refreshes >= expiries);
    CHECK(count_at(stats, {"token_successes", "refresh_token"}) == refreshes - dropped);  // none refused
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 0);
    CHECK(count_at(stats, {"grants_revoked"}) == 0);
    CHECK(count_at(stats, {"device_authorization_requests"}) == 1);
    // One refresh per expiry: no two refreshes within a token's freshness.
    CHECK(closest_ms >= 2000);
    // And with eight processes, each served every token: none starved. (32
    // processes on two cores queue for longer than a token's 3 s of
    // freshness, so one can miss a token's whole life; the check above still
    // holds for them.)
    if (started_before_stale && machines <= 8) CHECK(refreshes - dropped == most_tokens - 1);
}

}  // namespace

TEST_CASE("Processes on one etcd cluster refresh once per expiry with rotation", "[provider][etcd]") {
    run_fleet(disturbance::none);
}

TEST_CASE("The fleet carries on when the etcd leader is killed before an expiry", "[provider][etcd]") {
    run_fleet(disturbance::leader_killed);
}

TEST_CASE("A lock holder killed mid-refresh is taken over within its lease and the session survives",
          "[provider][etcd]") {
    run_fleet(disturbance::holder_killed_mid_refresh);
}
