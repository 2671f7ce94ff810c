# shellcheck shell=bash
# Sourced by e2e/run.sh and scripts/schemathesis.sh: starts a built qorgau binary with demo data on a random
# port and stops it again. Builds nothing.
#
#   qorgau_start BIN   sets and exports QORGAU_URL, QORGAU_DATA_DIR, QORGAU_DEMO_ACCOUNTS, QORGAU_PID
#   qorgau_stop        stops the server and removes its data (kept when QORGAU_KEEP_DATA=1)
#   qorgau_logs [N]    prints the last N lines of the server's stdout and stderr

QORGAU_PID=""
QORGAU_DATA_DIR=""
QORGAU_LOG_DIR=""

qorgau_logs() {
    local n="${1:-80}" f
    for f in stdout stderr; do
        if [ -s "$QORGAU_LOG_DIR/$f.log" ]; then
            echo "----- server $f (last $n lines) -----" >&2
            tail -n "$n" "$QORGAU_LOG_DIR/$f.log" >&2
        fi
    done
}

qorgau_start() {
    local bin="$1"
    if [ ! -x "$bin" ]; then
        echo "no executable at $bin: build it first (cargo build)" >&2
        return 1
    fi
    QORGAU_DATA_DIR="$(mktemp -d -t qorgau-data.XXXXXX)"
    QORGAU_LOG_DIR="$(mktemp -d -t qorgau-log.XXXXXX)"
    if [ -z "${QORGAU_DEMO_PASSWORD:-}" ]; then
        QORGAU_DEMO_PASSWORD="demo-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    fi
    export QORGAU_DEMO_PASSWORD
    : >"$QORGAU_LOG_DIR/stdout.log"
    : >"$QORGAU_LOG_DIR/stderr.log"
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$QORGAU_DATA_DIR" --demo \
        >"$QORGAU_LOG_DIR/stdout.log" 2>"$QORGAU_LOG_DIR/stderr.log" </dev/null &
    QORGAU_PID=$!

    local timeout="${QORGAU_START_TIMEOUT:-60}" url="" code
    local deadline=$((SECONDS + timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$QORGAU_PID" 2>/dev/null; then
            echo "qorgau exited before it was ready" >&2
            qorgau_logs 80
            QORGAU_PID=""
            return 1
        fi
        if [ -z "$url" ]; then
            url="$(sed -n 's#^.*qorgau listening on \(http://[][A-Za-z0-9.:-]*\).*$#\1#p' "$QORGAU_LOG_DIR/stdout.log" | head -n1 || true)"
        fi
        if [ -n "$url" ]; then
            code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/readyz" || true)"
            if [ "$code" = 200 ]; then
                QORGAU_URL="$url"
                QORGAU_DEMO_ACCOUNTS="$QORGAU_DATA_DIR/demo-accounts.csv"
                export QORGAU_URL QORGAU_DATA_DIR QORGAU_DEMO_ACCOUNTS
                if [ ! -s "$QORGAU_DEMO_ACCOUNTS" ]; then
                    echo "warning: $QORGAU_DEMO_ACCOUNTS is missing or empty" >&2
                fi
                echo "qorgau ready at $QORGAU_URL (pid $QORGAU_PID, data $QORGAU_DATA_DIR, $((timeout - deadline + SECONDS)) s)" >&2
                return 0
            fi
        fi
        sleep 0.5
    done
    if [ -z "$url" ]; then
        echo "qorgau printed no 'qorgau listening on http://...' line on stdout within ${timeout} s" >&2
    else
        echo "GET $url/readyz did not answer 200 within ${timeout} s (last: ${code:-none})" >&2
    fi
    qorgau_logs 80
    return 1
}

qorgau_stop() {
    if [ -n "$QORGAU_PID" ] && kill -0 "$QORGAU_PID" 2>/dev/null; then
        kill -TERM "$QORGAU_PID" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$QORGAU_PID" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$QORGAU_PID" 2>/dev/null; then
            echo "qorgau (pid $QORGAU_PID) ignored SIGTERM for 10 s: killing it" >&2
            kill -KILL "$QORGAU_PID" 2>/dev/null || true
        fi
        wait "$QORGAU_PID" 2>/dev/null || true
    fi
    QORGAU_PID=""
    if [ "${QORGAU_KEEP_DATA:-0}" = 1 ]; then
        echo "kept server data in $QORGAU_DATA_DIR and logs in $QORGAU_LOG_DIR" >&2
    else
        [ -n "$QORGAU_DATA_DIR" ] && rm -rf "$QORGAU_DATA_DIR"
        [ -n "$QORGAU_LOG_DIR" ] && rm -rf "$QORGAU_LOG_DIR"
    fi
    QORGAU_DATA_DIR=""
    QORGAU_LOG_DIR=""
}
