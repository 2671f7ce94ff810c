"""What the benchmark scripts share: CPU accounting of the rest of the machine, RFC 6238 codes,
a small JSON API client and the demo accounts file. Standard library only."""

import base64
import csv
import hashlib
import hmac
import http.client
import json
import os
import resource
import signal
import struct
import subprocess
import time


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[7]) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Others:
    """CPU seconds the machine spent on anything but `pids` and this script's finished children,
    as a share of all the CPUs over the phase."""

    def __init__(self, pids):
        # This script itself counts as ours (it is the raw SQLite writer).
        self.pids = [*pids, os.getpid()]
        self.t = time.monotonic()
        self.busy = machine_busy_s()
        self.ours = sum(cpu_s(p) for p in pids) + children_cpu_s()

    def share(self):
        wall = time.monotonic() - self.t
        ours = sum(cpu_s(p) for p in self.pids) + children_cpu_s() - self.ours
        other = machine_busy_s() - self.busy - ours
        return max(0.0, other) / (wall * os.cpu_count())


def totp_now(secret_b32):
    s = secret_b32.strip().upper()
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000:06d}"


class Api:
    def __init__(self, host, port):
        self.host, self.port, self.cookie = host, port, ""

    def call(self, method, path, body=None, ok=(200, 201)):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            h = {"content-type": "application/json", "cookie": self.cookie}
            c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
            r = c.getresponse()
            data = r.read()
            if r.status not in ok:
                raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
            for k, v in r.getheaders():
                if k.lower() == "set-cookie" and v.startswith("qorgau_session="):
                    self.cookie = v.split(";", 1)[0]
            return json.loads(data) if data else None
        finally:
            c.close()

    def login(self, username, password, secret=""):
        body = {"username": username, "password": password,
                "totp": totp_now(secret) if secret else ""}
        self.call("POST", "/api/v1/auth/login", body)
        return self


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def accounts(data):
    with open(os.path.join(data, "demo-accounts.csv")) as f:
        return {r["role"]: r for r in csv.DictReader(f)}
