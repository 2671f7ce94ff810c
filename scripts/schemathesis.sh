#!/usr/bin/env bash
# Runs schemathesis against the JSON API of a built qorgau binary started with demo data. Builds nothing.
#   scripts/schemathesis.sh [BIN]        BIN defaults to target/debug/qorgau
# Logs in as the demo system_admin (TOTP from the demo accounts CSV), creates a personal API token, and tests
# every operation of /api/v1/openapi.json with it, except those that would end the token's own validity.
# Needs scripts/install-test-tools.sh to have run (.venv-test with schemathesis and pyotp).
# Knobs: QORGAU_ST_MAX_EXAMPLES (default 50), QORGAU_ST_TIMEOUT seconds (default 900), QORGAU_ST_WORKERS (1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${1:-${QORGAU_BIN:-target/debug/qorgau}}"
PY="$ROOT/.venv-test/bin/python"
ST="$ROOT/.venv-test/bin/schemathesis"
[ -x "$ST" ] || { echo "$ST is missing: run scripts/install-test-tools.sh first" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/lib/server.sh
. scripts/lib/server.sh

WORK="$(mktemp -d -t qorgau-st.XXXXXX)"
cleanup() {
    qorgau_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
qorgau_start "$BIN"
URL="$QORGAU_URL"

# The login body, with a TOTP code computed now from the system_admin's secret.
"$PY" - "$QORGAU_DEMO_ACCOUNTS" >"$WORK/login.json" <<'PYEOF'
import csv, json, sys
import pyotp
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    admins = [r for r in csv.DictReader(f) if r["role"].strip() == "system_admin"]
if not admins:
    sys.exit(f"no system_admin row in {sys.argv[1]}")
a = admins[0]
secret = (a.get("totp_secret") or "").strip()
print(json.dumps({"username": a["username"].strip(), "password": a["password"],
                  "totp": pyotp.TOTP(secret).now() if secret else ""}))
PYEOF

code="$(curl -sS -o "$WORK/login.out" -w '%{http_code}' -c "$WORK/jar" -b "$WORK/jar" \
    -H 'Content-Type: application/json' -H "Origin: $URL" --data-binary "@$WORK/login.json" \
    "$URL/api/v1/auth/login")"
if [ "${code:0:1}" != 2 ]; then
    echo "POST /api/v1/auth/login answered $code: $(head -c 600 "$WORK/login.out")" >&2
    exit 1
fi

code="$(curl -sS -o "$WORK/token.out" -w '%{http_code}' -c "$WORK/jar" -b "$WORK/jar" \
    -H 'Content-Type: application/json' -H "Origin: $URL" \
    --data-binary '{"name":"schemathesis","scopes":["all"]}' "$URL/api/v1/me/tokens")"
if [ "$code" != 201 ]; then
    echo "POST /api/v1/me/tokens answered $code (expected 201): $(head -c 600 "$WORK/token.out")" >&2
    exit 1
fi
TOKEN="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/token.out")"
[ -n "$TOKEN" ] || { echo "no token in $(cat "$WORK/token.out")" >&2; exit 1; }
echo "logged in as the demo system_admin and made an API token" >&2

status=0
# Run from the scratch folder: schemathesis and hypothesis keep caches (.schemathesis/, .hypothesis/) in the
# working directory.
cd "$WORK"
# The alarm feed (GET /api/v1/alarms/stream) is server-sent events: a response that never ends by
# design, which schemathesis would wait on until its timeout for every example. tests/alarms.rs
# drives it instead (delivery, scope, Last-Event-ID resume, two nodes).
timeout --signal=INT --kill-after=30 "${QORGAU_ST_TIMEOUT:-900}" \
    "$ST" run "$URL/api/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-name-regex '^([A-Z]+ .*/auth/logout|DELETE .*/me/tokens/\{[^/]+\}|GET .*/alarms/stream)$' \
    --max-examples "${QORGAU_ST_MAX_EXAMPLES:-50}" \
    --workers "${QORGAU_ST_WORKERS:-1}" \
    --request-timeout 30 \
    --generation-database none \
    --seed "${QORGAU_ST_SEED:-$RANDOM}" \
    --no-color \
    || status=$?
case "$status" in
    0) ;;
    124 | 130) echo "schemathesis did not finish within ${QORGAU_ST_TIMEOUT:-900} s" >&2 ;;
    *) echo "schemathesis failed (exit $status)" >&2; qorgau_logs 40 ;;
esac
exit "$status"
