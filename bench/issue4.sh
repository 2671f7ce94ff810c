#!/usr/bin/env bash
# Issue 4 (alarms): durable alarms/s beside raw SQLite inserts, DC-09 panels beside pysiaalarm,
# 10,000 SSE consoles beside Mosquitto with the same topology. Prints a table of figure, value,
# peer or limit, ratio, goal, whether it is met and the CPU share other processes took. See
# bench/README.md.
#
#   bench/issue4.sh                       # from the repository root or anywhere
#   ONLY=dc09 DC09_SECS=20 bench/issue4.sh
#
# Exit status: 0 when every goal is met, 1 when one is missed, other on error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v mosquitto >/dev/null || need_apt+=(mosquitto)
if ((${#need_apt[@]})); then
    echo "[issue4] installing ${need_apt[*]}" >&2
    if ! apt-get install -y "${need_apt[@]}" >/dev/null 2>&1; then
        apt-get update >/dev/null
        apt-get install -y "${need_apt[@]}" >/dev/null
    fi
fi
# pysiaalarm (pinned in scripts/requirements-test.txt) in .venv-test, as install-test-tools.sh does.
if ! .venv-test/bin/python -c 'import pysiaalarm' 2>/dev/null; then
    echo "[issue4] installing the Python test tools into .venv-test" >&2
    [[ -x .venv-test/bin/python ]] || python3 -m venv .venv-test
    .venv-test/bin/pip install -q -r scripts/requirements-test.txt >&2
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "[issue4] building qorgau (release)" >&2
    cargo build --release -p qorgau >&2
    echo "[issue4] building bench/load4 (release)" >&2
    CARGO_TARGET_DIR="$root/target/bench-load4" \
        cargo build --release --manifest-path bench/load4/Cargo.toml >&2
fi
export QORGAU_BIN="${CARGO_TARGET_DIR:-$root/target}/release/qorgau"
export LOAD_BIN="$root/target/bench-load4/release/bench-load4"
export PYSIA_PYTHON="$root/.venv-test/bin/python"
[[ -x "$QORGAU_BIN" ]] || { echo "missing $QORGAU_BIN" >&2; exit 2; }
[[ -x "$LOAD_BIN" ]] || { echo "missing $LOAD_BIN" >&2; exit 2; }

# 10,000 consoles and 10,000 MQTT subscribers: each end needs a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < 12000 )); then
    echo "[issue4] the open-file limit is $(ulimit -n); each end of 10,000 consoles needs over 10,000" >&2
fi

echo "# Issue 4: alarms — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo); open files $(ulimit -n)"
echo "# source tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' (+ uncommitted changes in crates/)'); durable ${DURABLE_SECS:-10} s x ${DURABLE_CONC:-16} clients; DC-09 ${PANELS:-200} panels ${DC09_SECS:-10} s; SSE ${FACILITIES:-500} x ${PER_FACILITY:-20} consoles at ${RATE:-1000}/s for ${SSE_SECS:-10} s"
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
read -r b0 t0 < <(busy); sleep 2; read -r b1 t1 < <(busy)
echo "# other load before the run: $(( 100 * (b1 - b0) / (t1 - t0) ))% of the CPUs busy over 2 s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# binary: $QORGAU_BIN built $(date -u -r "$QORGAU_BIN" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$QORGAU_BIN" | cut -c1-12)"

exec python3 "$root/bench/issue4.py"
