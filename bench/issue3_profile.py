#!/usr/bin/env python3
"""Where the time and memory of bench/issue3.sh go. Not a benchmark with goals: a set of
experiments that need no change to the server.

  python3 bench/issue3_profile.py                 # uses target/release/qorgau
  CALLGRIND=1 python3 bench/issue3_profile.py     # also instruction profiles (valgrind, ~1 min)

1. Server CPU per request (user and system, /proc/PID/stat) and context switches per request, at
   wrk -c64, for routes that add one cost at a time: /healthz (middleware only), /api/v1/me
   (plus the session lookup), / (plus the page), /api/v1/people?limit=1 (plus one audit write),
   limit=500 as the facility admin (90 rows) and the system admin (all 300 rows).
2. The same people reads with the data directory on tmpfs (/dev/shm): no fsync cost.
3. RSS after logins (argon2) and after load, with glibc's defaults and with
   MALLOC_MMAP_THRESHOLD_=131072 (large blocks always mmap'd, so freed ones go back to the OS).
4. With CALLGRIND=1: valgrind --tool=callgrind over 2000 home-page reads and 300 people reads;
   the output files' paths are printed (read them with callgrind_annotate).
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
os.environ.setdefault("QORGAU_BIN", os.path.join(root, "target", "release", "qorgau"))
os.environ.setdefault("HELLO_BIN", os.path.join(root, "target", "bench-hello", "release", "bench-hello"))
os.environ.setdefault("WRK_DURATION", "5s")
sys.path.insert(0, here)
import issue3 as b  # noqa: E402

PASSWORD = "bench-" + os.urandom(8).hex()


def make_base(work):
    base = os.path.join(work, "base")
    env = dict(os.environ, QORGAU_DEMO_PASSWORD=PASSWORD)
    p, h, port = b.spawn([b.QORGAU, "serve", "--listen", "127.0.0.1:0", "--data-dir", base, "--demo"], env)
    b.wait_ready(h, port, 120)
    b.stop(p)
    return base


def accounts(data):
    with open(os.path.join(data, "demo-accounts.csv")) as f:
        return {r["username"]: r for r in csv.DictReader(f)}


def start(base, dest, env_extra=None, prefix=None, logins=True):
    """Copies the demo database to dest, starts a server on it, logs both admins in."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(base, dest)
    env = dict(os.environ, **(env_extra or {}))
    argv = [b.QORGAU, "serve", "--listen", "127.0.0.1:0", "--data-dir", dest]
    p, h, port = b.spawn((prefix or []) + argv, env)
    b.wait_ready(h, port, 300)
    cookies = {}
    if logins:
        acc = accounts(dest)
        fa, sa = acc["demo.facility_admin"], acc["demo.system_admin"]
        try:
            cookies["fa"] = b.login(h, port, fa["username"], fa["password"], "")
            cookies["sa"] = b.login(h, port, sa["username"], sa["password"], sa["totp_secret"])
        except Exception:
            b.stop(p)
            raise
    return p, h, port, cookies


def ctx_switches(pid):
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                for line in f:
                    if "ctxt_switches" in line:
                        n += int(line.split()[1])
        except FileNotFoundError:
            pass
    return n


def per_request(p, h, port, path, cookie):
    cs0 = ctx_switches(p.pid)
    r = b.wrk(h, port, path, cookie, pid=p.pid)
    cs1 = ctx_switches(p.pid)
    u, s = r["cpu_us"]
    return (f"{r['rps']:8.0f} req/s  p99 {r['p99']:7.2f} ms  CPU {u:5.0f} us user + {s:5.0f} us sys"
            f"  ctx switches {(cs1 - cs0) / r['requests']:5.1f}/req  (non-2xx {r['non2xx']})")


def main():
    work = tempfile.mkdtemp(prefix="qorgau-issue3-profile-")
    try:
        base = make_base(work)
        routes = [
            ("/healthz (middleware only)", "/healthz", None),
            ("/api/v1/me (+ session lookup)", "/api/v1/me", "fa"),
            ("/ home page (+ page render)", "/", "fa"),
            ("people limit=1 (+ one audit write)", "/api/v1/people?limit=1", "fa"),
            ("people limit=500, facility admin (90 rows)", "/api/v1/people?limit=500", "fa"),
            ("people limit=500, system admin (300 rows)", "/api/v1/people?limit=500", "sa"),
        ]
        hl, hh, hp = b.spawn([b.HELLO, "127.0.0.1:0"])
        print("1. server CPU per request, wrk -c64 (disk data directory)")
        print(f"   {'bare axum hello':45s}", per_request(hl, hh, hp, "/", None))
        b.stop(hl)
        p, h, port, ck = start(base, os.path.join(work, "disk"))
        for label, path, who in routes:
            print(f"   {label:45s}", per_request(p, h, port, path, ck.get(who)))
        b.stop(p)

        print("2. the same people reads with the data directory on tmpfs (no fsync cost)")
        shm = tempfile.mkdtemp(prefix="qorgau-issue3-", dir="/dev/shm")
        try:
            p, h, port, ck = start(base, os.path.join(shm, "data"))
            for label, path, who in routes[3:]:
                print(f"   {label:45s}", per_request(p, h, port, path, ck.get(who)))
            b.stop(p)
        finally:
            shutil.rmtree(shm, ignore_errors=True)

        print("3. RSS (MB): start -> 8 concurrent logins x3 -> home + people load")
        acc = accounts(base)
        users = [u for u, r in acc.items() if not r["totp_secret"]][:8]
        for extra in ({}, {"MALLOC_MMAP_THRESHOLD_": "131072"}):
            p, h, port, _ = start(base, os.path.join(work, "rss"), extra, logins=False)
            time.sleep(0.5)
            seen = [b.rss_kib(p.pid) / 1024]
            for _ in range(3):
                ts = [threading.Thread(target=b.login, args=(h, port, u, acc[u]["password"], ""))
                      for u in users]
                [t.start() for t in ts]
                [t.join() for t in ts]
                seen.append(b.rss_kib(p.pid) / 1024)
            fa = b.login(h, port, "demo.facility_admin", acc["demo.facility_admin"]["password"], "")
            b.wrk(h, port, "/", fa)
            b.wrk(h, port, "/api/v1/people?limit=500", fa)
            time.sleep(2)
            seen.append(b.rss_kib(p.pid) / 1024)
            peak = b.rss_kib(p.pid, "VmHWM") / 1024
            b.stop(p)
            label = " ".join(f"{k}={v}" for k, v in extra.items()) or "glibc defaults"
            print(f"   {label:45s}", " -> ".join(f"{x:.0f}" for x in seen), f"(peak {peak:.0f})")

        if os.environ.get("CALLGRIND") == "1":
            print("4. callgrind")
            for name, path, who, n in (("home", "/", "fa", 2000), ("people", "/api/v1/people?limit=500", "sa", 300)):
                out = os.path.join(tempfile.gettempdir(), f"qorgau-issue3-callgrind-{name}.out")
                p, h, port, ck = start(base, os.path.join(work, "cg-" + name),
                                       prefix=["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
                c = b.http.client.HTTPConnection(h, port, timeout=60)
                for _ in range(n):
                    c.request("GET", path, headers={"cookie": f"qorgau_session={ck[who]}"})
                    r = c.getresponse()
                    r.read()
                c.close()
                p.send_signal(b.signal.SIGTERM)  # callgrind writes its file at exit
                p.wait(timeout=120)
                print(f"   {n} x GET {path}: {out} (includes start-up and two logins)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
