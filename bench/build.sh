#!/usr/bin/env bash
# Configures (once) and builds a Release tree for the benchmarks and prints its
# path: $DEVFLOW_BENCH_BUILD, default build/bench. Used by run.sh and peer.sh.
#   bench/build.sh [TARGET...]          (default: every benchmark and the CLI)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DEVFLOW_BENCH_BUILD:-$here/build/bench}"
if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DDEVFLOW_REQUIRE_ADAPTERS=ON -DDEVFLOW_BUILD_TESTS=OFF -DDEVFLOW_BUILD_EXAMPLES=OFF \
        -DDEVFLOW_INSTALL=OFF -DDEVFLOW_BUILD_BENCHMARKS=ON >&2
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(devflow_bench_authorization_header devflow_bench_refresh_storm
             devflow_bench_hot_path_loop devflow_bench_device_flow_peer
             devflow_bench_curl_floor devflow_bench_cli_floor)
    [[ -f "$here/tools/CMakeLists.txt" ]] && targets+=(devflow_cli devflow_cli_module)
fi
cmake --build "$build" -j "${DEVFLOW_BENCH_JOBS:-2}" --target "${targets[@]}" >&2
echo "$build"
