// The hot path: authorization_header() with a valid cached token, next to its
// floor (copying a std::string as long as "Bearer " + token), on 1 and 2
// threads, with the fake clock (a mutex per now()) and the system clock. The
// parts are timed too, so a ratio far from 1 can be explained.
// docs/performance.md#hot-path
#include "bench_support.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <vector>

#include <time.h>

namespace {

using namespace std::chrono_literals;
using devflow_bench::bench_flow;
using fake_flow = bench_flow<devflow::testing::fake_clock>;
using real_flow = bench_flow<devflow::system_clock>;

// Opaque-token length (Keycloak's are JWTs; Entra ID's opaque ones are shorter)
// and JWT length.
constexpr std::size_t short_token = 40;
constexpr std::size_t jwt_token = 1200;

struct flows {
    std::unique_ptr<fake_flow> fake;
    std::unique_ptr<real_flow> real;
    std::string header;  // what both serve, for the floor
};

std::map<std::size_t, flows>& all_flows() {
    static std::map<std::size_t, flows> m;
    return m;
}

// Signs in once in virtual time; a system-clock flow then reads the same
// stored record (valid for five years of wall time, so the real clock sees it
// fresh) into its cache.
flows make_flows(std::size_t length) {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow_bench::script_server(http, length, std::chrono::hours{24 * 365 * 5});
    devflow::memory_store store;
    flows f;
    f.fake = std::make_unique<fake_flow>(devflow_bench::bench_config(), http,
                                         devflow::nlohmann_json{}, store, clock,
                                         devflow::testing::recording_browser{});
    devflow_bench::silence(*f.fake);
    f.fake->login();
    f.header = f.fake->authorization_header();
    f.real = std::make_unique<real_flow>(devflow_bench::bench_config(), http,
                                         devflow::nlohmann_json{}, store, devflow::system_clock{},
                                         devflow::testing::recording_browser{});
    devflow_bench::silence(*f.real);
    if (f.real->authorization_header() != f.header)
        throw std::runtime_error("set-up: headers differ");
    if (http.requests().size() != 2) throw std::runtime_error("set-up: unexpected requests");
    return f;
}

void floor_copy(benchmark::State& state) {
    const std::string& header = all_flows().at(static_cast<std::size_t>(state.range(0))).header;
    for (auto _ : state) {
        std::string copy = header;
        benchmark::DoNotOptimize(copy.data());
        benchmark::ClobberMemory();
    }
    state.counters["header_bytes"] =
        benchmark::Counter(static_cast<double>(header.size()), benchmark::Counter::kAvgThreads);
}

template <class Flow>
void header_of(benchmark::State& state, Flow& flow) {
    for (auto _ : state) {
        std::string h = flow.authorization_header();
        benchmark::DoNotOptimize(h.data());
        benchmark::ClobberMemory();
    }
}

void fake_clock_header(benchmark::State& state) {
    header_of(state, *all_flows().at(static_cast<std::size_t>(state.range(0))).fake);
}

void system_clock_header(benchmark::State& state) {
    header_of(state, *all_flows().at(static_cast<std::size_t>(state.range(0))).real);
}

// The parts of the hot path, for the explanation.
void part_fake_clock_now(benchmark::State& state) {
    static devflow::testing::fake_clock clock;
    for (auto _ : state) benchmark::DoNotOptimize(clock.now());
}

void part_system_clock_now(benchmark::State& state) {
    const devflow::system_clock clock;
    for (auto _ : state) benchmark::DoNotOptimize(clock.now());
}

// What a coarse wall clock would cost instead (resolution: one tick, ~4 ms).
void part_coarse_clock(benchmark::State& state) {
    for (auto _ : state) {
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        benchmark::DoNotOptimize(ts);
    }
}

void part_mutex(benchmark::State& state) {
    static std::mutex mutex;
    for (auto _ : state) {
        std::lock_guard lock(mutex);
        benchmark::DoNotOptimize(&lock);
    }
}

void part_shared_lock(benchmark::State& state) {
    static std::shared_mutex mutex;
    for (auto _ : state) {
        std::shared_lock lock(mutex);
        benchmark::DoNotOptimize(&lock);
    }
}

void part_concatenate(benchmark::State& state) {
    const std::string& header = all_flows().at(static_cast<std::size_t>(state.range(0))).header;
    const std::string token = header.substr(7);
    for (auto _ : state) {
        std::string h = "Bearer " + token;
        benchmark::DoNotOptimize(h.data());
        benchmark::ClobberMemory();
    }
}

// The least time of the repetitions: on a shared machine, other processes
// only ever add time, so the minimum is the least noisy estimate.
double least(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// Real time, per-thread count, and the least of the repetitions.
benchmark::internal::Benchmark* common(benchmark::internal::Benchmark* b, int threads) {
    return b->Threads(threads)->UseRealTime()->ComputeStatistics("min", least);
}

void register_all() {
    for (const std::size_t length : {short_token, jwt_token})
        all_flows().emplace(length, make_flows(length));
    for (const int threads : {1, 2}) {
        for (const std::size_t length : {short_token, jwt_token}) {
            const auto len = static_cast<std::int64_t>(length);
            const auto add = [&](const char* name, void (*fn)(benchmark::State&)) {
                common(benchmark::RegisterBenchmark(name, fn), threads)
                    ->Arg(len)
                    ->ArgName("token_bytes");
            };
            add("floor: copy the header string", floor_copy);
            add("authorization_header: system_clock", system_clock_header);
            add("authorization_header: fake_clock", fake_clock_header);
            add("part: \"Bearer \" + token", part_concatenate);
        }
        common(benchmark::RegisterBenchmark("part: fake_clock::now", part_fake_clock_now), threads);
        common(benchmark::RegisterBenchmark("part: system_clock::now", part_system_clock_now),
               threads);
        common(benchmark::RegisterBenchmark("part: CLOCK_REALTIME_COARSE", part_coarse_clock),
               threads);
        common(benchmark::RegisterBenchmark("part: shared_mutex shared lock+unlock",
                                            part_shared_lock),
               threads);
        common(benchmark::RegisterBenchmark("part: mutex lock+unlock", part_mutex), threads);
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
