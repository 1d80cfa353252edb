#!/usr/bin/env bash
# Sets up, builds and runs every devflow test (docs/testing.md, docs/hardening.md):
#
#   1. g++ (Debug, warnings are errors): every target; the compile, packaging,
#      crash, example, bench-smoke and fuzz-replay tests; then the unit,
#      integration, fault, CLI and store suites under the leak-canary check, which
#      fails if a secret appears in any output or file outside the token store.
#   2. g++ Release (-O3, warnings are errors; the `release` preset): every
#      target, as a user's `cmake -DCMAKE_BUILD_TYPE=Release` builds them, then
#      the unit tests.
#   3. clang++ (warnings are errors) with AddressSanitizer + UndefinedBehavior-
#      Sanitizer: the tests and the CLI, running the unit, integration,
#      fuzz-replay and crash suites.
#   4. clang++ with ThreadSanitizer: the concurrency, keep-alive and store tests.
#   5. libFuzzer smoke: every fuzz target for about a minute in all.
#
# Warnings are errors here because every preset in CMakePresets.json sets
# DEVFLOW_WARNINGS_AS_ERRORS=ON; a build without the presets only reports them.
#
#   scripts/test.sh               everything (CI runs this)
#   scripts/test.sh CTEST-ARGS    only the g++ build, then `ctest CTEST-ARGS`
#                                 (e.g. scripts/test.sh -L unit)
# Idempotent: installs only what is missing, reuses build/ between runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

"$here/scripts/setup.sh"

jobs="$(nproc)"
status=0
started=$SECONDS
step() { echo; echo "== [$((SECONDS - started)) s] $*"; }
fail() { echo "== FAILED: $*"; status=1; }

step "g++: configure and build"
cmake --preset gcc >/dev/null
cmake --build --preset gcc -j "$jobs"

if (($#)); then
    step "g++: ctest $*"
    ctest --test-dir build/gcc --output-on-failure -j "$jobs" "$@" || status=1
    exit $status
fi

step "g++: compile, packaging, crash, example, bench and fuzz-replay tests"
ctest --test-dir build/gcc --output-on-failure -j "$jobs" -LE 'unit|integration|faults|cli|stores' ||
    fail "g++ tests"

step "g++: unit, integration, fault, CLI and store suites under the leak-canary check"
"$here/scripts/canary_check.sh" build/gcc || fail "canary check (or the suites it runs)"

step "g++ Release: every target, then the unit tests"
if cmake --preset release >/dev/null && cmake --build --preset release -j "$jobs"; then
    ctest --preset release -j "$jobs" || fail "Release unit tests"
else
    fail "Release build"
fi

step "clang++ with ASan+UBSan, then with TSan (scripts/sanitize.sh)"
"$here/scripts/sanitize.sh" asan tsan || fail "sanitizer suites"

step "libFuzzer smoke"
"$here/scripts/fuzz.sh" --smoke || fail "fuzz smoke"

step "done: $([[ $status -eq 0 ]] && echo 'all green' || echo 'FAILURES above')"
exit $status
