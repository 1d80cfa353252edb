// Calls one hot-path operation N times, for counting instructions per call
// under valgrind (bench/hot_path_instructions.sh): unlike time, the count does
// not depend on what else the machine is doing. docs/performance.md#hot-path
//
//     devflow_bench_hot_path_loop floor|fake_clock|system_clock TOKEN_BYTES N
#include "bench_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile std::size_t sink = 0;

template <class F>
void repeat(long n, F f) {
    for (long i = 0; i < n; ++i) {
        const std::string h = f();
        sink = sink + h.size();
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs(
            "usage: devflow_bench_hot_path_loop floor|fake_clock|system_clock TOKEN_BYTES N\n",
            stderr);
        return 2;
    }
    const std::string what = argv[1];
    const auto length = static_cast<std::size_t>(std::strtoul(argv[2], nullptr, 10));
    const long n = std::strtol(argv[3], nullptr, 10);

    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow_bench::script_server(http, length, std::chrono::hours{24 * 365 * 5});
    devflow::memory_store store;
    devflow_bench::bench_flow<devflow::testing::fake_clock> fake(
        devflow_bench::bench_config(), http, devflow::nlohmann_json{}, store, clock,
        devflow::testing::recording_browser{});
    devflow_bench::silence(fake);
    fake.login();
    const std::string header = fake.authorization_header();
    devflow_bench::bench_flow<devflow::system_clock> real(
        devflow_bench::bench_config(), http, devflow::nlohmann_json{}, store,
        devflow::system_clock{}, devflow::testing::recording_browser{});
    devflow_bench::silence(real);
    if (real.authorization_header() != header) return 1;

    if (what == "floor")
        repeat(n, [&] { return header; });
    else if (what == "fake_clock")
        repeat(n, [&] { return fake.authorization_header(); });
    else if (what == "system_clock")
        repeat(n, [&] { return real.authorization_header(); });
    else
        return 2;
    return 0;
}
