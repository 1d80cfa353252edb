#!/usr/bin/env bash
# Installs what devflow's build, tests and demo need on Debian 12, and only
# what is missing. Idempotent; run as root (or with sudo available).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(cmake ninja-build g++ clang catch2 nlohmann-json3-dev libcurl4-openssl-dev
          libcpp-httplib-dev libssl-dev openssl libqrencode-dev libbenchmark-dev pkg-config
          ca-certificates curl libclang-rt-14-dev zsh fish groff-base git libboost1.81-dev
          # the stores' daemons: an etcd cluster, a D-Bus session with a keyring
          etcd-server etcd-client gnome-keyring libsecret-1-dev libsecret-tools dbus dbus-x11)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi
# kubectl for the CLI's kubectl-credential test: Debian's kubernetes-client,
# unless a kubectl is already there (Google's `kubectl` package conflicts with it).
if ! command -v kubectl >/dev/null; then
    missing+=(kubernetes-client)
fi
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The local OpenID provider for integration tests and the demo (pinned by
# package-lock.json).
server="$here/tests/integration/server"
if [[ -f "$server/package-lock.json" ]]; then
    if [[ ! -d "$server/node_modules" || "$server/package-lock.json" -nt "$server/node_modules/.package-lock.json" ]]; then
        echo "setup: npm ci in tests/integration/server"
        (cd "$server" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
