#!/usr/bin/env bash
# Installs what the browser and API tests need, and nothing when it is already there:
#   - Debian's Chromium (never a browser downloaded by Playwright) and fonts with Kazakh/Kyrgyz Cyrillic;
#   - e2e/node_modules from e2e/package-lock.json (playwright-core, axe-core);
#   - .venv-test/ with the pinned Python tools of scripts/requirements-test.txt (schemathesis, pyotp, two DC-09 senders, pysiaalarm as a receiver for bench/issue4.sh).
# Safe to run again: each part is skipped when its stamp matches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-test-tools] %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------------------------
apt_updated=0
apt_update_once() {
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}
# A package has a candidate when the package lists know it; update the lists only when they do not.
apt_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'
}
apt_known() {
    local c
    c="$(apt_candidate "$1")"
    [ -n "$c" ] && [ "$c" != "(none)" ]
}
apt_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

want=()
if [ ! -x /usr/bin/chromium ]; then
    want+=(chromium)
fi
for font in fonts-dejavu-core fonts-noto-core; do
    apt_installed "$font" || want+=("$font")
done
if [ "${#want[@]}" -gt 0 ]; then
    # Update the package lists only when they do not know a wanted package.
    for p in "${want[@]}"; do
        apt_known "$p" || { apt_update_once; break; }
    done
    # Chromium is required; a font the lists still do not know is skipped. An old list may name a version the
    # mirror no longer has: then one update and a retry.
    install=()
    for p in "${want[@]}"; do
        if apt_known "$p"; then install+=("$p"); else log "skipping $p: not in the package lists"; fi
    done
    log "apt-get install ${install[*]}"
    if ! apt-get install -y -qq --no-install-recommends "${install[@]}" >/tmp/qorgau-apt-install.log 2>&1; then
        if [ "$apt_updated" = 0 ]; then
            apt_update_once
            apt-get install -y -qq --no-install-recommends "${install[@]}" >/tmp/qorgau-apt-install.log 2>&1 \
                || { cat /tmp/qorgau-apt-install.log; exit 1; }
        else
            cat /tmp/qorgau-apt-install.log
            exit 1
        fi
    fi
fi
[ -x /usr/bin/chromium ] || { log "/usr/bin/chromium is missing after install"; exit 1; }
log "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: version unknown')"

# --- Node packages for e2e/ --------------------------------------------------------------------
command -v node >/dev/null || { log "node is missing"; exit 1; }
lock_hash="$(sha256sum e2e/package-lock.json e2e/package.json | sha256sum | cut -d' ' -f1)"
stamp=e2e/node_modules/.qorgau-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] \
    && [ -f e2e/node_modules/axe-core/axe.min.js ] && [ -d e2e/node_modules/playwright-core ]; then
    log "e2e/node_modules is up to date"
else
    log "npm ci in e2e/"
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" >"$stamp"
fi
log "playwright-core $(node -p 'require("./e2e/node_modules/playwright-core/package.json").version'), axe-core $(node -p 'require("./e2e/node_modules/axe-core/package.json").version')"

# --- Python tools in .venv-test/ ---------------------------------------------------------------
req=scripts/requirements-test.txt
venv=.venv-test
req_hash="$(sha256sum "$req" | cut -d' ' -f1)"
pystamp="$venv/.qorgau-stamp"
if [ -x "$venv/bin/python" ] && [ -f "$pystamp" ] && [ "$(cat "$pystamp")" = "$req_hash" ]; then
    log "$venv is up to date"
else
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        python3 -m venv "$venv"
    fi
    log "pip install -r $req"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$req_hash" >"$pystamp"
fi
log "$("$venv/bin/schemathesis" --version 2>/dev/null | head -n1), pyotp $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pyotp"))')"
