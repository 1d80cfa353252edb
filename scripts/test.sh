#!/usr/bin/env bash
# Sets up, builds and runs every devflow test, with g++ and with clang.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only tests labelled unit (any ctest arguments)
# Idempotent: installs only what is missing, reuses build/ between runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

"$here/scripts/setup.sh"

jobs="$(nproc)"
status=0
for compiler in g++ clang++; do
    name="${compiler%++}"; name="${name/g/gcc}"
    build="$here/build/$name"
    echo "== $compiler: configure"
    cmake -S "$here" -B "$build" -G Ninja \
        -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_COMPILER="$compiler" \
        -DDEVFLOW_REQUIRE_ADAPTERS=ON >/dev/null
    echo "== $compiler: build"
    cmake --build "$build" -j "$jobs"
    echo "== $compiler: test"
    if ! ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"; then
        status=1
    fi
done
exit $status
