#!/usr/bin/env bash
# CTest fixture of the provider scenarios (FIXTURES_SETUP devflow_provider):
# checks that what they need is installed, then starts the real OpenID
# provider (server.mjs) once, waits for its ready file, reads its discovery
# document and stops it with SIGTERM. One clear failure here instead of
# dozens of confusing ones. Usage: provider_fixture.sh SERVER_DIR
set -euo pipefail
server_dir="${1:?usage: provider_fixture.sh SERVER_DIR}"

fail() { echo "provider fixture: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not installed: run scripts/setup.sh"
command -v openssl >/dev/null || fail "openssl is not installed (the TLS scenarios make a certificate): run scripts/setup.sh"
[[ -f "$server_dir/node_modules/oidc-provider/package.json" ]] ||
    fail "oidc-provider is not installed: run scripts/setup.sh (or npm ci in $server_dir)"

work="$(mktemp -d)"
pid=""
cleanup() {
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

DEVFLOW_SERVER_INFO_FILE="$work/server.json" node "$server_dir/server.mjs" >/dev/null 2>"$work/server.log" &
pid=$!
for _ in $(seq 1 200); do  # at most 20 s
    [[ -s "$work/server.json" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s "$work/server.json" ]]; then
    cat "$work/server.log" >&2
    fail "the provider did not get ready within 20 s"
fi
discovery="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).discovery_endpoint)' "$work/server.json")"
node -e 'fetch(process.argv[1]).then(r => r.json()).then(d => { if (!d.device_authorization_endpoint) process.exit(1); }, () => process.exit(1))' "$discovery" ||
    fail "the provider does not serve its discovery document at $discovery"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[[ $status -eq 0 ]] || fail "the provider exited with status $status on SIGTERM"
echo "provider fixture: oidc-provider started, served $discovery and stopped (node $(node --version))"
