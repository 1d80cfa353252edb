// 64 real threads call authorization_header() at once just after the access
// token has entered its refresh margin. Measured: refresh requests the server
// got (must be 1: single flight, docs/design.md §2) and the wall time until every
// thread holds its header, with the token endpoint answering after a real
// delay. Wall time of the token (expiry) is virtual: the fake clock crosses
// the expiry without waiting. docs/performance.md#refresh-storm
#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// The fake server's http_client, answering each request after a real delay.
struct slow_http {
    devflow::testing::fake_http inner;
    std::shared_ptr<std::atomic<long>> latency_us = std::make_shared<std::atomic<long>>(0);

    devflow::http_response send(const devflow::http_request& request) {
        const long us = latency_us->load();
        if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds{us});
        return inner.send(request);
    }
};

// Set when a round breaks single flight; main() then fails, so the smoke test
// (ctest -L bench) checks the count while never looking at a time.
std::atomic<bool> single_flight_broken{false};

using storm_flow = devflow::device_flow<slow_http, devflow::nlohmann_json, devflow::memory_store,
                                        devflow::testing::fake_clock,
                                        devflow::testing::recording_browser>;

void refresh_storm(benchmark::State& state) {
    const auto threads = static_cast<std::size_t>(state.range(0));
    const auto latency = std::chrono::milliseconds{state.range(1)};
    std::int64_t refreshes = 0, worst_refreshes = 0, rounds = 0;
    double slowest_thread_s = 0;
    for (auto _ : state) {
        // A signed-in flow whose token enters its refresh margin (lifetime
        // 300 s, margin 60 s) at the moment the threads start.
        devflow::testing::fake_clock clock;
        slow_http http{devflow::testing::fake_http{clock}};
        devflow::testing::server_options options;
        options.approve_on_poll = 1;
        devflow::testing::fake_authorization_server server(http.inner, clock, options);
        storm_flow flow(server.config(), http, devflow::nlohmann_json{}, devflow::memory_store{},
                        clock, devflow::testing::recording_browser{});
        devflow_bench::silence(flow);
        flow.login();
        const std::string before = flow.authorization_header();
        clock.advance(250s);
        http.latency_us->store(
            std::chrono::duration_cast<std::chrono::microseconds>(latency).count());

        std::vector<steady::time_point> done(threads);
        std::vector<std::string> headers(threads);
        std::latch ready(static_cast<std::ptrdiff_t>(threads) + 1);
        std::latch go(1);
        std::vector<std::jthread> pool;
        pool.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i)
            pool.emplace_back([&, i] {
                ready.count_down();
                go.wait();
                headers[i] = flow.authorization_header();
                done[i] = steady::now();
            });
        ready.arrive_and_wait();
        const auto start = steady::now();
        go.count_down();
        pool.clear();  // joins every thread
        const auto last = *std::max_element(done.begin(), done.end());
        const double seconds = std::chrono::duration<double>(last - start).count();
        state.SetIterationTime(seconds);
        slowest_thread_s = std::max(slowest_thread_s, seconds);

        const std::int64_t made = server.refreshes();
        refreshes += made;
        worst_refreshes = std::max(worst_refreshes, made);
        ++rounds;
        const bool all_new = std::all_of(headers.begin(), headers.end(), [&](const std::string& h) {
            return h == headers.front() && h != before;
        });
        if (made != 1 || !all_new) {
            single_flight_broken = true;
            state.SkipWithError("single flight broken: more than one refresh, or threads got "
                                "different or stale headers");
            break;
        }
    }
    state.counters["refresh_requests_per_round"] =
        rounds ? static_cast<double>(refreshes) / static_cast<double>(rounds) : 0;
    state.counters["refresh_requests_worst"] = static_cast<double>(worst_refreshes);
    state.counters["slowest_round_ms"] = slowest_thread_s * 1e3;
    state.counters["server_latency_ms"] = static_cast<double>(latency.count());
}

double least(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace

BENCHMARK(refresh_storm)
    ->ArgNames({"threads", "latency_ms"})
    ->Args({64, 0})
    ->Args({64, 20})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", least);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return single_flight_broken ? 1 : 0;
}
