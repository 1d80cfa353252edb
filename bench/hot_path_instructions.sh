#!/usr/bin/env bash
# Instructions per authorization_header() call with a valid cached token, and
# per copy of the header string (the floor), counted by valgrind (callgrind):
# a figure that does not move with the machine's load, unlike time. Counts
# ignore what an instruction costs (an atomic read-modify-write or a clock read
# counts as one), so read them beside the timings (docs/performance.md).
#   bench/hot_path_instructions.sh PATH/TO/devflow_bench_hot_path_loop
set -euo pipefail
loop="${1:?usage: bench/hot_path_instructions.sh PATH/TO/devflow_bench_hot_path_loop}"
command -v valgrind >/dev/null || { echo "hot_path_instructions: valgrind not installed; skipped"; exit 0; }
count() {  # total instructions of one run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() {  # the difference of 40000 and 20000 calls removes the set-up
    local a b
    a=$(count "$loop" "$1" "$2" 20000)
    b=$(count "$loop" "$1" "$2" 40000)
    echo $(( (b - a) / 20000 ))
}
echo "| token bytes | floor: copy the header | authorization_header, fake_clock | authorization_header, system_clock |"
echo "|-------------|------------------------|----------------------------------|------------------------------------|"
for len in 40 1200; do
    floor=$(per_call floor "$len")
    fake=$(per_call fake_clock "$len")
    real=$(per_call system_clock "$len")
    ratio() { awk -v a="$1" -v b="$floor" 'BEGIN { printf "%.2fx", a / b }'; }
    echo "| $len | $floor | $fake ($(ratio "$fake")) | $real ($(ratio "$real")) |"
done
