#!/usr/bin/env python3
"""startup.py - how long shoal takes from exec to its first /_ping answer, with N objects stored.

    python3 benches/startup.py --shoal target/release/shoal --objects 10000 --rounds 5

Creates a swarm under a temporary data root, fills it with N objects through the API
(services with replicas 0, secrets and configs in equal parts), stops shoal with SIGTERM,
then starts it again ROUNDS times on the same data root and reports, for each start, the
time from exec until GET /_ping answers and until GET /services answers with all N/3
services. Also reports shoal's RSS when idle after start. Standard library only.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def call(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status >= 300:
        raise RuntimeError("%s %s -> %d %s" % (method, path, resp.status, raw[:200]))
    return json.loads(raw) if raw and raw[:1] in (b"{", b"[", b'"') else raw


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(shoal, sock, data):
    t0 = time.perf_counter()
    proc = subprocess.Popen([shoal, "-H", "unix://" + sock, "--data-root", data, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            conn = UnixHTTPConnection(sock, timeout=5)
            conn.request("GET", "/_ping")
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                return proc, time.perf_counter() - t0, conn
        except (FileNotFoundError, ConnectionRefusedError, OSError):
            pass
        if proc.poll() is not None:
            raise RuntimeError("shoal exited with %s" % proc.returncode)
        if time.perf_counter() - t0 > 60:
            raise RuntimeError("no /_ping answer after 60 s")
        time.sleep(0.001)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def fill(sock, n, clients=4):
    per = n // 3
    jobs = [("services", i) for i in range(per)] + [("secrets", i) for i in range(per)] + \
           [("configs", i) for i in range(n - 2 * per)]
    chunks = [jobs[i::clients] for i in range(clients)]

    def work(chunk):
        conn = UnixHTTPConnection(sock)
        for kind, i in chunk:
            if kind == "services":
                spec = {"Name": "svc%d" % i, "Labels": {"bench": "startup"},
                        "TaskTemplate": {"ContainerSpec": {"Image": "bench/busybox:1"}},
                        "Mode": {"Replicated": {"Replicas": 0}}}
                call(conn, "POST", "/v1.41/services/create", spec)
            else:
                data = base64.b64encode(b"value %d" % i).decode()
                call(conn, "POST", "/v1.41/%s/create" % kind,
                     {"Name": "%s%d" % (kind[:3], i), "Labels": {}, "Data": data})
    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shoal", default="target/release/shoal")
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the data root")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="shoal-startup-")
    sock = os.path.join(tmp, "shoal.sock")
    data = os.path.join(tmp, "data")
    try:
        proc, first, conn = start(a.shoal, sock, data)
        time.sleep(0.5)
        idle_empty = rss_kib(proc.pid)
        call(conn, "POST", "/v1.41/swarm/init", {"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1"})
        t0 = time.perf_counter()
        services = fill(sock, a.objects)
        fill_s = time.perf_counter() - t0
        time.sleep(0.5)
        rss_full = rss_kib(proc.pid)
        stop(proc)
        pings, lists, rss = [], [], []
        for _ in range(a.rounds):
            proc, ping_s, conn = start(a.shoal, sock, data)
            t1 = time.perf_counter()
            got = call(conn, "GET", "/v1.41/services")
            list_s = ping_s + (time.perf_counter() - t1)
            if len(got) != services:
                raise RuntimeError("after restart: %d services, expected %d" % (len(got), services))
            time.sleep(0.3)
            rss.append(rss_kib(proc.pid))
            stop(proc)
            pings.append(ping_s)
            lists.append(list_s)
        print(json.dumps({
            "objects": a.objects,
            "fill_seconds": round(fill_s, 2),
            "fill_ops_per_s": round(a.objects / fill_s, 1),
            "rss_idle_no_swarm_mib": round(idle_empty / 1024, 1),
            "rss_after_fill_mib": round(rss_full / 1024, 1),
            "start_to_ping_ms": [round(p * 1000, 1) for p in pings],
            "start_to_ping_ms_median": round(statistics.median(pings) * 1000, 1),
            "start_to_full_list_ms_median": round(statistics.median(lists) * 1000, 1),
            "rss_after_restart_mib_median": round(statistics.median(rss) / 1024, 1),
        }, indent=2))
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
