#!/usr/bin/env bash
# `devflow token` from process start to exit with a warm cache and no network
# (docs/performance.md#cli). Signs in once for real against the local provider
# (server.mjs + approve.mjs), stops the provider, then times `devflow token`
# with hyperfine, next to the floor of starting a process at all.
#
#   bench/cli_token.sh PATH/TO/devflow [RUNS] [PATH/TO/devflow_bench_curl_floor]
#
# hyperfine comes from Debian (installed here when missing and we are root);
# without it a shell loop measures the mean instead.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${1:?usage: bench/cli_token.sh PATH/TO/devflow [RUNS]}"
runs="${2:-300}"
curl_floor="${3:-}"
[[ -x "$cli" ]] || { echo "cli_token: $cli is not an executable" >&2; exit 2; }
server_dir="$here/tests/integration/server"

if ! command -v hyperfine >/dev/null && [[ $(id -u) -eq 0 ]]; then
    echo "cli_token: installing hyperfine (Debian)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hyperfine >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hyperfine >/dev/null 2>&1; } ||
        echo "cli_token: no hyperfine; using a shell loop" >&2
fi

work="$(mktemp -d)"
server_pid=""
login_pid=""
cleanup() {
    [[ -n "$login_pid" ]] && kill "$login_pid" 2>/dev/null || true
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# 1. A real sign-in, so the cache holds what the tool itself wrote.
DEVFLOW_SERVER_INFO_FILE="$work/server.json" DEVFLOW_INTERVAL=1 \
    node "$server_dir/server.mjs" >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 300); do [[ -s "$work/server.json" ]] && break; sleep 0.1; done
[[ -s "$work/server.json" ]] || { echo "cli_token: the provider did not start" >&2; cat "$work/server.log" >&2; exit 1; }
issuer="$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' "$work/server.json")"
cache="$work/cache/"
"$cli" login --issuer "$issuer" --client-id devflow-public --no-browser --json --cache "$cache" \
    >"$work/login.out" 2>"$work/login.err" </dev/null &
login_pid=$!
uri=""
for _ in $(seq 300); do
    uri="$(sed -n 's/.*"verification_uri_complete":"\([^"]*\)".*/\1/p' "$work/login.out" | head -n1)"
    [[ -n "$uri" ]] && break
    sleep 0.1
done
[[ -n "$uri" ]] || { echo "cli_token: devflow login showed no code" >&2; cat "$work/login.err" >&2; exit 1; }
node "$server_dir/approve.mjs" --uri "$uri" >/dev/null
wait "$login_pid" || { echo "cli_token: devflow login failed" >&2; cat "$work/login.err" >&2; exit 1; }
login_pid=""

# 2. No network from here on: the provider is gone, the token must come from the cache.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
"$cli" token --cache "$cache" >"$work/token.out" 2>"$work/token.err" ||
    { echo "cli_token: devflow token failed with the provider stopped" >&2; cat "$work/token.err" >&2; exit 1; }
echo "cli_token: warm cache ok (token of $(tr -d '\n' <"$work/token.out" | wc -c) bytes; provider stopped)"

# 3. Time it, next to its floors: the same binary doing no work, a program
#    that only loads libcurl, and /bin/true.
names=('devflow token (warm cache)' 'devflow --version (same binary, no work)')
cmds=("$cli token --cache $cache" "$cli --version")
if [[ -n "$curl_floor" && -x "$curl_floor" ]]; then
    names+=('a program that only loads libcurl'); cmds+=("$curl_floor")
fi
names+=('/bin/true (process floor)'); cmds+=(/bin/true)
if command -v hyperfine >/dev/null; then
    args=()
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/cli.json" "${args[@]}" \
        >"$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }
    # Wall time moves with the machine's load; user + system CPU time less so.
    node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
        const ms = (s) => (s * 1000).toFixed(1);
        console.log(`${r[0].times.length} runs each (hyperfine -N, 20 warm-up runs)\n`);
        console.log("| command | wall mean ± sd ms | wall median ms | wall min ms | user ms | system ms |");
        console.log("|---------|-------------------|----------------|-------------|---------|-----------|");
        for (const x of r)
            console.log(`| ${x.command} | ${ms(x.mean)} ± ${ms(x.stddev)} | ${ms(x.median)} | ${ms(x.min)} | ${ms(x.user)} | ${ms(x.system)} |`);
    ' "$work/cli.json"
else
    for cmd in "${cmds[@]}"; do
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do $cmd >/dev/null; done
        end=$(date +%s%N)
        echo "| $cmd | mean $(( (end - start) / runs / 1000 )) µs over $runs runs |"
    done
fi
