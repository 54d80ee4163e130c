#!/usr/bin/env bash
# Install the real client SDKs used by tests/sdk/ (end-to-end tests).
# Usage: install-sdks.sh [VENV_PYTHON...]   (the venvs that get Playwright; .venv by default)
#
# Idempotent. Each part is independent: a part that fails prints a line
# starting with "install-sdks: FAILED" and the script goes on; it always
# exits 0 so that the tests themselves skip with a visible reason.
# Output of the installers is never hidden.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
failed=()
pythons=("$@")
[ ${#pythons[@]} -gt 0 ] || pythons=("$root/.venv/bin/python")

note() { echo "install-sdks: $*"; }

# 1. Debian Chromium + chromedriver (the browser bundles run in headless
#    Chromium driven by Playwright through executable_path=/usr/bin/chromium).
install_chromium() {
    if [ -x /usr/bin/chromium ]; then
        note "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
        return 0
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update &&
        $sudo apt-get install -y --no-install-recommends chromium chromium-driver &&
        [ -x /usr/bin/chromium ]
}

# 2. Node SDKs (exact versions pinned in tests/sdk/node/package.json).
install_node_sdks() {
    command -v npm >/dev/null || { note "npm not found on PATH"; return 1; }
    (cd "$root/tests/sdk/node" && npm install --no-audit --no-fund)
}

# 3. Playwright's Python package only, in each venv given as an argument (`.venv/bin/python` by default;
#    it is in the dev group, so this only repairs a venv without it). Never outside a venv, and never
#    `playwright install`: it would download its own browser build, which cannot be fetched here.
install_playwright() {
    local py ok=0
    for py in "${pythons[@]}"; do
        if ! "$py" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
            note "$py is not the python of a venv: not installing playwright there"
            ok=1
        elif "$py" -c 'import playwright' 2>/dev/null; then
            note "playwright already in $py"
        else
            note "pip-installing playwright into $py"
            "$py" -m pip install --disable-pip-version-check playwright || ok=1
        fi
    done
    return $ok
}

for part in chromium node_sdks playwright; do
    note "--- $part"
    # `set -e` is suspended inside a function called from `if`; each step
    # above chains with && or returns explicitly for that reason.
    if "install_$part"; then
        note "ok: $part"
    else
        note "FAILED: $part (tests needing it will be skipped)"
        failed+=("$part")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    note "FAILED parts: ${failed[*]}"
else
    note "all parts installed"
fi
exit 0
