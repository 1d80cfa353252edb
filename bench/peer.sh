#!/usr/bin/env bash
# devflow and openid-client (npm, pinned in bench/peer/package-lock.json) side
# by side: the same device flow against the same local provider, the user
# approving at the same moment; prints the table (docs/performance.md#peer).
#   bench/peer.sh [--rounds N] [--interval S] [--delay-ms MS]
#                 [--scenarios normal,keycloak,fast-keycloak,fast-rfc] [--json FILE]
# Builds devflow's side in Release (bench/build.sh) and runs `npm ci` where
# node_modules is missing. Everything stays on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$("$here/bench/build.sh" devflow_bench_device_flow_peer)"
for dir in "$here/bench/peer" "$here/tests/integration/server"; do
    if [[ ! -d "$dir/node_modules" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
        echo "peer: npm ci in ${dir#"$here"/}" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
done
exec node "$here/bench/peer/compare.mjs" --devflow "$build/bench/devflow_bench_device_flow_peer" "$@"
