#!/usr/bin/env bash
# Every benchmark of docs/performance.md, in one go, on a Release build; the
# output is the material of that page. Nothing here asserts on time.
#   bench/run.sh [OUTPUT_DIR]          (default build/bench/results)
# Environment: DEVFLOW_BENCH_BUILD (build tree), DEVFLOW_BENCH_SKIP=compile,peer,...
# to leave parts out (hot-path, instructions, storm, cli, compile, peer).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$("$here/bench/build.sh")"
out="${1:-$build/results}"
mkdir -p "$out"
skip=",${DEVFLOW_BENCH_SKIP:-},"
wanted() { [[ "$skip" != *",$1,"* ]]; }
section() { printf '\n## %s\n\n' "$1"; }

{
    echo "# devflow benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1);" \
         "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "compilers: $(g++ --version | head -n1); $(clang++ --version | head -n1)"
    echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
         "$(git -C "$here" diff --quiet 2>/dev/null || echo '(with local changes)')"

    if wanted hot-path; then
        section "authorization_header() hot path (least of 10 repetitions)"
        "$build/bench/devflow_bench_authorization_header" --benchmark_min_time=0.2 \
            --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true \
            --benchmark_report_aggregates_only=true --benchmark_out="$out/hot_path.json" \
            --benchmark_out_format=json 2>/dev/null | grep -E '_min|^Benchmark|^---'
    fi
    if wanted instructions; then
        section "hot path, instructions per call (valgrind)"
        "$here/bench/hot_path_instructions.sh" "$build/bench/devflow_bench_hot_path_loop"
    fi
    if wanted storm; then
        section "64 threads across an expiry"
        "$build/bench/devflow_bench_refresh_storm" --benchmark_repetitions=5 \
            --benchmark_report_aggregates_only=true --benchmark_out="$out/storm.json" \
            --benchmark_out_format=json 2>/dev/null | grep -E '_(median|min)|^Benchmark|^---'
    fi
    if wanted cli; then
        section "devflow token, warm cache, no network"
        if [[ -x "$build/tools/devflow" ]]; then
            "$here/bench/cli_token.sh" "$build/tools/devflow" 300 "$build/bench/devflow_bench_curl_floor" \
                "$build/bench/devflow_bench_cli_floor"
        else
            echo "skipped: the devflow CLI is not built ($build/tools/devflow)"
        fi
    fi
    if wanted compile; then
        section "compile time of one translation unit (CPU s, peak memory; least of 2)"
        "$here/bench/compile_time.sh" 2
    fi
    if wanted peer; then
        section "side by side with openid-client"
        echo "### the user approves 3 s after the code is shown"
        echo
        "$here/bench/peer.sh" --rounds 5 --scenarios normal,fast-keycloak,fast-rfc \
            --timeout-s 40 --json "$out/peer.json" 2>"$out/peer.log"
        echo
        echo "### the moment of approval swept over one polling period"
        echo
        "$here/bench/peer.sh" --rounds 8 --scenarios normal \
            --delay-ms 3000,3250,3500,3750,4000,4250,4500,4750 \
            --json "$out/peer-sweep.json" 2>"$out/peer-sweep.log"
    fi
} | tee "$out/summary.md"
echo "bench: results in $out" >&2
