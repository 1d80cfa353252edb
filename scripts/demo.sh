#!/usr/bin/env bash
# devflow, end to end, in one command: installs what is missing, builds the
# `devflow` tool, starts a real OpenID provider on 127.0.0.1 (oidc-provider,
# from the integration tests), signs in with the device flow, shows the
# session, calls the provider's userinfo endpoint with the access token,
# signs out, and stops the provider.
#
#   scripts/demo.sh            a simulated user approves in the provider's real pages
#   scripts/demo.sh --manual   you approve: open the printed link in a browser on
#                              this machine and log in with any name and password
#
# Works without a terminal (CI, pipes); idempotent (reuses build/demo, leaves
# nothing else behind). Exit 0 when the whole flow worked.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

manual=0
for arg in "$@"; do
    case "$arg" in
        --manual) manual=1 ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown option $arg (try --manual or --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\ndemo: %s\n' "$*"; }
show() { printf '\n$ %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. setup
say "checking the tools devflow needs (scripts/setup.sh installs only what is missing)"
"$here/scripts/setup.sh"
command -v curl >/dev/null || die "curl is missing; install it (apt-get install curl) and run again"

# ---------------------------------------------------------------- 2. build
build="$here/build/demo"
say "building the devflow tool into build/demo (Release; the first build takes a few minutes)"
log="$(mktemp)"
if ! { cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
           -DDEVFLOW_BUILD_TESTS=OFF -DDEVFLOW_BUILD_EXAMPLES=OFF \
           -DDEVFLOW_BUILD_BENCHMARKS=OFF -DDEVFLOW_INSTALL=OFF &&
       cmake --build "$build" --target devflow_cli; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "the build failed (output above)"
fi
rm -f "$log"
[[ -x "$build/tools/devflow" ]] || die "the build produced no build/demo/tools/devflow"
export PATH="$build/tools:$PATH"

# ---------------------------------------------------------------- 3. provider
work="$(mktemp -d "${TMPDIR:-/tmp}/devflow-demo.XXXXXX")"
server_pid=""
login_pid=""
approve_pid=""
cleanup() {
    # Background jobs ignore Ctrl-C in a script: stop them (SIGTERM) ourselves.
    local pid
    for pid in "$login_pid" "$approve_pid" "$server_pid"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_dir="$here/tests/integration/server"
say "starting a real OpenID provider (oidc-provider) on 127.0.0.1, polling interval 1 s"
# Device codes live 10 minutes for a person, 2 for the simulated one.
code_ttl=120
((manual)) && code_ttl=600
DEVFLOW_INTERVAL=1 DEVFLOW_DEVICE_CODE_TTL="$code_ttl" DEVFLOW_SERVER_INFO_FILE="$work/server.json" \
    node "$server_dir/server.mjs" >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 300); do
    [[ -s "$work/server.json" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the provider did not start"; }
    sleep 0.1
done
[[ -s "$work/server.json" ]] || die "the provider was not ready within 30 s"
field() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").split("\n")[0]); process.stdout.write(String(j[process.argv[2]] ?? ""))' "$1" "$2"; }
issuer="$(field "$work/server.json" issuer)"
userinfo="$(field "$work/server.json" userinfo_endpoint)"
client="$(field "$work/server.json" public_client_id)"
echo "demo: the provider's issuer is $issuer; its client \"$client\" is a public client"

# A throwaway token cache: nothing touches ~/.local/state/devflow.
export DEVFLOW_CACHE="$work/cache/"

# ---------------------------------------------------------------- 4. sign in
if ((manual)); then
    say "now it is your turn: open the link devflow prints in a browser on this machine"
    echo "      (from another machine: ssh -L ${issuer##*:}:127.0.0.1:${issuer##*:} this-host, then open it there),"
    echo "      log in with any name and any password, and approve. Ctrl-C stops the demo."
    show "devflow login --issuer $issuer --client-id $client --scope \"openid profile email\""
    devflow login --issuer "$issuer" --client-id "$client" --scope "openid profile email" ||
        die "devflow login failed (exit $?)"
else
    say "signing in; once the code is shown, a simulated user (tests/integration/server/approve.mjs)"
    echo "      waits 3 seconds, then opens the provider's real pages, logs in as alice and approves."
    echo "      (Run scripts/demo.sh --manual to do that yourself in a browser.)"
    show "devflow login --issuer $issuer --client-id $client --scope \"openid profile email\" --no-browser"
    # --json puts the prompt on stdout as data for the simulated user; the
    # person watching sees the usual prompt on stderr.
    devflow login --issuer "$issuer" --client-id "$client" --scope "openid profile email" --no-browser --json >"$work/login.jsonl" &
    login_pid=$!
    for _ in $(seq 300); do
        [[ -s "$work/login.jsonl" ]] && break
        kill -0 "$login_pid" 2>/dev/null || break
        sleep 0.1
    done
    uri="$(field "$work/login.jsonl" verification_uri_complete 2>/dev/null || true)"
    if [[ -z "$uri" ]]; then
        rc=0
        wait "$login_pid" || rc=$?
        login_pid=""
        die "devflow login ended before showing a code (exit $rc)"
    fi
    node "$server_dir/approve.mjs" --uri "$uri" --delay-ms 3000 >"$work/approve.log" 2>&1 &
    approve_pid=$!
    rc=0
    wait "$login_pid" || rc=$?
    login_pid=""
    approve_rc=0
    wait "$approve_pid" || approve_rc=$?
    approve_pid=""
    ((approve_rc == 0)) || { cat "$work/approve.log" >&2; die "the simulated user could not approve"; }
    echo "demo: the simulated user reports: $(head -n 1 "$work/approve.log")"
    ((rc == 0)) || die "devflow login failed (exit $rc)"
fi

# ---------------------------------------------------------------- 5. use it
show "devflow status"
devflow status

show "curl -H \"Authorization: Bearer \$(devflow token)\" $userinfo"
answer="$(curl -sS --fail-with-body -H "Authorization: Bearer $(devflow token)" "$userinfo")" ||
    die "the userinfo endpoint refused the token: $answer"
echo "$answer"

show "devflow logout"
devflow logout

say "done: signed in with the device flow, used the token, revoked it. Next: docs/cli.md for"
echo "      the tool, README.md for the library, scripts/test.sh for every test."
