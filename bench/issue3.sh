#!/usr/bin/env bash
# Issue 3 (foundation): cold start, idle RSS, and wrk on the home page and the people list, each
# beside a bare axum "hello" server measured in the same run. Prints a table of figure, value,
# peer or limit, ratio and whether the goal is met. See bench/README.md.
#
#   bench/issue3.sh                      # from the repository root or anywhere
#   COLD_RUNS=100 WRK_DURATION=20s bench/issue3.sh
#
# Exit status: 0 when every goal is met, 1 when one is missed, other on error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v python3 >/dev/null || need_apt+=(python3)
if ((${#need_apt[@]})); then
    echo "[issue3] installing ${need_apt[*]}" >&2
    if ! apt-get install -y "${need_apt[@]}" >/dev/null 2>&1; then
        apt-get update >/dev/null
        apt-get install -y "${need_apt[@]}" >/dev/null
    fi
fi

# Release builds; cargo does nothing when they are up to date. `SKIP_BUILD=1` uses what is there.
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "[issue3] building qorgau (release)" >&2
    cargo build --release -p qorgau >&2
    echo "[issue3] building bench/hello (release)" >&2
    CARGO_TARGET_DIR="$root/target/bench-hello" \
        cargo build --release --manifest-path bench/hello/Cargo.toml >&2
fi

export QORGAU_BIN="${CARGO_TARGET_DIR:-$root/target}/release/qorgau"
export HELLO_BIN="$root/target/bench-hello/release/bench-hello"
[[ -x "$QORGAU_BIN" ]] || { echo "missing $QORGAU_BIN" >&2; exit 2; }
[[ -x "$HELLO_BIN" ]] || { echo "missing $HELLO_BIN" >&2; exit 2; }

echo "# Issue 3: foundation — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "# source tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' (+ uncommitted changes in crates/)'); wrk -t${WRK_THREADS:-2} -c${WRK_CONNECTIONS:-64} -d${WRK_DURATION:-10s}; cold-start runs: ${COLD_RUNS:-50}; load rounds: up to ${ROUNDS:-3}"

# Other work on this machine skews every figure (the ceiling too): say how busy it was just before.
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
read -r b0 t0 < <(busy); sleep 2; read -r b1 t1 < <(busy)
echo "# other load before the run: $(( 100 * (b1 - b0) / (t1 - t0) ))% of the CPUs busy over 2 s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
stale=""
if [[ -n "$(find crates Cargo.lock -newer "$QORGAU_BIN" -print -quit 2>/dev/null)" ]]; then
    stale=" — OLDER than files under crates/: it does not measure the source tree above"
fi
echo "# binary: $QORGAU_BIN built $(date -u -r "$QORGAU_BIN" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$QORGAU_BIN" | cut -c1-12)$stale"

exec python3 "$root/bench/issue3.py"
