#!/usr/bin/env bash
# Runs the browser tests (node --test e2e/) against a built qorgau binary with demo data. Builds nothing.
#   e2e/run.sh [BIN]        BIN defaults to target/debug/qorgau
# Needs scripts/install-test-tools.sh to have run (Debian's Chromium, e2e/node_modules).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${1:-${QORGAU_BIN:-target/debug/qorgau}}"
# shellcheck source=SCRIPTDIR/../scripts/lib/server.sh
. scripts/lib/server.sh

if [ ! -d e2e/node_modules/playwright-core ]; then
    echo "e2e/node_modules is missing: run scripts/install-test-tools.sh first" >&2
    exit 1
fi

trap qorgau_stop EXIT
qorgau_start "$BIN"

status=0
# Depth 3 reaches the pages under a facility (roster, import) from the home page.
export QORGAU_E2E_MAX_DEPTH="${QORGAU_E2E_MAX_DEPTH:-3}"
node --test e2e/ || status=$?
if [ "$status" != 0 ]; then
    echo "browser tests failed (exit $status)" >&2
    qorgau_logs 60
fi
exit "$status"
