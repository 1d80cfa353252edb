#!/usr/bin/env bash
# Regenerates the single-header amalgamations (docs/packaging.md):
#   single_include/devflow/devflow.hpp   the core, from include/devflow/devflow.hpp
#   single_include/devflow/testing.hpp   the test doubles, from include/devflow/testing.hpp
# Run it after changing anything under include/devflow/; the tests
# "packaging: single_include/devflow/devflow.hpp is up to date with
# include/devflow" (and the same for testing.hpp) fail until you do.
#   scripts/amalgamate.sh            rewrite both files under single_include/
#   scripts/amalgamate.sh DIR        write them under DIR (DIR/devflow/...) instead
# Needs only CMake (the generator is cmake/devflow_amalgamate.cmake).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output_dir="${1:-$here/single_include}"
mkdir -p "$output_dir/devflow"
cmake -D OUTPUT_DIR="$output_dir" -D SOURCE_DIR="$here" -P "$here/cmake/devflow_amalgamate.cmake"
echo "amalgamate: wrote $output_dir/devflow/devflow.hpp and $output_dir/devflow/testing.hpp"
