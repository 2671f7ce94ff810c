#!/usr/bin/env bash
# Starts the local PostgreSQL (127.0.0.1:5432, trust auth) and Mosquitto (127.0.0.1:1883) that the test suites
# use, installing them from Debian's packages when they are missing. Does nothing when both already answer.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf '[start-services] %s\n' "$*"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # what, seconds, command...
    local what="$1" secs="$2"
    shift 2
    for _ in $(seq 1 "$((secs * 4))"); do
        "$@" && return 0
        sleep 0.25
    done
    log "$what did not come up within ${secs} s"
    return 1
}
apt_updated=0
apt_install() {
    [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
    apt-get install -y -qq "$@" >/dev/null
}
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

# --- PostgreSQL ----------------------------------------------------------------------------------
if command -v pg_isready >/dev/null && pg_ready; then
    log "PostgreSQL is up"
else
    fresh=0
    if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
        log "installing postgresql"
        apt_install postgresql
        fresh=1
    fi
    ver="$(ls /etc/postgresql | sort -V | tail -n1)"
    if [ ! -f "/etc/postgresql/$ver/main/postgresql.conf" ]; then
        # pg_createcluster runs initdb as the postgres user (initdb refuses root).
        log "creating cluster $ver/main"
        pg_createcluster "$ver" main >/dev/null
        fresh=1
    fi
    if [ "$fresh" = 1 ]; then
        # Tests connect as postgres over TCP without a password, as on the project's machines.
        hba="/etc/postgresql/$ver/main/pg_hba.conf"
        cat >"$hba" <<'HBA'
local   all all                trust
host    all all 127.0.0.1/32   trust
host    all all ::1/128        trust
HBA
        chown postgres:postgres "$hba"
    fi
    log "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    wait_for PostgreSQL 30 pg_ready
    log "PostgreSQL is up"
fi

# --- Mosquitto -----------------------------------------------------------------------------------
if listening 1883; then
    log "Mosquitto is up"
else
    if ! command -v mosquitto >/dev/null; then
        log "installing mosquitto"
        apt_install mosquitto
    fi
    if ! listening 1883; then # the package's own start may have done it
        log "starting Mosquitto"
        mosquitto -d -c /etc/mosquitto/mosquitto.conf
    fi
    wait_for Mosquitto 15 listening 1883
    log "Mosquitto is up"
fi
