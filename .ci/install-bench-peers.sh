#!/usr/bin/env bash
# Install the optional peers `mockpipe bench` compares against, outside the repository:
#   - WireMock: the npm package `wiremock` ships the standalone jar; installed under
#     ${MOCKPIPE_BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mockpipe-bench}/node (where `mockpipe bench` looks);
#   - pytest-httpserver: in the dev dependency group; pip-installed here only into a venv missing it.
# Usage: install-bench-peers.sh [VENV_PYTHON]   (.venv/bin/python by default)
#
# Idempotent. A part that fails prints a line starting with "install-bench-peers: FAILED" and the
# script goes on; it always exits 0: `mockpipe bench` skips a missing peer and prints why.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${1:-$root/.venv/bin/python}"
home="${MOCKPIPE_BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mockpipe-bench}"
wiremock_version="3.13.2"
failed=()

note() { echo "install-bench-peers: $*"; }

install_wiremock() {
    command -v java >/dev/null || { note "java not found on PATH (WireMock needs it)"; return 1; }
    command -v npm >/dev/null || { note "npm not found on PATH"; return 1; }
    if ls "$home"/node/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1; then
        note "WireMock already installed: $(ls "$home"/node/node_modules/wiremock/build/wiremock-standalone-*.jar)"
        return 0
    fi
    mkdir -p "$home/node"
    [ -f "$home/node/package.json" ] || echo '{"name": "mockpipe-bench-peers", "private": true}' >"$home/node/package.json"
    (cd "$home/node" && npm install --no-audit --no-fund "wiremock@$wiremock_version") &&
        ls "$home"/node/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1
}

install_httpserver() {
    if "$python" -c 'import pytest_httpserver' 2>/dev/null; then
        note "pytest-httpserver already in $python"
    elif ! "$python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
        note "$python is not the python of a venv: not installing pytest-httpserver there"
        return 1
    else
        "$python" -m pip install --disable-pip-version-check "pytest-httpserver>=1.1"
    fi
}

for part in wiremock httpserver; do
    note "--- $part"
    if "install_$part"; then
        note "ok: $part"
    else
        note "FAILED: $part (mockpipe bench skips it, saying why)"
        failed+=("$part")
    fi
done
[ ${#failed[@]} -eq 0 ] || note "FAILED parts: ${failed[*]}"
exit 0
