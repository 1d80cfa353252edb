#!/usr/bin/env bash
# Runs devflow's tests under the sanitizers (CMake presets, docs/hardening.md):
#   asan  clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer),
#         -O1, -fno-sanitize-recover=all: the unit, integration, fuzz-replay
#         and crash suites (ctest -L 'unit|integration|fuzz|crash').
#   tsan  clang, ThreadSanitizer, -O1: the unit tests that use threads
#         (Catch tags [concurrency] [keep_alive] [memory_store] [file_store]
#         [system_clock] [cancellation] [session_sharing]): single-flight
#         refresh, keep-alive, store locks, cancelled waits, shared sessions.
#
#   scripts/sanitize.sh            both
#   scripts/sanitize.sh asan|tsan  one of them
# Any sanitizer report fails the run. Needs what scripts/setup.sh installs
# (clang's runtimes, node for the integration server).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

which=("$@")
((${#which[@]})) || which=(asan tsan)
jobs="$(nproc)"
status=0

# Every error stops the program with a report; leaks count as errors.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/scripts/tsan.supp"

# The build targets under a directory (Ninja's <dir>/all), for those that exist.
dir_targets() {
    local out=()
    for d in "$@"; do
        [[ -f "$here/$d/CMakeLists.txt" ]] && out+=("$d/all")
    done
    echo "${out[@]}"
}

run_asan() {
    local start=$SECONDS
    echo "== asan: configure and build (preset asan: clang, ASan+UBSan, -O1)"
    cmake --preset asan >/dev/null
    # Only what the suites run.
    # shellcheck disable=SC2046
    cmake --build --preset asan -j "$jobs" --target $(dir_targets tests/unit tests/memory tests/integration tests/fuzz tests/crash)
    echo "== asan: ctest -L 'unit|integration|fuzz|crash'"
    if ! ctest --test-dir "$here/build/asan" --output-on-failure -j "$jobs" \
            -L 'unit|integration|fuzz|crash'; then
        status=1
    fi
    echo "== asan: $((SECONDS - start)) s"
}

run_tsan() {
    local start=$SECONDS
    echo "== tsan: configure and build (preset tsan: clang, ThreadSanitizer, -O1)"
    cmake --preset tsan >/dev/null
    cmake --build --preset tsan -j "$jobs"
    local unit="$here/build/tsan/tests/unit/devflow_unit_tests"
    local tags="[concurrency],[keep_alive],[memory_store],[file_store],[system_clock],[cancellation],[session_sharing],[hot_path],[published_secret]"
    echo "== tsan: devflow_unit_tests \"$tags\""
    local run=("$unit" "$tags")
    # Kernels with large mmap randomisation break ThreadSanitizer's memory
    # layout ("unexpected memory mapping"); run without ASLR when that happens.
    if ! "$unit" --list-tests "[concurrency]" >/dev/null 2>&1 && command -v setarch >/dev/null; then
        run=(setarch "$(uname -m)" -R "${run[@]}")
    fi
    if ! "${run[@]}"; then
        status=1
    fi
    echo "== tsan: $((SECONDS - start)) s"
}

for w in "${which[@]}"; do
    case "$w" in
        asan) run_asan ;;
        tsan) run_tsan ;;
        *) echo "sanitize.sh: unknown sanitizer $w (asan or tsan)" >&2; exit 2 ;;
    esac
done
exit $status
