#!/usr/bin/env bash
# Regenerates single_include/devflow.hpp, the single-header amalgamation of
# the core (docs/packaging.md). Run it after changing anything under
# include/devflow/; the test "packaging: single_include/devflow.hpp is up to
# date" fails until you do.
#   scripts/amalgamate.sh            rewrite single_include/devflow.hpp
#   scripts/amalgamate.sh OUTPUT     write the amalgamation to OUTPUT instead
# Needs only CMake (the generator is cmake/devflow_amalgamate.cmake).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="${1:-$here/single_include/devflow.hpp}"
mkdir -p "$(dirname "$output")"
cmake -D OUTPUT="$output" -D SOURCE_DIR="$here" -P "$here/cmake/devflow_amalgamate.cmake"
echo "amalgamate: wrote $output"
