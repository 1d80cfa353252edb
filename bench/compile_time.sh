#!/usr/bin/env bash
# Compile time of one translation unit that instantiates device_flow: with the
# test doubles (bench/compile/fake_policies.cpp) and as shipped with curl +
# nlohmann (bench/compile/curl_nlohmann.cpp), next to two references: the
# standard headers the core uses, and nlohmann/json alone
# (docs/performance.md#compile-time).
#
#   bench/compile_time.sh [REPEATS]      (default 3; the least CPU time is kept)
#
# Each cell: CPU seconds (user + sys, less disturbed by a busy machine than
# wall time) and peak memory of the compiler, for -fsyntax-only, -c -O0 -g
# (a debug build) and -c -O2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repeats="${1:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

includes=(-I"$here/include")
for d in "$here"/adapters/*/include; do includes+=(-I"$d"); done
# DEVFLOW_COMPILE_UNITS="a b" times only those units.
read -r -a units <<<"${DEVFLOW_COMPILE_UNITS:-standard_library nlohmann_alone fake_policies curl_nlohmann}"
modes=("-fsyntax-only" "-c -O0 -g" "-c -O2")

# Prints "CPU_SECONDS PEAK_MIB" for the least CPU time of $repeats runs.
measure() {
    local best="" best_mem=""
    for _ in $(seq "$repeats"); do
        /usr/bin/time -f '%U %S %M' -o "$work/t" "$@" -o "$work/out.o" >/dev/null 2>"$work/err" ||
            { cat "$work/err" >&2; return 1; }
        read -r user sys mem <"$work/t"
        local cpu
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        if [[ -z "$best" ]] || awk -v a="$cpu" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$cpu"; best_mem=$((mem / 1024))
        fi
    done
    echo "$best $best_mem"
}

echo "| compiler | translation unit | -fsyntax-only | -c -O0 -g | -c -O2 |"
echo "|----------|------------------|---------------|-----------|--------|"
for cxx in g++ clang++; do
    command -v "$cxx" >/dev/null || continue
    version="$("$cxx" --version | head -n1 | sed 's/.*) //; s/ (.*//; s/^.*version //')"
    for unit in "${units[@]}"; do
        row="| $cxx $version | $unit.cpp |"
        for mode in "${modes[@]}"; do
            # shellcheck disable=SC2086 # $mode holds several flags
            read -r cpu mem < <(measure "$cxx" -std=c++20 $mode "${includes[@]}" "$here/bench/compile/$unit.cpp")
            row+=" ${cpu} s, ${mem} MiB |"
        done
        echo "$row"
    done
done
