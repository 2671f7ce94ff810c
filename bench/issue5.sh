#!/usr/bin/env bash
# Issue 5 (reports): named and anonymous submissions from 500 clients, durable reports/s and p99,
# on SQLite (synchronous=FULL) and on PostgreSQL, each beside raw single-row inserts of the same
# size and durability into the same database in the same run. See bench/README.md.
#
#   bench/issue5.sh                                   # PostgreSQL on 127.0.0.1:5432 if it answers
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres CLIENTS=500 SECS=10 bench/issue5.sh
#   ONLY=sqlite bench/issue5.sh
#
# Exit status: 0 when every goal is met, 1 when one is missed, other on error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -z "${PG_URL:-}" ]] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then
    export PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
fi
if [[ -n "${PG_URL:-}" ]] && ! command -v pgbench >/dev/null; then
    echo "[issue5] installing postgresql-contrib (pgbench)" >&2
    apt-get install -y postgresql-contrib >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y postgresql-contrib >/dev/null
    }
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "[issue5] building qorgau (release)" >&2
    cargo build --release -p qorgau >&2
    echo "[issue5] building bench/load4 (release)" >&2
    CARGO_TARGET_DIR="$root/target/bench-load4" \
        cargo build --release --manifest-path bench/load4/Cargo.toml >&2
fi
export QORGAU_BIN="${CARGO_TARGET_DIR:-$root/target}/release/qorgau"
export LOAD_BIN="$root/target/bench-load4/release/bench-load4"
[[ -x "$QORGAU_BIN" ]] || { echo "missing $QORGAU_BIN" >&2; exit 2; }
[[ -x "$LOAD_BIN" ]] || { echo "missing $LOAD_BIN" >&2; exit 2; }
# 500 clients: a descriptor each on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "# Issue 5: reports — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "# source tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' (+ uncommitted changes in crates/)'); ${CLIENTS:-500} clients, ${SECS:-10} s per phase, narrative ${NARRATIVE:-1000} bytes"
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
read -r b0 t0 < <(busy); sleep 2; read -r b1 t1 < <(busy)
echo "# other load before the run: $(( 100 * (b1 - b0) / (t1 - t0) ))% of the CPUs busy over 2 s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# binary: $QORGAU_BIN built $(date -u -r "$QORGAU_BIN" '+%Y-%m-%d %H:%M UTC')"

exec python3 "$root/bench/issue5.py"
