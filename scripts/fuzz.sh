#!/usr/bin/env bash
# Builds devflow's libFuzzer targets (CMake preset `fuzz`: clang,
# -fsanitize=fuzzer,address,undefined) and runs them (docs/hardening.md).
#
#   scripts/fuzz.sh [SECONDS]          each target for SECONDS (default 30), one after another
#   scripts/fuzz.sh --parallel TOTAL   every target within TOTAL seconds of wall time,
#                                      JOBS (default: nproc) targets at a time
#   scripts/fuzz.sh --smoke            what scripts/test.sh runs: --parallel 60 --jobs 2
#                                      (12 s per target, about 1 minute plus the build)
#   options: --jobs N  --target NAME (repeatable)  --no-build
#            --merge (afterwards, minimise build/fuzz/corpus/<target> to the
#            inputs that add coverage)
#
# Inputs that found new coverage accumulate in build/fuzz/corpus/<target>; the
# seeds in tests/fuzz/corpus/<target> are only read. A crash, leak, timeout or
# broken invariant is copied to tests/fuzz/regressions/<target>/, where the
# `fuzz` ctest label replays it with the normal compilers from then on; the
# script then exits 1. Prints a table: executions, exec/s, coverage, corpus.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

seconds=30
total=""
jobs="$(nproc)"
merge=0
build=1
targets=()
while (($#)); do
    case "$1" in
        --smoke) total=60; jobs=2 ;;
        --parallel) total="${2:?--parallel needs a number of seconds}"; shift ;;
        --jobs) jobs="${2:?--jobs needs a number}"; shift ;;
        --target) targets+=("${2:?--target needs a name}"); shift ;;
        --merge) merge=1 ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        [0-9]*) seconds="$1" ;;
        *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

build_dir="$here/build/fuzz"
bin_dir="$build_dir/tests/fuzz"
if ((build)); then
    echo "== fuzz: configure and build (preset fuzz)"
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz --target devflow_fuzz -j "$jobs"
fi
[[ -x "$bin_dir/devflow_fuzz" ]] || { echo "fuzz.sh: $bin_dir/devflow_fuzz is missing" >&2; exit 1; }

if ((${#targets[@]} == 0)); then
    for source in "$here"/tests/fuzz/targets/*.cpp; do
        name="$(basename "$source" .cpp)"
        targets+=("$name")
    done
fi
count=${#targets[@]}
if [[ -n "$total" ]]; then
    ((jobs >= 1)) || jobs=1
    ((jobs <= count)) || jobs=$count
    # Rounds of `jobs` targets share the budget.
    rounds=$(((count + jobs - 1) / jobs))
    seconds=$((total / rounds))
    ((seconds >= 1)) || seconds=1
else
    jobs=1
fi
echo "== fuzz: ${count} targets, ${seconds} s each, ${jobs} at a time"

log_dir="$build_dir/logs"
mkdir -p "$log_dir"

run_one() {
    local name="$1"
    local corpus="$build_dir/corpus/$name" artifacts="$build_dir/artifacts/$name/"
    mkdir -p "$corpus" "$artifacts"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or blow-up.
    # ASan's leak check is on (LSan): a leak fails like a crash.
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$bin_dir/devflow_fuzz_$name" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -dict="$here/tests/fuzz/oauth.dict" \
        -artifact_prefix="$artifacts" "$corpus" "$here/tests/fuzz/corpus/$name" \
        >"$log_dir/$name.log" 2>&1 && rc=0 || rc=$?
    echo "$rc" >"$log_dir/$name.rc"
}

status=0
start=$SECONDS
for name in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    rm -rf "$build_dir/artifacts/$name" "$log_dir/$name.rc"
    run_one "$name" &
done
wait
declare -A rc_of=()
for name in "${targets[@]}"; do rc_of[$name]="$(cat "$log_dir/$name.rc" 2>/dev/null || echo 99)"; done
elapsed=$((SECONDS - start))

printf '\n%-22s %10s %8s %7s %8s %s\n' target execs exec/s cov corpus result
for name in "${targets[@]}"; do
    log="$log_dir/$name.log"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
    corpus="$(find "$build_dir/corpus/$name" -type f | wc -l)"
    result=ok
    found=("$build_dir/artifacts/$name"/*)
    if ((rc_of[$name] != 0)) || [[ -e "${found[0]}" ]]; then
        result="FAILED (exit ${rc_of[$name]}; log $log)"
        status=1
        mkdir -p "$here/tests/fuzz/regressions/$name"
        for artifact in "${found[@]}"; do
            [[ -f "$artifact" ]] || continue
            cp "$artifact" "$here/tests/fuzz/regressions/$name/"
            result+=" -> tests/fuzz/regressions/$name/$(basename "$artifact")"
        done
        grep -m3 -E 'ERROR|invariant broken|SUMMARY' "$log" | sed 's/^/    /' >&2 || true
    fi
    printf '%-22s %10s %8s %7s %8s %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$result"
done
echo "== fuzz: ${elapsed} s of fuzzing"

if ((merge)); then
    for name in "${targets[@]}"; do
        # -merge=1 keeps only the inputs that add coverage: the working corpus
        # shrinks to a minimal set (the committed seeds are left alone).
        lean="$build_dir/corpus/$name.lean"
        rm -rf "$lean" && mkdir -p "$lean"
        if "$bin_dir/devflow_fuzz_$name" -merge=1 "$lean" "$build_dir/corpus/$name" \
                >"$log_dir/$name.merge.log" 2>&1; then
            rm -rf "$build_dir/corpus/$name" && mv "$lean" "$build_dir/corpus/$name"
            echo "== fuzz: $name corpus minimised to $(find "$build_dir/corpus/$name" -type f | wc -l) inputs"
        else
            echo "fuzz.sh: merge failed for $name (log $log_dir/$name.merge.log)" >&2
            status=1
        fi
    done
fi
if ((status)); then
    echo "fuzz.sh: a target failed; its input is now a regression test (ctest -L fuzz)" >&2
fi
exit $status
