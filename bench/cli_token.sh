#!/usr/bin/env bash
# `devflow token` from process start to exit with a warm cache and no network
# (docs/performance.md#cli). Signs in once for real against the local provider
# (server.mjs + approve.mjs), stops the provider, then times `devflow token`
# with hyperfine, side by side with its floor (a C++ program that only reads
# and parses the same record file and prints the token), openid-client
# reading the same cached token (bench/peer/cached_token.mjs), a program that
# only loads libcurl, and /bin/true; prints the ratios.
#
#   bench/cli_token.sh PATH/TO/devflow [RUNS] [PATH/TO/devflow_bench_curl_floor]
#                      [PATH/TO/devflow_bench_cli_floor]
#
# The targets: devflow's ratio to its floor at most 1.5, and openid-client's
# to devflow's at least 30 (docs/performance.md). Nothing fails on a time.
#
# hyperfine comes from Debian (installed here when missing and we are root);
# without it a shell loop measures the mean instead.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${1:?usage: bench/cli_token.sh PATH/TO/devflow [RUNS]}"
runs="${2:-300}"
curl_floor="${3:-}"
cli_floor="${4:-}"
[[ -z "$cli_floor" && -n "$curl_floor" ]] && cli_floor="$(dirname "$curl_floor")/devflow_bench_cli_floor"
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

# The record the tool wrote, for the floor and openid-client to read.
record="$(find "$cache" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9a-f]{32}\.json' | head -n1)"
[[ -n "$record" ]] || { echo "cli_token: no record in $cache" >&2; exit 1; }

# openid-client (pinned in bench/peer/package-lock.json), as bench/peer.sh installs it.
peer="$here/bench/peer"
if [[ ! -d "$peer/node_modules/openid-client" ]]; then
    echo "cli_token: npm ci in bench/peer" >&2
    (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
node "$peer/cached_token.mjs" "$record" | cmp -s - "$work/token.out" ||
    { echo "cli_token: openid-client's cached token differs from devflow's" >&2; exit 1; }

# 3. Time it, side by side with its floor, openid-client, a program that only
#    loads libcurl (what a warm `devflow token` loaded before its transport
#    became a module), and /bin/true.
names=('devflow token (warm cache)')
cmds=("$cli token --cache $cache")
if [[ -n "$cli_floor" && -x "$cli_floor" ]]; then
    "$cli_floor" "$record" | cmp -s - "$work/token.out" ||
        { echo "cli_token: the floor's token differs from devflow's" >&2; exit 1; }
    names+=('floor: read and parse the record, print the token (C++)'); cmds+=("$cli_floor $record")
fi
names+=('openid-client: the same cached token (Node.js)'); cmds+=("node $peer/cached_token.mjs $record")
if [[ -n "$curl_floor" && -x "$curl_floor" ]]; then
    names+=('a program that only loads libcurl'); cmds+=("$curl_floor")
fi
names+=('/bin/true (process floor)'); cmds+=(/bin/true)
echo "cli_token: shared objects loaded by a warm devflow token: $(LD_DEBUG=files "$cli" token --cache "$cache" 2>&1 >/dev/null | grep -c 'file=.*needed by')"
if command -v hyperfine >/dev/null; then
    # Load on a shared machine comes and goes: the commands run in ROUNDS
    # rounds (each round all of them, one after the other), and the ratios
    # are taken within each round, then their median reported.
    rounds="${DEVFLOW_BENCH_ROUNDS:-5}"
    per_round=$(( (runs + rounds - 1) / rounds ))
    args=()
    for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    for round in $(seq "$rounds"); do
        hyperfine -N --warmup 10 --runs "$per_round" --export-json "$work/cli.$round.json" "${args[@]}" \
            >"$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }
    done
    # Wall time moves with the machine's load; user + system CPU time less so.
    node -e '
        const fs = require("fs");
        const rounds = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")).results);
        const names = rounds[0].map((x) => x.command);
        const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
        const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
        const all = names.map((n, i) => {
            const times = rounds.flatMap((r) => r[i].times);
            const m = mean(times);
            return { name: n, times, mean: m, sd: Math.sqrt(mean(times.map((t) => (t - m) ** 2))), median: median(times), min: Math.min(...times),
                     user: mean(rounds.map((r) => r[i].user)), system: mean(rounds.map((r) => r[i].system)) };
        });
        const ms = (s) => (s * 1000).toFixed(2);
        console.log(`${rounds.length} rounds of ${rounds[0][0].times.length} runs each (hyperfine -N, 10 warm-up runs a round)\n`);
        console.log("| command | wall mean ± sd ms | wall median ms | wall min ms | user ms | system ms |");
        console.log("|---------|-------------------|----------------|-------------|---------|-----------|");
        for (const x of all) console.log(`| ${x.name} | ${ms(x.mean)} ± ${ms(x.sd)} | ${ms(x.median)} | ${ms(x.min)} | ${ms(x.user)} | ${ms(x.system)} |`);
        const index = (p) => names.findIndex((n) => n.startsWith(p));
        const tool = index("devflow token"), floor = index("floor:"), peer = index("openid-client:");
        // Per round: the ratio of medians, and of CPU time (user + system).
        const per = (a, b) => rounds.map((r) => r[a].median / r[b].median);
        const cpu = (a, b) => rounds.map((r) => (r[a].user + r[a].system) / (r[b].user + r[b].system));
        const show = (xs, d) => xs.map((x) => x.toFixed(d)).join(", ");
        console.log("");
        if (floor >= 0) {
            console.log(`devflow token / floor, wall medians: ${median(per(tool, floor)).toFixed(2)} (median of the rounds: ${show(per(tool, floor), 2)}); CPU: ${median(cpu(tool, floor)).toFixed(2)} (${show(cpu(tool, floor), 2)}); target <= 1.5`);
        }
        if (peer >= 0) {
            console.log(`openid-client / devflow token, wall medians: ${median(per(peer, tool)).toFixed(1)} (${show(per(peer, tool), 1)}); CPU: ${median(cpu(peer, tool)).toFixed(1)} (${show(cpu(peer, tool), 1)}); target >= 30`);
        }
    ' $(for round in $(seq "$rounds"); do echo "$work/cli.$round.json"; done)
else
    for cmd in "${cmds[@]}"; do
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do $cmd >/dev/null; done
        end=$(date +%s%N)
        echo "| $cmd | mean $(( (end - start) / runs / 1000 )) µs over $runs runs |"
    done
fi
