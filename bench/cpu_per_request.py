#!/usr/bin/env python3
"""Server work per client_credentials token request, measured so that a busy machine hardly moves it.

    /usr/bin/python3 bench/cpu_per_request.py [--baseline BINARY] [--algs ES256,RS256]
                                              [--conns 16,64] [--seconds 5] [--valgrind N]
                                              [--annotate DIR]

Two measurements per binary, algorithm and connection count, on one SQLite server each:

1. native, under wrk (static.lua, as bench.py's client_credentials run): the server's user and
   kernel CPU time per completed request (utime/stime from /proc/PID/stat), system calls and
   context switches per request (`perf stat` software events and the raw_syscalls tracepoint),
   and hardware instructions/cycles per request where the CPU exposes counters (this VM does
   not: then "n/a"). CPU time depends on how the machine is shared (caches, frequency), so
   compare runs made close together; `--baseline` interleaves the two binaries point by point.
2. `--valgrind N` (default 2000, 0 = off): the server restarted on the same store under
   callgrind with instrumentation off, warmed up, then instrumentation on for exactly N
   requests sent over `c` keep-alive connections by this script, and the user-space
   instructions executed (Ir) divided by N. That count does not depend on the machine's load
   (it is the same, within ~0.5 %, from run to run), so it is the figure to compare; kernel work
   is not in it (see the native syscall count). With `--annotate DIR` the callgrind profile of
   that window is kept in DIR (callgrind.out.ALG.NAME, plus callgrind_annotate's inclusive and
   self tables) to show where the instructions went.

Env: as bench.py (BENCH_BINARY, default build/release/portcullis). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def proc_times(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime (ticks, all threads)


PERF_EVENTS = ["instructions:u", "instructions:k", "cycles:u", "cycles:k",
               "raw_syscalls:sys_enter", "context-switches", "task-clock"]


def perf_stat_start(pid: int, out: str) -> subprocess.Popen | None:
    if not shutil.which("perf"):
        return None
    return subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-e", ",".join(PERF_EVENTS),
                             "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_stat_stop(p: subprocess.Popen | None, out: str) -> dict:
    if p is None:
        return {}
    p.send_signal(2)  # SIGINT: perf stat prints its counts and exits
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        return {}
    got = {}
    for line in bench.read(out).splitlines():
        parts = line.split(",")
        if len(parts) >= 3 and parts[2] in PERF_EVENTS:
            try:
                got[parts[2]] = float(parts[0])
            except ValueError:
                got[parts[2]] = None  # <not supported> / <not counted>
    return got


def native(b: bench.Bench, srv: bench.Server, fx: bench.Fixture, conns: int, secs: int,
           tmp: str) -> dict:
    env = dict(os.environ)
    env.update({"BENCH_WRK_DIR": bench.WRK_DIR, "BENCH_THREADS": "2"})
    env.update(bench.cc_env(fx))
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--timeout", "5s",
           "-s", os.path.join(bench.WRK_DIR, "static.lua"),
           f"http://127.0.0.1:{srv.port}/oauth2/token"]
    busy0 = bench.cpu_busy_ticks()
    out = os.path.join(tmp, "perf-stat.txt")
    perf = perf_stat_start(srv.pid, out)
    time.sleep(0.2)
    u0, s0 = proc_times(srv.pid)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 60)
    u1, s1 = proc_times(srv.pid)
    counts = perf_stat_stop(perf, out)
    busy1 = bench.cpu_busy_ticks()
    m = re.search(r"^BENCHJSON (\{.*\})$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed: {p.stderr or p.stdout}")
    w = bench.json.loads(m.group(1))
    n = w["requests"]
    bad = w["err_status"] + w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"]
    if bad:
        raise RuntimeError(f"wrk: {bad} errors of {n} requests")
    tick_us = 1e6 / bench.CLK_TCK
    busy = 100.0 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    r = {"requests": n, "rps": n / (w["duration_us"] / 1e6),
         "user_us": (u1 - u0) * tick_us / n, "sys_us": (s1 - s0) * tick_us / n,
         "machine_busy_pct": busy}
    for k, v in counts.items():
        r[k] = v / n if v is not None else None
    return r


def send_requests(port: int, conns: int, total: int, body: str, auth: str) -> int:
    """`total` token requests over `conns` keep-alive connections; returns how many got 200."""
    ok = [0] * conns
    per = [total // conns + (1 if i < total % conns else 0) for i in range(conns)]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}

    def one(i: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for _ in range(per[i]):
            c.request("POST", "/oauth2/token", body, headers)
            resp = c.getresponse()
            resp.read()
            if resp.status == 200:
                ok[i] += 1
        c.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(ok)


def callgrind(b: bench.Bench, binary: str, name: str, alg: str, store: str, fx: bench.Fixture,
              conns: int, n: int, tmp: str, annotate: str | None) -> dict:
    """Instructions per request in user space, from callgrind over exactly n requests."""
    out = os.path.join(tmp, f"callgrind.out.{alg}.{name}.c{conns}")
    for f in glob.glob(out + "*"):
        os.unlink(f)
    vg = os.path.join(tmp, f"vg-{name}-{alg}")
    with open(vg, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                f"--callgrind-out-file={out} {binary} \"$@\"\n")
    os.chmod(vg, 0o755)
    srv = bench.Server(b, f"vg-{name}-{alg}-{conns}", alg, store, binary=vg).start()
    try:
        # The valgrind process is the server (exec): callgrind_control finds it by PID.
        body, auth = fx.cc_form(), fx.auth
        send_requests(srv.port, conns, max(50, conns * 4), body, auth)  # warm-up, not counted
        subprocess.run(["callgrind_control", "-i", "on", str(srv.pid)], check=True,
                       capture_output=True, timeout=120)
        ok = send_requests(srv.port, conns, n, body, auth)
        subprocess.run(["callgrind_control", "-i", "off", str(srv.pid)], check=True,
                       capture_output=True, timeout=120)
        subprocess.run(["callgrind_control", "-d", str(srv.pid)], check=True,
                       capture_output=True, timeout=300)
    finally:
        srv.stop()
    if ok != n:
        raise RuntimeError(f"callgrind run: {ok} of {n} requests answered 200")
    total = 0
    files = []  # the dump of the window (the dump at exit holds ~nothing: instrumentation off)
    for path in sorted(glob.glob(out + "*")):
        for line in bench.read(path).splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
                if int(line.split()[1]):
                    files.append(path)
                break
    if annotate and files:
        os.makedirs(annotate, exist_ok=True)
        for path in files:
            shutil.copy(path, annotate)
        for kind, flags in (("inclusive", ["--inclusive=yes"]), ("self", [])):
            rep = subprocess.run(["callgrind_annotate", "--threshold=99", *flags, files[0]],
                                 capture_output=True, text=True, timeout=300)
            with open(os.path.join(annotate, f"annotate.{alg}.{name}.c{conns}.{kind}.txt"),
                      "w") as f:
                f.write(rep.stdout)
    return {"ir_per_req": total / n, "valgrind_requests": n}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="another portcullis binary, measured alongside")
    ap.add_argument("--algs", default="ES256,RS256")
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--valgrind", type=int, default=2000,
                    help="requests counted under callgrind (ES256; RS256 uses a fifth); 0: off")
    ap.add_argument("--annotate", help="keep callgrind profiles and annotations here")
    ap.add_argument("--no-native", action="store_true")
    a = ap.parse_args()
    s = bench.Settings()
    binaries = [("this", s.binary)]
    if a.baseline:
        binaries.insert(0, ("baseline", os.path.abspath(a.baseline)))
    conns = [int(c) for c in a.conns.split(",")]
    tmp = tempfile.mkdtemp(prefix="portcullis-cpureq-")
    bench.REG.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    b = bench.Bench(s, tmp)
    rows = []
    try:
        for alg in a.algs.split(","):
            stores = {}
            fixtures = {}
            for name, binary in binaries:
                d = os.path.join(tmp, f"{name}-{alg}")
                os.makedirs(d)
                stores[name] = f"sqlite:{d}/portcullis.db"
            for c in conns:
                order = binaries if c % 2 == 0 and conns.index(c) % 2 == 0 else binaries[::-1]
                for name, binary in order:
                    srv = bench.Server(b, f"{name}-{alg}-{c}", alg, stores[name],
                                       binary=binary).start()
                    try:
                        if name not in fixtures:
                            fixtures[name] = bench.Fixture(b, srv)
                            fixtures[name].prepare()
                        fx = fixtures[name]
                        fx.srv = srv
                        ok, why = fx.token_endpoint_works()
                        if not ok:
                            raise RuntimeError(f"{name} {alg}: token endpoint: {why}")
                        r = {"binary": name, "alg": alg, "conns": c}
                        if not a.no_native:
                            r.update(native(b, srv, fx, c, a.seconds, tmp))
                    finally:
                        srv.stop()
                    if a.valgrind:
                        n = a.valgrind if alg != "RS256" else max(100, a.valgrind // 5)
                        r.update(callgrind(b, binary, name, alg, stores[name], fx, c, n, tmp,
                                           a.annotate))
                    rows.append(r)
                    print(f"# {r}", file=sys.stderr, flush=True)
    finally:
        bench.REG.stop_all()
    print(table(rows))
    return 0


def fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def table(rows: list[dict]) -> str:
    out = ["| binary | alg | c | Ir/req (callgrind, user) | instr/req u / k | cycles/req u / k "
           "| user µs/req | kernel µs/req | syscalls/req | ctx sw/req | req/s | machine busy % |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        out.append(
            f"| {r['binary']} | {r['alg']} | {r['conns']} | {fmt(r.get('ir_per_req'), ',.0f')} "
            f"| {fmt(r.get('instructions:u'), ',.0f')} / {fmt(r.get('instructions:k'), ',.0f')} "
            f"| {fmt(r.get('cycles:u'), ',.0f')} / {fmt(r.get('cycles:k'), ',.0f')} "
            f"| {fmt(r.get('user_us'), '.1f')} | {fmt(r.get('sys_us'), '.1f')} "
            f"| {fmt(r.get('raw_syscalls:sys_enter'), '.2f')} "
            f"| {fmt(r.get('context-switches'), '.3f')} | {fmt(r.get('rps'), ',.0f')} "
            f"| {fmt(r.get('machine_busy_pct'), '.0f')} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
