#!/usr/bin/env python3
"""Issue 5 (reports) figures. Run through bench/issue5.sh, which builds what it needs.

For each database (SQLite at synchronous=FULL; PostgreSQL when PG_URL names a server):
  1. `qorgau serve --demo` on a fresh database;
  2. it stops, and raw single-row inserts of a report's size (the JSON body's length) go into a
     table of their own in the same database, each its own transaction, at the same durability:
     on SQLite one writer (the file takes one at a time), on PostgreSQL `pgbench` with
     RAW_CLIENTS connections (synchronous_commit on, as qorgau runs);
  3. it starts again on that database, and CLIENTS clients (default 500, one connection each)
     submit named reports (logged in, each with its own Idempotency-Key), then anonymous ones:
     a. closed loop for SECS seconds, each client sending its next as soon as the last was
        answered (201 = durable): the most reports/s, set beside the raw rate;
     b. open loop at half the raw rate in all, spread over the same clients, latency counted
        from each send's scheduled time: the p99 at the rate the goal asks for.
     (In a closed loop 500 clients wait 500 / rate seconds on average by Little's law, so its
     latency says nothing about a 50 ms goal unless the rate is over 10,000/s.)
Goals: closed-loop rate at least half the raw rate; open-loop p99 under 50 ms.

Each phase also prints the CPU the rest of the machine took while it ran (others' share).
"""

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import json
import re
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Api, Others, accounts, stop  # noqa: E402

QORGAU = os.environ["QORGAU_BIN"]
LOAD = os.environ["LOAD_BIN"]
CLIENTS = int(os.environ.get("CLIENTS", "500"))
SECS = int(os.environ.get("SECS", "10"))
NARRATIVE = int(os.environ.get("NARRATIVE", "1000"))
RAW_CLIENTS = int(os.environ.get("RAW_CLIENTS", "64"))
PG_URL = os.environ.get("PG_URL", "")
ONLY = set(filter(None, os.environ.get("ONLY", "sqlite,postgres").split(",")))
KEEP = os.environ.get("KEEP_DATA") == "1"

LISTEN_RE = re.compile(rb"listening on http://([0-9.]+):([0-9]+)")
ROWS = []


def log(msg):
    print(f"[issue5] {msg}", file=sys.stderr, flush=True)


def row(figure, value, peer, ratio, goal, met, others):
    ROWS.append((figure, value, peer, ratio, goal, met, f"{others * 100:.0f}%"))


def serve(data, password, database_url=None):
    # 500 clients from one address: the per-address limit on anonymous reports is off.
    env = dict(os.environ, QORGAU_DEMO_PASSWORD=password, QORGAU_ANONYMOUS_PER_HOUR="0")
    env.pop("QORGAU_DATABASE_URL", None)
    argv = [QORGAU, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--demo"]
    if database_url:
        argv += ["--database-url", database_url]
    # The server's own log stays beside its data, so that an error in the figures can be traced.
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "server.log"), "ab") as err:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                             stdin=subprocess.DEVNULL, env=env)
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("qorgau exited before listening")
        m = LISTEN_RE.search(line)
        if m:
            return p, m.group(1).decode(), int(m.group(2))


def server_errors(data):
    """Prints the server's error lines of this run, if any, so that a failed submission is explained."""
    try:
        with open(os.path.join(data, "server.log"), errors="replace") as f:
            lines = [l.rstrip() for l in f if "ERROR" in l or '"level":"error"' in l.lower()]
    except OSError:
        return
    for l in lines[-5:]:
        log(f"server error: {l[:600]}")


def load(*args):
    out = subprocess.run([LOAD, *map(str, args)], capture_output=True, timeout=SECS * 10 + 300)
    if out.returncode != 0:
        raise RuntimeError(f"load4 {args[0]}: {out.stderr.decode()[-2000:]}")
    return json.loads(out.stdout)


def raw_sqlite(path, size, secs):
    """Single-row inserts of `size` bytes into a table of their own in the same file, one
    transaction each, WAL and synchronous=FULL as qorgau opens it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE bench_raw (id BLOB PRIMARY KEY, body TEXT NOT NULL)")
    body = "x" * size
    n, start = 0, time.monotonic()
    end = start + secs
    while time.monotonic() < end:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_raw VALUES (?, ?)", (secrets.token_bytes(16), body))
        db.execute("COMMIT")
        n += 1
    took = time.monotonic() - start
    db.close()
    return n / took, took * 1000 / max(n, 1)


def raw_postgres(url, size, secs):
    """pgbench: RAW_CLIENTS connections, each inserting one row of `size` bytes per transaction
    (autocommit, synchronous_commit on) into a table of their own in the same database."""
    subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c",
                    "CREATE TABLE bench_raw (id uuid PRIMARY KEY, body text NOT NULL)"],
                   check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(f"INSERT INTO bench_raw VALUES (gen_random_uuid(), repeat('x', {size}));\n")
        script = f.name
    try:
        out = subprocess.run(["pgbench", "-n", "-c", str(RAW_CLIENTS), "-j", "2", "-T", str(secs),
                              "-f", script, "-r", url], capture_output=True, text=True, check=True)
    finally:
        os.unlink(script)
    tps = float(re.search(r"tps = ([0-9.]+)", out.stdout).group(1))
    lat = float(re.search(r"latency average = ([0-9.]+) ms", out.stdout).group(1))
    return tps, lat


def body_bytes(narrative):
    """The JSON body's length as bench/load4 sends it, give or take the facility id."""
    return 322 + narrative + 48


def submissions(host, port, data, password, facility, pid, raw_rate):
    acc = accounts(data)
    base = f"http://{host}:{port}"
    out = {}
    for kind, user in (("named", acc["worker"]["username"]), ("anonymous", facility)):
        o = Others([pid])
        closed = load("reports", base, kind, user, password, CLIENTS, SECS, NARRATIVE)
        log(f"{kind} closed loop: {json.dumps(closed)[:400]}")
        opened = load("reports", base, kind, user, password, CLIENTS, SECS, NARRATIVE,
                      f"{raw_rate / 2:.1f}")
        log(f"{kind} open loop at {raw_rate / 2:.0f}/s: {json.dumps(opened)[:400]}")
        out[kind] = (closed, opened, o.share())
    return out


def report(db_name, subs, raw, raw_note, raw_share):
    raw_rate, raw_lat = raw
    for kind, (closed, opened, share) in subs.items():
        rate = closed["per_sec"]
        ratio = rate / raw_rate if raw_rate else 0
        row(f"{kind} reports/s, {CLIENTS} clients closed loop, {db_name}",
            f"{rate:.0f}/s (p99 {closed['latency']['p99_ms']} ms, {closed['errors']} errors, "
            f"body {closed['body_bytes']} B)",
            f"{raw_note}: {raw_rate:.0f}/s (mean {raw_lat:.1f} ms)", f"{ratio:.2f}", ">= 0.5",
            "yes" if ratio >= 0.5 else "NO", max(share, raw_share))
        p99 = opened["latency"]["p99_ms"]
        done = opened["per_sec"]
        row(f"{kind} p99 at half the raw rate, {CLIENTS} clients open loop, {db_name}",
            f"p99 {p99} ms (p50 {opened['latency']['p50_ms']} ms; {done:.0f}/s done, "
            f"{opened['errors']} errors)",
            "limit 50 ms", f"{(p99 or 0) / 50:.2f}", "< 50 ms",
            "yes" if p99 is not None and p99 < 50 and opened["errors"] == 0 else "NO", share)


def facility_of(host, port, data, password):
    admin = Api(host, port)
    acc = accounts(data)
    admin.login(acc["facility_admin"]["username"], password, acc["facility_admin"]["totp_secret"])
    return admin.call("GET", "/api/v1/me")["scope_id"]


def run_sqlite(tmp, password):
    data = os.path.join(tmp, "sqlite")
    p, host, port = serve(data, password)
    stop(p)
    o = Others([])
    raw = raw_sqlite(os.path.join(data, "qorgau.db"), body_bytes(NARRATIVE), SECS)
    raw_share = o.share()
    log(f"raw SQLite: {raw[0]:.0f}/s")
    p, host, port = serve(data, password)
    try:
        facility = facility_of(host, port, data, password)
        subs = submissions(host, port, data, password, facility, p.pid, raw[0])
    finally:
        stop(p)
        server_errors(data)
    report("SQLite synchronous=FULL", subs, raw, "raw 1-row txns, 1 writer, same file",
           raw_share)


def run_postgres(tmp, password):
    db = f"qorgau_bench5_{os.getpid()}"
    admin_url = PG_URL
    u = urllib.parse.urlsplit(PG_URL)
    url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, u.fragment))
    subprocess.run(["psql", admin_url, "-qAt", "-c", f"CREATE DATABASE {db}"], check=True,
                   capture_output=True)
    try:
        data = os.path.join(tmp, "postgres")
        p, host, port = serve(data, password, url)
        stop(p)
        o = Others([])
        raw = raw_postgres(url, body_bytes(NARRATIVE), SECS)
        raw_share = o.share()
        log(f"raw PostgreSQL: {raw[0]:.0f}/s")
        p, host, port = serve(data, password, url)
        try:
            facility = facility_of(host, port, data, password)
            subs = submissions(host, port, data, password, facility, p.pid, raw[0])
        finally:
            stop(p)
            server_errors(data)
        report("PostgreSQL", subs, raw, f"pgbench 1-row txns, {RAW_CLIENTS} connections",
               raw_share)
    finally:
        subprocess.run(["psql", admin_url, "-qAt", "-c",
                        f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)


def main():
    tmp = tempfile.mkdtemp(prefix="qorgau-issue5-")
    password = secrets.token_urlsafe(18)
    try:
        if "sqlite" in ONLY:
            run_sqlite(tmp, password)
        if "postgres" in ONLY:
            if PG_URL:
                run_postgres(tmp, password)
            else:
                log("PostgreSQL skipped: PG_URL is not set")
    finally:
        if KEEP:
            log(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| figure | value | peer | ratio | goal | met | others' CPU |")
    print("|---|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(str(x) for x in r) + " |")
    return 0 if ROWS and all(r[5] == "yes" for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
