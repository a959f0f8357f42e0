#!/usr/bin/env python3
"""Portcullis load suite: references and operations under wrk on loopback, then a report.

Run through bench/run.sh (it installs what is missing and builds the release first). This file
does the measuring and the writing:

  bench.py                      measure everything, write RESULTS.md, results.json, plot.png
  bench.py --report DIR         rewrite RESULTS.md and plot.png from DIR/results.json

Environment (all optional):
  BENCH_DURATION=10s     length of each wrk run
  BENCH_QUICK=1          smoke run: 2 s runs, 1 and 16 connections, results to a temp folder
  BENCH_CONNS=1,16,64,256
  BENCH_OPENSSL_SECONDS=3, BENCH_OPENSSL_REPEAT=3   openssl speed per figure; best of N rounds
  BENCH_ONLY=group,...   startup, refs, memory, cc, dpop, store, pg (default: all)
  BENCH_DPOP_PROOFS=24000  DPoP proofs made before each DPoP run (8000 with BENCH_QUICK=1)
  BENCH_BINARY=build/release/portcullis
  BENCH_RESULTS_DIR=bench/results
  BENCH_MAX_MINUTES=80   hard bound: runs that would start later are skipped and reported so
  BENCH_QUIET_WAIT=20    before each run, wait up to this long for other work on the machine
  BENCH_RETRIES=1        repeat a run that other work disturbed (BENCH_NOISE_LIMIT=25 % of a core)

Every server it starts listens on 127.0.0.1 on a kernel-chosen port and is stopped by its PID;
temporary folders are removed at exit.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WRK_DIR = os.path.join(BENCH, "wrk")


def find_peer_dir() -> str | None:
    """The optional oidc-provider peer: BENCH_PEER_DIR, or shared/peers/oidc-provider beside the
    checkout or beside one of its parents (a worktree). None in a lone clone: the peer reference
    is then skipped and the report says so."""
    env = os.environ.get("BENCH_PEER_DIR")
    if env:
        return os.path.abspath(env)
    d = os.path.dirname(ROOT)
    while True:
        cand = os.path.join(d, "shared", "peers", "oidc-provider")
        if os.path.isfile(os.path.join(cand, "start.sh")):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


PEER_DIR = find_peer_dir()

CLK_TCK = os.sysconf("SC_CLK_TCK")
BOOT_ID = "bench-admin"
BOOT_SECRET = "bench-admin-secret-" + secrets.token_hex(16)
PEER_ID = "peer-client"
PEER_SECRET = "peer-client-secret-0123456789abcdef"
REDIRECT_URI = "http://127.0.0.1:9/cb"
ALGS = ["RS256", "ES256", "EdDSA"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def env_seconds(name: str, default: str) -> int:
    v = os.environ.get(name, default).strip().lower()
    m = re.fullmatch(r"(\d+)\s*(s|m)?", v)
    if not m:
        sys.exit(f"bench: {name}: expected seconds like 10s, got {v!r}")
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


class Settings:
    def __init__(self) -> None:
        self.quick = os.environ.get("BENCH_QUICK") == "1"
        self.duration = env_seconds("BENCH_DURATION", "2s" if self.quick else "10s")
        conns = os.environ.get("BENCH_CONNS", "1,16" if self.quick else "1,16,64,256")
        self.conns = [int(c) for c in conns.split(",") if c.strip()]
        self.openssl_seconds = env_seconds("BENCH_OPENSSL_SECONDS", "1" if self.quick else "3")
        only = os.environ.get("BENCH_ONLY", "")
        self.only = {g.strip() for g in only.split(",") if g.strip()}
        self.binary = os.path.join(ROOT, os.environ.get("BENCH_BINARY", "build/release/portcullis"))
        default_out = (os.path.join(tempfile.gettempdir(), "portcullis-bench-quick")
                       if self.quick else os.path.join(BENCH, "results"))
        self.out = os.path.abspath(os.environ.get("BENCH_RESULTS_DIR", default_out))
        self.deadline = time.monotonic() + 60 * env_seconds("BENCH_MAX_MINUTES", "80")
        self.quiet_wait = float(os.environ.get("BENCH_QUIET_WAIT", "5" if self.quick else "20"))
        self.retries = int(os.environ.get("BENCH_RETRIES", "0" if self.quick else "1"))
        self.openssl_repeat = int(os.environ.get("BENCH_OPENSSL_REPEAT", "1" if self.quick else "3"))
        self.noise_limit = float(os.environ.get("BENCH_NOISE_LIMIT", "25"))

    def wants(self, group: str) -> bool:
        return not self.only or group in self.only


# ---------------------------------------------------------------------------------------------
# Processes we start, stopped by PID at exit.

class Registry:
    def __init__(self) -> None:
        self.procs: dict[int, str] = {}
        self.cleanups: list = []

    def add(self, pid: int, what: str) -> None:
        self.procs[pid] = what

    def stop(self, pid: int, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        if pid not in self.procs:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            self.procs.pop(pid, None)
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not alive(pid):
                break
            time.sleep(0.02)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap(pid)
        self.procs.pop(pid, None)

    def stop_all(self) -> None:
        for pid in list(self.procs):
            self.stop(pid)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup: {e}")
        self.cleanups.clear()


REG = Registry()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def on_signal(signum, _frame):
    log(f"signal {signum}: stopping what was started")
    REG.stop_all()
    sys.exit(130)


# ---------------------------------------------------------------------------------------------
# /proc readings.

def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, all threads
        except (FileNotFoundError, IndexError):
            pass
    return total


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(d))
            except (FileNotFoundError, IndexError):
                pass
    return out


def cpu_busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    total = sum(v[:8])
    return total - idle, total


def wait_quiet(max_wait: float, limit_pct: float = 15.0) -> float:
    """Wait (at most max_wait s) until the machine's CPU use over 0.5 s is under limit_pct of
    all cores: other work on a shared machine (builds, tests) would distort the next run.
    Returns the last busy percentage seen."""
    end = time.monotonic() + max_wait
    while True:
        b0, t0 = cpu_busy_ticks()
        time.sleep(0.5)
        b1, t1 = cpu_busy_ticks()
        pct = 100.0 * (b1 - b0) / max(1, t1 - t0)
        if pct < limit_pct or time.monotonic() >= end:
            return pct


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# HTTP helpers for set-up (not for load: wrk does that).

def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(port: int, method: str, path: str, body: str | bytes | None = None,
            headers: dict | None = None, timeout: float = 15.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        headers: dict[str, str] = {}
        for k, v in r.getheaders():  # repeated headers (Set-Cookie) joined, not overwritten
            headers[k] = headers[k] + ", " + v if k in headers else v
        return r.status, headers, data
    finally:
        c.close()


def form(port: int, path: str, fields: dict, auth: str | None, timeout: float = 15.0):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth:
        h["Authorization"] = auth
    return request(port, "POST", path, urllib.parse.urlencode(fields), h, timeout)


def post_json(port: int, path: str, obj: dict, bearer: str):
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + bearer}
    return request(port, "POST", path, json.dumps(obj), h)


def jbody(data: bytes) -> dict:
    try:
        v = json.loads(data)
        return v if isinstance(v, dict) else {}
    except ValueError:
        return {}


# ---------------------------------------------------------------------------------------------
# wrk.

class Bench:
    def __init__(self, s: Settings, tmp: str) -> None:
        self.s = s
        self.tmp = tmp
        self.runs: list[dict] = []
        self.notes: list[str] = []
        self.pending: dict[str, str] = {}
        self.facts: dict = {}
        self.noisy = 0
        self.db_pids: list[int] = []  # PostgreSQL's processes while it runs

    def out_of_time(self) -> bool:
        return time.monotonic() > self.s.deadline

    def wrk(self, op: str, target: str, port: int, path: str, conns: int, pids: list[int],
            script: str = "static.lua", env: dict | None = None, rate_from_ok: bool = False,
            expect_counted: bool = False) -> dict | None:
        """One wrk run; returns the record appended to self.runs. A repeatable run (static.lua)
        that other work on the machine disturbed (over BENCH_NOISE_LIMIT % of a core) is run
        again, up to BENCH_RETRIES times, and the least disturbed one is kept."""
        tries = 1 + (self.s.retries if script == "static.lua" else 0)
        kept = None
        for i in range(tries):
            rec = self.wrk_once(op, target, port, path, conns, pids, script, env, rate_from_ok,
                                expect_counted)
            if rec is None:
                return kept
            if kept is None or rec["other_cpu_pct"] < kept["other_cpu_pct"]:
                if kept is not None:
                    self.runs.remove(kept)
                kept = rec
            else:
                self.runs.remove(rec)
            if kept["other_cpu_pct"] <= self.s.noise_limit or self.out_of_time():
                break
            if i + 1 < tries:
                log(f"  other work took {rec['other_cpu_pct']:.0f}% of a core: again")
        kept["tries"] = i + 1
        if kept["other_cpu_pct"] > self.s.noise_limit:
            self.noisy += 1
        return kept

    def wrk_once(self, op, target, port, path, conns, pids, script, env, rate_from_ok,
                 expect_counted) -> dict | None:
        if self.out_of_time():
            self.notes.append(f"skipped (time bound): {op} {target} c={conns}")
            return None
        threads = 1 if conns < 2 else 2
        e = dict(os.environ)
        e.update({"BENCH_WRK_DIR": WRK_DIR, "BENCH_THREADS": str(threads)})
        e.update(env or {})
        d = self.s.duration
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{d}s", "--latency", "--timeout", "5s",
               "-s", os.path.join(WRK_DIR, script), f"http://127.0.0.1:{port}{path}"]
        quiet = wait_quiet(self.s.quiet_wait)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m0 = cpu_busy_ticks()
        dbp = [q for p in self.db_pids for q in [p] + children_of(p)]
        d0 = cpu_ticks(dbp)
        c0 = cpu_ticks(pids)
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=d + 60,
                               cwd=WRK_DIR)
        except subprocess.TimeoutExpired:
            self.notes.append(f"wrk timed out: {op} {target} c={conns}")
            return None
        wall = time.monotonic() - t0
        c1 = cpu_ticks(pids)
        m1 = cpu_busy_ticks()
        d1 = cpu_ticks(dbp)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        m = re.search(r"^BENCHJSON (\{.*\})$", p.stdout, re.M)
        if p.returncode != 0 or not m:
            self.notes.append(f"wrk failed: {op} {target} c={conns}: rc={p.returncode} "
                              f"{(p.stderr or p.stdout).strip()[:300]}")
            log(self.notes[-1])
            return None
        w = json.loads(m.group(1))
        dur = w["duration_us"] / 1e6
        cpu_s = (c1 - c0) / CLK_TCK
        client_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        # Everything else the machine did meanwhile (other processes, this script, the kernel
        # outside both): a shared machine shows up here.
        db_s = (d1 - d0) / CLK_TCK
        other_s = max(0.0, (m1[0] - m0[0]) / CLK_TCK - cpu_s - client_cpu - db_s)
        sock_err = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"]
        if expect_counted or rate_from_ok:
            errors = sock_err + w.get("unexpected", 0)
        else:
            errors = sock_err + w["err_status"]
        if rate_from_ok:
            done = w.get("ok", 0)
            span = w.get("elapsed_us", 0) / 1e6 or dur
            if script in ("pool.lua", "dpop.lua"):
                dur = span  # the pool lasted this long; wrk's -d is only an upper bound
        else:
            done = w["requests"]
        rps = done / dur if dur > 0 else 0.0
        rec = {
            "op": op, "target": target, "conns": conns, "threads": threads,
            "duration_s": round(dur, 3), "requests": w["requests"], "ok": done,
            "rps": round(rps, 1),
            "server_cpu_s": round(cpu_s, 2),
            "server_cpu_pct": round(100 * cpu_s / wall, 1) if wall > 0 else 0,
            "req_per_cpu_s": round(done / cpu_s, 1) if cpu_s > 0 else None,
            "client_cpu_pct": round(100 * client_cpu / wall, 1) if wall > 0 else 0,
            "other_cpu_pct": round(100 * other_s / wall, 1) if wall > 0 else 0,
            "busy_before_pct": round(quiet, 1),
            "db_cpu_pct": round(100 * db_s / wall, 1) if wall > 0 and dbp else None,
            "p50_ms": round(w["p50_us"] / 1000, 3), "p90_ms": round(w["p90_us"] / 1000, 3),
            "p99_ms": round(w["p99_us"] / 1000, 3), "max_ms": round(w["lat_max_us"] / 1000, 3),
            "errors": errors, "err_status": w["err_status"], "err_socket": sock_err,
            "unexpected": w.get("unexpected"),
        }
        if w.get("bad_sample") and errors:
            rec["bad_sample"] = w["bad_sample"]
            self.notes.append(f"{op} {target} c={conns}: {errors} error(s), e.g. "
                              f"{w['bad_sample'][:120]}")
        self.runs.append(rec)
        log(f"{op:28s} {target:18s} c={conns:<4d} {rps:10.0f} req/s  "
            f"{rec['req_per_cpu_s'] or 0:8.0f} req/CPU-s  p50 {rec['p50_ms']:.2f} ms  "
            f"p99 {rec['p99_ms']:.2f} ms  err {errors}")
        time.sleep(0.5)
        return rec

    def sweep(self, op: str, target: str, port: int, path: str, pids: list[int], **kw) -> None:
        for c in self.s.conns:
            self.wrk(op, target, port, path, c, pids, **kw)


# ---------------------------------------------------------------------------------------------
# Portcullis.

class Server:
    """One `portcullis serve` on 127.0.0.1:0."""

    def __init__(self, b: Bench, name: str, alg: str, store: str, extra: list[str] | None = None,
                 binary: str | None = None):
        self.b, self.name, self.alg, self.store = b, name, alg, store
        self.binary = binary or b.s.binary
        self.extra = extra or []
        self.port = 0
        self.pid = 0
        self.proc: subprocess.Popen | None = None
        self.ready_ms = None
        self.log_startup_ms = None
        self.master = b.facts.setdefault("master_key", secrets.token_hex(32))

    def start(self) -> "Server":
        port_file = os.path.join(self.b.tmp, f"{self.name}.port")
        log_path = os.path.join(self.b.tmp, f"{self.name}.log")
        if os.path.exists(port_file):
            os.unlink(port_file)
        env = dict(os.environ)
        env.update({
            "PORTCULLIS_KEYS_MASTER_KEY": self.master,
            "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
            "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
        })
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file,
               "--store", self.store, "--set", "log.access=false",
               # Every load connection comes from loopback: lift the per-address cap.
               "--set", "server.max_connections_per_ip=100000",
               "--set", f"keys.algorithm={self.alg}", *self.extra]
        self.logf = open(log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.logf, stderr=self.logf,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        REG.add(self.pid, f"portcullis {self.name}")
        deadline = t0 + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"portcullis {self.name} exited with {self.proc.returncode}: "
                                   + tail(log_path))
            try:
                with open(port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.001)
        else:
            raise RuntimeError(f"portcullis {self.name}: no port file after 30 s: " + tail(log_path))
        while time.monotonic() < deadline:
            if raw_get_status(self.port, "/ready") == 200:
                self.ready_ms = (time.monotonic() - t0) * 1000
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"portcullis {self.name} exited: " + tail(log_path))
            time.sleep(0.001)
        else:
            raise RuntimeError(f"portcullis {self.name}: /ready not 200 after 30 s")
        for _ in range(200):
            m = re.search(r"event=server\.ready\b.*?startup_ms=([0-9.]+)", read(log_path)) or \
                re.search(r'"event":"server\.ready".*?"startup_ms":([0-9.]+)', read(log_path))
            if m:
                self.log_startup_ms = float(m.group(1))
                break
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self.pid:
            REG.stop(self.pid)
            if self.proc:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self.logf.close()
            self.pid = 0

    def rss(self) -> dict:
        return {"rss_kib": proc_status_kib(self.pid, "VmRSS"),
                "hwm_kib": proc_status_kib(self.pid, "VmHWM"),
                "threads": proc_status_kib(self.pid, "Threads")}


def read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def tail(path: str, n: int = 15) -> str:
    return "\n".join(read(path).splitlines()[-n:])


def raw_get_status(port: int, path: str) -> int | None:
    """GET over a raw socket: cheaper than http.client while polling every millisecond."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                      .encode())
            line = s.recv(64).split(b"\r\n", 1)[0].split()
            return int(line[1]) if len(line) >= 2 else None
    except (OSError, ValueError):
        return None


class Fixture:
    """What the load needs on one server: a client, a JWT, users, refresh tokens, codes."""

    def __init__(self, b: Bench, srv: Server) -> None:
        self.b, self.srv = b, srv
        self.admin = None
        self.client_id, self.client_secret = BOOT_ID, BOOT_SECRET
        self.client_note = ""
        self.user = None
        self.password = "Bench-Passw0rd-" + secrets.token_hex(4)
        self.cc_body = {"grant_type": "client_credentials"}

    @property
    def auth(self) -> str:
        return basic(self.client_id, self.client_secret)

    def token_endpoint_works(self) -> tuple[bool, str]:
        st, _, data = form(self.srv.port, "/oauth2/token", {"grant_type": "client_credentials"},
                           basic(BOOT_ID, BOOT_SECRET))
        return st == 200 and b"access_token" in data, f"{st} {data[:200]!r}"

    def prepare(self) -> None:
        port = self.srv.port
        st, _, data = form(port, "/oauth2/token",
                           {"grant_type": "client_credentials",
                            "scope": "portal.w portal.r oauth.user.w"}, basic(BOOT_ID, BOOT_SECRET))
        self.admin = jbody(data).get("access_token") if st == 200 else None
        if not self.admin:
            self.client_note = f"admin token refused ({st}); the bootstrap client is the bench client"
            return
        spec = {"clientType": "trusted", "clientProfile": "service", "clientName": "bench",
                "clientDesc": "bench", "host": "h", "ownerId": "admin", "scope": "api.r",
                "redirectUri": REDIRECT_URI}
        st, _, data = post_json(port, "/oauth2/client", spec, self.admin)
        if st >= 400 and st != 404:
            spec.pop("redirectUri")
            st, _, data = post_json(port, "/oauth2/client", spec, self.admin)
        got = jbody(data)
        if st < 300 and got.get("clientId") and got.get("clientSecret"):
            self.client_id, self.client_secret = got["clientId"], got["clientSecret"]
            self.cc_body = {"grant_type": "client_credentials", "scope": "api.r"}
            st2, _, d2 = form(port, "/oauth2/token", self.cc_body, self.auth)
            if st2 != 200:
                self.cc_body = {"grant_type": "client_credentials"}
                st2, _, d2 = form(port, "/oauth2/token", self.cc_body, self.auth)
            if st2 != 200:
                self.client_note = (f"the created client cannot get a token ({st2} {d2[:120]!r}); "
                                    "the bootstrap client is the bench client")
                self.client_id, self.client_secret = BOOT_ID, BOOT_SECRET
                self.cc_body = {"grant_type": "client_credentials"}
        else:
            self.client_note = (f"POST /oauth2/client answered {st}: the bootstrap client is the "
                                "bench client")
        # A user, for the password grant (refresh tokens) and authorization codes.
        uid = "benchuser"
        user = {"userId": uid, "userType": "employee", "firstName": "Bench", "lastName": "User",
                "email": "bench@example.test", "password": self.password,
                "passwordConfirm": self.password, "roles": "user"}
        st, _, data = post_json(port, "/oauth2/user", user, self.admin)
        if st < 300:
            self.user = uid
        else:
            self.user_note = f"POST /oauth2/user answered {st} {data[:120]!r}"

    def cc_form(self) -> str:
        return urllib.parse.urlencode(self.cc_body)

    def jwt(self) -> str | None:
        st, _, data = form(self.srv.port, "/oauth2/token", self.cc_body, self.auth)
        return jbody(data).get("access_token") if st == 200 else None

    def refresh_tokens(self, n: int) -> tuple[list[str], str]:
        """n refresh tokens from the password grant (each costs a password hash)."""
        if not self.user:
            return [], getattr(self, "user_note", "no user")
        fields = {"grant_type": "password", "username": self.user, "password": self.password}

        def one(_):
            st, _, data = form(self.srv.port, "/oauth2/token", fields, self.auth, timeout=60)
            return st, jbody(data).get("refresh_token"), data[:160]

        out, why = [], ""
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for st, tok, data in ex.map(one, range(n)):
                if tok:
                    out.append(tok)
                else:
                    why = f"password grant answered {st} {data!r}"
        return out, why

    def code_request(self, verifier: str) -> tuple[str, str | None, str]:
        """The authorization request path (PKCE S256) and the SSO cookie of a signed-in user,
        or (path, None, why not)."""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
            .rstrip(b"=").decode()
        q = urllib.parse.urlencode({"response_type": "code", "client_id": self.client_id,
                                    "redirect_uri": REDIRECT_URI, "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
        path = "/oauth2/code?" + q
        if not self.user:
            return path, None, getattr(self, "user_note", "no user")
        st, hd, data = request(self.srv.port, "GET", path, None,
                               {"Authorization": basic(self.user, self.password)})
        if st == 404:
            return path, None, "GET /oauth2/code answered 404: the endpoint is not there yet"
        if st != 302 or not code_of(hd):
            return path, None, f"GET /oauth2/code with HTTP Basic answered {st} {data[:160]!r}"
        h = self.sso_headers(path)
        if not h:
            return path, None, "signing in through the login form gave no SSO session"
        return path, h["Cookie"], ""

    def sso_headers(self, path: str) -> dict | None:
        """Sign in through the login form once; the headers of a signed-in browser, or None."""
        browser = {"Accept": "text/html"}
        st, hd, page = request(self.srv.port, "GET", path, None, browser)
        if st != 200:
            return None
        cookies = cookie_pairs(hd)
        fields = {html_unescape(k): html_unescape(v) for k, v in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.decode(errors="replace"))}
        fields.update({"j_username": self.user, "j_password": self.password})
        h = dict(browser, **{"Content-Type": "application/x-www-form-urlencoded",
                             "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        st, hd, _ = request(self.srv.port, "POST", "/oauth2/code", urllib.parse.urlencode(fields), h,
                            timeout=60)
        cookies.update(cookie_pairs(hd))
        if st not in (302, 303) or not code_of(hd) or "portcullis_sso" not in cookies:
            return None
        h = dict(browser, Cookie=f"portcullis_sso={cookies['portcullis_sso']}")
        st, hd, _ = request(self.srv.port, "GET", path, None, h)
        return h if st == 302 and code_of(hd) else None


def code_of(headers: dict) -> str | None:
    loc = headers.get("Location") or headers.get("location") or ""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("code", [None])[0]


def cookie_pairs(headers_list) -> dict:
    """name -> value of every Set-Cookie (http.client folds repeated headers with ', ')."""
    out = {}
    raw = headers_list.get("Set-Cookie") or headers_list.get("set-cookie") or ""
    for m in re.finditer(r"(?:^|,\s*)([A-Za-z0-9_\-]+)=([^;,]*)", raw):
        out[m.group(1)] = m.group(2)
    return out


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


# ---------------------------------------------------------------------------------------------
# References: openssl speed, nginx, the peer.

def parse_speed(out: str) -> dict:
    ref = {}
    for line in out.splitlines():
        f = line.split(":")
        if line.startswith("+F2:") and f[2] == "2048":
            ref["rsa2048_sign"], ref["rsa2048_verify"] = float(f[3]), float(f[4])
        elif line.startswith("+F4:") and f[2] == "256":
            ref["p256_sign"], ref["p256_verify"] = float(f[3]), float(f[4])
        elif line.startswith("+F6:") and f[3] == "Ed25519":
            ref["ed25519_sign"], ref["ed25519_verify"] = float(f[4]), float(f[5])
    return ref


def openssl_speed(b: Bench) -> None:
    """Sign and verify rates: on 2 cores (-multi 2, the reference of the targets) and in one
    process (the per-core rate, to compare with req per server CPU-second). Other work on the
    machine only lowers them, so each is measured BENCH_OPENSSL_REPEAT times (alternating) and
    the best figure kept."""
    n = b.s.openssl_seconds
    algs = ["rsa2048", "ecdsap256", "ed25519"]
    for rnd in range(b.s.openssl_repeat):
        for key, extra in (("openssl", ["-multi", "2"]), ("openssl_1proc", [])):
            busy = wait_quiet(b.s.quiet_wait)
            cmd = ["openssl", "speed", "-mr", *extra, "-seconds", str(n), *algs]
            log(f"{' '.join(cmd)} (round {rnd + 1}, machine busy {busy:.0f}% before)")
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=12 * n + 120)
            ref = parse_speed(p.stdout)
            if len(ref) < 6:
                b.notes.append(f"openssl speed output not understood: {p.stdout[-300:]} "
                               f"{p.stderr[-300:]}")
            kept = b.facts.setdefault(key, {})
            for k, v in ref.items():
                kept[k] = max(kept.get(k, 0.0), v)
            kept.setdefault("rounds", []).append(dict(ref, busy_before_pct=round(busy, 1)))
            log(f"{key}: " + ", ".join(f"{k} {v:.0f}" for k, v in ref.items()))
    one, two = b.facts.get("openssl_1proc", {}), b.facts.get("openssl", {})
    for k in ("rsa2048_sign", "p256_sign", "ed25519_sign"):
        if one.get(k) and two.get(k) and two[k] < 1.3 * one[k]:
            b.notes.append(f"openssl reference looks disturbed: {k} on 2 processes "
                           f"{two[k]:,.0f}/s is less than 1.3× one process ({one[k]:,.0f}/s); "
                           "ratios to it overstate Portcullis")


def nginx_reference(b: Bench, size: int) -> None:
    d = os.path.join(b.tmp, "nginx")
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    # A JSON document of exactly `size` bytes, shaped like a JWKS.
    head, tail_ = '{"keys":[{"kty":"EC","x":"', '"}]}'
    pad = max(0, size - len(head) - len(tail_))
    doc = head + ("A" * pad) + tail_
    with open(os.path.join(d, "www", "jwks.json"), "w") as f:
        f.write(doc)
    port = free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = f"""{user}worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 65; keepalive_requests 1000000;
  open_file_cache max=64 inactive=60s;
  types {{ application/json json; }}
  default_type application/json;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {d}/www;
    location = /jwks.json {{ add_header Cache-Control "public, max-age=300"; }}
  }}
}}
"""
    cpath = os.path.join(d, "nginx.conf")
    with open(cpath, "w") as f:
        f.write(conf)
    p = subprocess.Popen(["nginx", "-p", d, "-e", f"{d}/logs/error.log", "-c", cpath],
                         stdout=subprocess.DEVNULL, stderr=open(f"{d}/logs/stderr.log", "w"))
    REG.add(p.pid, "nginx")
    try:
        for _ in range(500):
            if raw_get_status(port, "/jwks.json") == 200:
                break
            if p.poll() is not None:
                raise RuntimeError("nginx exited: " + read(f"{d}/logs/stderr.log")
                                   + read(f"{d}/logs/error.log"))
            time.sleep(0.01)
        pids = [p.pid] + children_of(p.pid)
        b.facts["nginx_body_bytes"] = len(doc)
        log(f"nginx on :{port}, {len(doc)} B static JSON, workers {pids[1:]}")
        b.sweep("nginx static JSON", "nginx", port, "/jwks.json", pids)
    finally:
        REG.stop(p.pid, signal.SIGQUIT)
        p.wait(timeout=10)


def peer_reference(b: Bench) -> None:
    if PEER_DIR is None:
        b.pending["peer"] = ("skipped: the oidc-provider peer is not there (no shared/peers/"
                             "oidc-provider beside this checkout; BENCH_PEER_DIR names another)")
        log(b.pending["peer"])
        return
    start = os.path.join(PEER_DIR, "start.sh")
    if not os.path.exists(start):
        b.pending["peer"] = f"skipped: {start} not found"
        log(b.pending["peer"])
        return
    port = free_port()
    p = subprocess.run(["sh", start, str(port)], capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or not p.stdout.strip().isdigit():
        b.pending["peer"] = f"peer did not start: {p.stderr.strip()[-300:]}"
        log(b.pending["peer"])
        return
    pid = int(p.stdout.strip())
    REG.add(pid, "oidc-provider peer")
    try:
        fields = {"grant_type": "client_credentials", "scope": "api:read"}
        st, _, data = form(port, "/token", fields, basic(PEER_ID, PEER_SECRET))
        if st != 200:
            b.pending["peer"] = f"peer token endpoint answered {st} {data[:200]!r}"
            return
        b.facts["peer_rss_idle_kib"] = proc_status_kib(pid, "VmRSS")
        log(f"oidc-provider peer on :{port} (pid {pid})")
        env = {"BENCH_METHOD": "POST", "BENCH_BODY": urllib.parse.urlencode(fields),
               "BENCH_CTYPE": "application/x-www-form-urlencoded",
               "BENCH_AUTH": basic(PEER_ID, PEER_SECRET)}
        b.sweep("peer client_credentials", "oidc-provider", port, "/token", [pid], env=env)
        b.facts["peer_rss_peak_kib"] = proc_status_kib(pid, "VmHWM")
    finally:
        REG.stop(pid)


def peer_version() -> str:
    if PEER_DIR is None:
        return "absent"
    try:
        with open(os.path.join(PEER_DIR, "package-lock.json")) as f:
            lock = json.load(f)
        return lock["packages"]["node_modules/oidc-provider"]["version"]
    except (OSError, KeyError, ValueError):
        return "?"


# ---------------------------------------------------------------------------------------------
# Operations.

def cc_env(fx: Fixture, close: bool = False, secret: str | None = None) -> dict:
    auth = fx.auth if secret is None else basic(fx.client_id, secret)
    e = {"BENCH_METHOD": "POST", "BENCH_BODY": fx.cc_form(),
         "BENCH_CTYPE": "application/x-www-form-urlencoded", "BENCH_AUTH": auth}
    if close:
        e["BENCH_CLOSE"] = "1"
    return e


def measure_startup(b: Bench) -> None:
    """Wall time from exec to the first 200 on /ready, on SQLite: an empty store (migrations and
    the first key pair) and a restart on an existing one; median of 3 each."""
    res = {}
    for alg in ALGS:
        fresh, warm, logged = [], [], []
        for i in range(3):
            d = os.path.join(b.tmp, f"startup-{alg}-{i}")
            os.makedirs(d)
            store = f"sqlite:{d}/portcullis.db"
            for kind in ("fresh", "warm"):
                srv = Server(b, f"startup-{alg}-{i}-{kind}", alg, store).start()
                (fresh if kind == "fresh" else warm).append(srv.ready_ms)
                if kind == "warm" and srv.log_startup_ms is not None:
                    logged.append(srv.log_startup_ms)
                if alg == "ES256" and i == 0 and kind == "fresh":
                    b.facts["jwks_bytes"] = len(request(srv.port, "GET", "/oauth2/keys")[2])
                    b.facts["metadata_bytes"] = len(
                        request(srv.port, "GET", "/.well-known/oauth-authorization-server")[2])
                srv.stop()
        res[alg] = {"fresh_ms": round(statistics.median(fresh), 1),
                    "warm_ms": round(statistics.median(warm), 1),
                    "logged_warm_ms": round(statistics.median(logged), 1) if logged else None}
        log(f"start-up to ready, SQLite, {alg}: empty store {res[alg]['fresh_ms']} ms, "
            f"existing store {res[alg]['warm_ms']} ms (server log: {res[alg]['logged_warm_ms']})")
    b.facts["startup"] = res


def measure_memory(b: Bench) -> None:
    """RSS idle, then with 1,000 connections open (idle, then after one request each)."""
    d = os.path.join(b.tmp, "memory")
    os.makedirs(d)
    srv = Server(b, "memory", "ES256", f"sqlite:{d}/portcullis.db").start()
    try:
        time.sleep(0.5)
        m = {"idle_kib": srv.rss()["rss_kib"]}
        socks = []
        try:
            for _ in range(1000):
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            time.sleep(1.0)
            m["conn1000_idle_kib"] = srv.rss()["rss_kib"]
            req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            for s in socks:
                s.sendall(req)
            answered = 0
            for s in socks:
                try:
                    if s.recv(4096).startswith(b"HTTP/1.1 200"):
                        answered += 1
                except OSError:
                    pass
            time.sleep(0.5)
            m["conn1000_used_kib"] = srv.rss()["rss_kib"]
            m["conn1000_answered"] = answered
            st, _, data = request(srv.port, "GET", "/metrics")
            g = re.search(rb"^portcullis_http_connections_open(?:\{[^}]*\})?\s+([0-9.e+]+)", data,
                          re.M)
            m["conn1000_server_count"] = float(g.group(1)) if g else None
        finally:
            for s in socks:
                s.close()
        time.sleep(0.5)
        m["after_close_kib"] = srv.rss()["rss_kib"]
        m["hwm_kib"] = srv.rss()["hwm_kib"]
        b.facts["memory"] = m
        log(f"RSS idle {m['idle_kib'] / 1024:.1f} MiB; 1,000 connections open "
            f"{m['conn1000_idle_kib'] / 1024:.1f} MiB, after a request each "
            f"{m['conn1000_used_kib'] / 1024:.1f} MiB ({answered} answered)")
    finally:
        srv.stop()


def run_cc(b: Bench, alg: str) -> None:
    d = os.path.join(b.tmp, f"cc-{alg}")
    os.makedirs(d)
    srv = Server(b, f"cc-{alg}", alg, f"sqlite:{d}/portcullis.db").start()
    try:
        fx = Fixture(b, srv)
        ok, why = fx.token_endpoint_works()
        if not ok:
            b.pending[f"client_credentials {alg}"] = f"POST /oauth2/token: {why}"
            log(b.pending[f"client_credentials {alg}"])
            return
        fx.prepare()
        if fx.client_note:
            b.notes.append(f"{alg}: {fx.client_note}")
        b.facts.setdefault("client_secret_kind", {})[alg] = (
            "created through POST /oauth2/client" if fx.client_id != BOOT_ID else "bootstrap")
        rss0 = srv.rss()
        tgt = "portcullis-sqlite"
        b.sweep(f"client_credentials {alg}", tgt, srv.port, "/oauth2/token", [srv.pid],
                env=cc_env(fx))
        b.sweep(f"client_credentials {alg} new conn", tgt, srv.port, "/oauth2/token", [srv.pid],
                env=cc_env(fx, close=True))
        if alg == "ES256":
            bad = dict(cc_env(fx, secret="wrong-" + secrets.token_hex(16)), BENCH_EXPECT="401")
            b.sweep("wrong secret", tgt, srv.port, "/oauth2/token", [srv.pid], env=bad,
                    expect_counted=True)
            # The same status counting on the success path, so the two compare like for like,
            # and an unknown client id (must not be told apart from a wrong secret by its cost).
            good = dict(cc_env(fx), BENCH_EXPECT="200")
            unknown = dict(cc_env(fx), BENCH_EXPECT="404",
                           BENCH_AUTH=basic("no-such-client-" + secrets.token_hex(4),
                                            "wrong-" + secrets.token_hex(16)))
            for c in b.s.conns:
                if c == 16:
                    b.wrk("client_credentials ES256 (counted)", tgt, srv.port, "/oauth2/token",
                          c, [srv.pid], env=good, expect_counted=True)
                    b.wrk("unknown client", tgt, srv.port, "/oauth2/token", c, [srv.pid],
                          env=unknown, expect_counted=True)
        jwt = fx.jwt()
        if jwt:
            env = {"BENCH_METHOD": "POST", "BENCH_CTYPE": "application/x-www-form-urlencoded",
                   "BENCH_BODY": urllib.parse.urlencode({"token": jwt}), "BENCH_AUTH": fx.auth}
            st, _, data = request(srv.port, "POST", "/oauth2/introspect", env["BENCH_BODY"],
                                  {"Content-Type": env["BENCH_CTYPE"], "Authorization": fx.auth})
            if st == 200 and b'"active":true' in data.replace(b" ", b""):
                b.sweep(f"introspection {alg}", tgt, srv.port, "/oauth2/introspect", [srv.pid],
                        env=env)
            else:
                b.pending[f"introspection {alg}"] = f"POST /oauth2/introspect: {st} {data[:150]!r}"
        if alg == "ES256":
            for op, path in (("JWKS GET", "/oauth2/keys"),
                             ("metadata GET", "/.well-known/oauth-authorization-server")):
                st, _, data = request(srv.port, "GET", path)
                if st == 200:
                    b.sweep(op, tgt, srv.port, path, [srv.pid])
                else:
                    b.pending[op] = f"GET {path}: {st}"
        rss1 = srv.rss()
        b.facts.setdefault("server_memory", {})[f"sqlite {alg}, token endpoint and reads"] = {
            "idle_kib": rss0["rss_kib"], "after_kib": rss1["rss_kib"], "hwm_kib": rss1["hwm_kib"],
            "threads": rss1["threads"]}
    finally:
        srv.stop()


# ---------------------------------------------------------------------------------------------
# DPoP (RFC 9449): client_credentials and GET /oauth2/verify with proofs, each next to its plain
# counterpart on the same server, in the same run.

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _make_proofs(args: tuple) -> list[str]:
    """Worker (a separate process): `count` ES256 proofs with the key in `pem`, each its own jti."""
    pem, header, htm, htu, ath, iat, count = args
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = serialization.load_pem_private_key(pem, password=None)
    out = []
    for _ in range(count):
        claims = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": iat}
        if ath:
            claims["ath"] = ath
        signing_input = header + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
        r, s_ = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        out.append(signing_input + "." + b64url(r.to_bytes(32, "big") + s_.to_bytes(32, "big")))
    return out


class DpopKey:
    """The bench client's DPoP key (P-256), made with the `cryptography` package: no Portcullis
    code signs the proofs."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.pem = self.key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        n = self.key.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64url(n.x.to_bytes(32, "big")),
                    "y": b64url(n.y.to_bytes(32, "big"))}
        canonical = json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)
        self.jkt = b64url(hashlib.sha256(canonical.encode()).digest())  # RFC 7638
        self.header = b64url(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk},
                                        separators=(",", ":")).encode())

    def proofs(self, n: int, htm: str, htu: str, token: str | None = None) -> list[str]:
        """n fresh proofs (iat now, unique jti), made on two processes."""
        ath = b64url(hashlib.sha256(token.encode()).digest()) if token else None
        iat = int(time.time())
        parts = [n // 2, n - n // 2]
        with concurrent.futures.ProcessPoolExecutor(2) as ex:
            chunks = ex.map(_make_proofs, [(self.pem, self.header, htm, htu, ath, iat, k)
                                           for k in parts])
            return [p for c in chunks for p in c]


def write_pool(b: Bench, name: str, lines: list[str]) -> str:
    path = os.path.join(b.tmp, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_dpop(b: Bench) -> None:
    """client_credentials ES256 with and without a DPoP proof, and GET /oauth2/verify with a
    DPoP-bound token and its proof against a bearer token: each pair at each connection count,
    one right after the other (the order flips from point to point), with the same wrk script
    (dpop.lua) and the same number of requests, so the ratio is like for like."""
    n = int(os.environ.get("BENCH_DPOP_PROOFS", "8000" if b.s.quick else "24000"))
    d = os.path.join(b.tmp, "dpop")
    os.makedirs(d)
    srv = Server(b, "dpop", "ES256", f"sqlite:{d}/portcullis.db").start()
    tgt = "portcullis-sqlite"
    try:
        fx = Fixture(b, srv)
        ok, why = fx.token_endpoint_works()
        if not ok:
            b.pending["DPoP"] = f"POST /oauth2/token: {why}"
            return
        port = srv.port
        st, _, data = form(port, "/oauth2/token", {"grant_type": "client_credentials",
                                                   "scope": "portal.w portal.r"},
                           basic(BOOT_ID, BOOT_SECRET))
        admin = jbody(data).get("access_token")
        # A service with one endpoint, and a client linked to it (scope pets.r).
        steps = [("POST", "/oauth2/service", {
                     "serviceId": "petstore", "serviceType": "openapi", "serviceName": "Pet Store",
                     "serviceDesc": "pets", "scope": "pets.r", "ownerId": "admin",
                     "host": "lightapi.net"}),
                 ("POST", "/oauth2/service/petstore/endpoint", [
                     {"endpoint": "/v1/pets@get", "operation": "listPets", "scope": "pets.r"}]),
                 ("POST", "/oauth2/client", {
                     "clientType": "trusted", "clientProfile": "service", "clientName": "bench",
                     "clientDesc": "bench", "host": "h", "ownerId": "admin", "scope": "other.r"})]
        client = None
        for method, path, body in steps:
            st, _, data = request(port, method, path, json.dumps(body),
                                  {"Content-Type": "application/json",
                                   "Authorization": "Bearer " + (admin or "")})
            if st >= 300:
                b.pending["DPoP"] = f"{method} {path}: {st} {data[:150]!r}"
                return
            if path == "/oauth2/client":
                client = jbody(data)
        cid, secret = client["clientId"], client["clientSecret"]
        st, _, data = request(port, "POST", f"/oauth2/client/{cid}/service/petstore",
                              json.dumps(["/v1/pets@get"]),
                              {"Content-Type": "application/json",
                               "Authorization": "Bearer " + admin})
        if st >= 300:
            b.pending["DPoP"] = f"linking the client to the service: {st} {data[:150]!r}"
            return
        auth = basic(cid, secret)
        meta = jbody(request(port, "GET", "/.well-known/oauth-authorization-server")[2])
        token_htu = meta.get("token_endpoint") or f"http://127.0.0.1:{port}/oauth2/token"
        key = DpopKey()
        cc_body = urllib.parse.urlencode({"grant_type": "client_credentials"})
        hdr = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}
        st, _, data = request(port, "POST", "/oauth2/token", cc_body,
                              dict(hdr, DPoP=key.proofs(1, "POST", token_htu)[0]))
        got = jbody(data)
        if st != 200 or got.get("token_type") != "DPoP":
            b.pending["DPoP"] = f"client_credentials with a proof: {st} {data[:150]!r}"
            return
        bound = got["access_token"]
        st, _, data = request(port, "POST", "/oauth2/token", cc_body, hdr)
        bearer = jbody(data).get("access_token")
        # GET /oauth2/verify as the nginx example calls it; the proof's htu is the public URI.
        htu = "https://api.example.com/v1/pets"
        gateway = ("X-Original-Method: GET\nX-Original-URI: /v1/pets\nX-Service-Id: petstore\n"
                   "X-Forwarded-Proto: https\nX-Forwarded-Host: api.example.com")
        vh = {k: v for k, v in (line.split(": ", 1) for line in gateway.split("\n"))}
        checks = [("verify", dict(vh, Authorization="Bearer " + bearer), 204),
                  ("verify DPoP", dict(vh, Authorization="DPoP " + bound,
                                       DPoP=key.proofs(1, "GET", htu, bound)[0]), 204)]
        for what, h, want in checks:
            st, _, data = request(port, "GET", "/oauth2/verify", None, h)
            if st != want:
                b.pending["DPoP"] = f"{what}: GET /oauth2/verify answered {st} {data[:150]!r}"
                return
        b.facts["dpop"] = {"proofs_per_run": n, "proof_alg": "ES256", "token_alg": "ES256",
                           "verify_replay_capacity": 100000}
        cc = {"BENCH_METHOD": "POST", "BENCH_PATH": "/oauth2/token", "BENCH_BODY": cc_body,
              "BENCH_CTYPE": "application/x-www-form-urlencoded", "BENCH_AUTH": auth,
              "BENCH_EXPECT": "200"}
        vf = {"BENCH_METHOD": "GET", "BENCH_PATH": "/oauth2/verify", "BENCH_HEADERS": gateway,
              "BENCH_EXPECT": "204"}
        plain_pool = write_pool(b, "plain.pool", ["-"] * n)
        for i, c in enumerate(b.s.conns):
            pairs = [
                ("client_credentials ES256 (pooled)", "/oauth2/token", dict(cc),
                 lambda: plain_pool, ""),
                ("client_credentials ES256 DPoP", "/oauth2/token", dict(cc),
                 lambda: write_pool(b, "cc.pool", key.proofs(n, "POST", token_htu)), "DPoP"),
                ("verify", "/oauth2/verify", dict(vf, BENCH_AUTH="Bearer " + bearer),
                 lambda: plain_pool, ""),
                ("verify DPoP", "/oauth2/verify", dict(vf, BENCH_AUTH="DPoP " + bound),
                 lambda: write_pool(b, "verify.pool", key.proofs(n, "GET", htu, bound)), "DPoP"),
            ]
            for k in (0, 2):
                pair = pairs[k:k + 2]
                if i % 2:
                    pair.reverse()  # neither side always runs first
                for op, path, env, make_pool, header in pair:
                    # Made right before the run: iat is fresh (well inside the 60 s window).
                    env.update({"BENCH_POOL_FILE": make_pool(), "BENCH_POOL_HEADER": header})
                    b.wrk(op, tgt, port, path, c, [srv.pid], script="dpop.lua", env=env,
                          rate_from_ok=True)
    finally:
        srv.stop()


def dpop_ratio_lines(runs: list[dict]) -> list[str]:
    """DPoP against its plain counterpart at each connection count (req/s and server CPU per
    request)."""
    sq = "portcullis-sqlite"
    lines = []
    for dop, plain, name in (("client_credentials ES256 DPoP", "client_credentials ES256 (pooled)",
                              "client_credentials ES256 with DPoP (ES256 proof)"),
                             ("verify DPoP", "verify", "GET /oauth2/verify with DPoP")):
        for r in sorted((x for x in runs if x["op"] == dop and x["target"] == sq),
                        key=lambda x: x["conns"]):
            p = at(runs, plain, r["conns"], sq)
            if not p or not p["rps"]:
                continue
            line = (f"{name}, c={r['conns']}: {r['rps']:,.0f} vs {p['rps']:,.0f} req/s plain = "
                    f"{r['rps'] / p['rps']:.2f}×")
            if r["req_per_cpu_s"] and p["req_per_cpu_s"]:
                line += (f"; server CPU per request {1e6 / r['req_per_cpu_s']:.0f} vs "
                         f"{1e6 / p['req_per_cpu_s']:.0f} µs = "
                         f"{p['req_per_cpu_s'] / r['req_per_cpu_s']:.2f}×")
            line += f"; p50 {r['p50_ms']:.2f} vs {p['p50_ms']:.2f} ms"
            lines.append(line)
    return lines


def run_store(b: Bench, kind: str, store: str) -> None:
    """Store writes: authorization-code redemption and refresh rotation (ES256 signing)."""
    srv = Server(b, f"store-{kind}", "ES256", store).start()
    tgt = f"portcullis-{kind}"
    try:
        fx = Fixture(b, srv)
        ok, why = fx.token_endpoint_works()
        if not ok:
            b.pending[f"store writes ({kind})"] = f"POST /oauth2/token: {why}"
            return
        fx.prepare()
        mem_key = f"{kind} ES256, store writes"
        b.facts.setdefault("server_memory", {})[mem_key] = {"idle_kib": srv.rss()["rss_kib"]}
        if kind == "postgres":
            b.sweep("client_credentials ES256", tgt, srv.port, "/oauth2/token", [srv.pid],
                    env=cc_env(fx))
        # Refresh rotation: one chain per connection, started from the password grant.
        for c in b.s.conns:
            if b.out_of_time():
                break
            toks, why = fx.refresh_tokens(c)
            if len(toks) < c:
                b.pending[f"refresh rotation ({kind})"] = why or "too few refresh tokens"
                log(f"refresh rotation ({kind}) pending: {b.pending[f'refresh rotation ({kind})']}")
                break
            pool = os.path.join(b.tmp, f"refresh-{kind}-{c}.txt")
            with open(pool, "w") as f:
                f.write("\n".join(toks) + "\n")
            b.wrk(f"refresh rotation ({kind})", tgt, srv.port, "/oauth2/token", c, [srv.pid],
                  script="refresh.lua", env={"BENCH_POOL_FILE": pool, "BENCH_AUTH": fx.auth},
                  rate_from_ok=True)
        # Authorization codes: a signed-in browser's GET /oauth2/code issues them (measured too),
        # then each is redeemed once (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6).
        verifier = secrets.token_urlsafe(48)
        path, cookie, why = fx.code_request(verifier)
        if not cookie:
            b.pending[f"authorization_code ({kind})"] = why
            log(f"authorization_code ({kind}) pending: {why}")
        for c in b.s.conns if cookie else []:
            if b.out_of_time():
                break
            prefix = os.path.join(b.tmp, f"codes-{kind}-{c}")
            b.wrk(f"authorization request, signed in ({kind})", tgt, srv.port, path, c,
                  [srv.pid], script="mint.lua",
                  env={"BENCH_COOKIE": cookie, "BENCH_OUT_PREFIX": prefix}, rate_from_ok=True)
            codes = []
            for t in range(2):
                codes += [x for x in read(f"{prefix}.{t}").splitlines() if x]
            if len(codes) < c:
                b.pending[f"authorization_code ({kind})"] = f"only {len(codes)} codes minted"
                break
            pool = prefix + ".txt"
            with open(pool, "w") as f:
                f.write("\n".join(codes) + "\n")
            tmpl = ("grant_type=authorization_code&code={item}&redirect_uri="
                    + urllib.parse.quote(REDIRECT_URI, safe="") + "&code_verifier=" + verifier)
            b.wrk(f"authorization_code ({kind})", tgt, srv.port, "/oauth2/token", c, [srv.pid],
                  script="pool.lua", env={"BENCH_POOL_FILE": pool, "BENCH_AUTH": fx.auth,
                                          "BENCH_BODY_TEMPLATE": tmpl},
                  rate_from_ok=True)
        after = srv.rss()
        b.facts["server_memory"][mem_key].update(after_kib=after["rss_kib"], hwm_kib=after["hwm_kib"],
                                                 threads=after["threads"])
    finally:
        srv.stop()



# ---------------------------------------------------------------------------------------------
# Before/after (BENCH_BASELINE in run.sh): two binaries side by side, alternating per point.

CMP_CONNS_CC = (16, 64)
CMP_CONNS_READ = (16, 64, 256)


def compare(b: Bench, base_bin: str) -> None:
    """The issue's before/after figures, each point measured on the baseline and on this build
    one right after the other (the order flips from point to point, so a drift in the machine's
    load favours neither): client_credentials ES256 at c=16/64 (req/s and req per server
    CPU-second), RS256 against openssl RSA-2048 signing on 2 cores, JWKS and introspection
    against nginx at c=16/64/256, and authorization_code redemption and refresh rotation at c=16
    on SQLite (p50/p99)."""
    bins = [("before", base_bin), ("after", b.s.binary)]
    flip = [0]

    def both(fn) -> None:
        order = bins if flip[0] % 2 == 0 else bins[::-1]
        flip[0] += 1
        for label, _ in order:
            fn(label)

    b.s.openssl_repeat = max(1, b.s.openssl_repeat)
    openssl_speed(b)

    # ES256: client_credentials, JWKS, introspection; one server per binary, both up at once.
    srv, fx, jwt = {}, {}, {}
    try:
        for label, binary in bins:
            d = os.path.join(b.tmp, f"cmp-es256-{label}")
            os.makedirs(d)
            srv[label] = Server(b, f"cmp-es256-{label}", "ES256", f"sqlite:{d}/portcullis.db",
                                binary=binary).start()
            fx[label] = Fixture(b, srv[label])
            fx[label].prepare()
            jwt[label] = fx[label].jwt()
        b.facts["jwks_bytes"] = len(request(srv["after"].port, "GET", "/oauth2/keys")[2])
        nginx_conns, b.s.conns = b.s.conns, list(CMP_CONNS_READ)
        nginx_reference(b, b.facts["jwks_bytes"])
        b.s.conns = nginx_conns
        for c in CMP_CONNS_CC:
            both(lambda l: b.wrk("client_credentials ES256", l, srv[l].port, "/oauth2/token", c,
                                 [srv[l].pid], env=cc_env(fx[l])))
        for c in CMP_CONNS_READ:
            both(lambda l: b.wrk("JWKS GET", l, srv[l].port, "/oauth2/keys", c, [srv[l].pid]))
        for c in CMP_CONNS_READ:
            def intro(l):
                if not jwt[l]:
                    b.pending[f"introspection ES256 {l}"] = "no JWT from the token endpoint"
                    return
                env = {"BENCH_METHOD": "POST", "BENCH_CTYPE": "application/x-www-form-urlencoded",
                       "BENCH_BODY": urllib.parse.urlencode({"token": jwt[l]}),
                       "BENCH_AUTH": fx[l].auth}
                b.wrk("introspection ES256", l, srv[l].port, "/oauth2/introspect", c,
                      [srv[l].pid], env=env)
            both(intro)
    finally:
        for x in srv.values():
            x.stop()

    # RS256 client_credentials against openssl's 2-core signing rate.
    srv, fx = {}, {}
    try:
        for label, binary in bins:
            d = os.path.join(b.tmp, f"cmp-rs256-{label}")
            os.makedirs(d)
            srv[label] = Server(b, f"cmp-rs256-{label}", "RS256", f"sqlite:{d}/portcullis.db",
                                binary=binary).start()
            fx[label] = Fixture(b, srv[label])
            fx[label].prepare()
        for c in CMP_CONNS_CC:
            both(lambda l: b.wrk("client_credentials RS256", l, srv[l].port, "/oauth2/token", c,
                                 [srv[l].pid], env=cc_env(fx[l])))
    finally:
        for x in srv.values():
            x.stop()

    # Store writes on SQLite at c=16: refresh rotation, then authorization_code redemption.
    srv, fx, codes = {}, {}, {}
    c = 16
    try:
        for label, binary in bins:
            d = os.path.join(b.tmp, f"cmp-store-{label}")
            os.makedirs(d)
            srv[label] = Server(b, f"cmp-store-{label}", "ES256", f"sqlite:{d}/portcullis.db",
                                binary=binary).start()
            fx[label] = Fixture(b, srv[label])
            fx[label].prepare()

        def refresh(l):
            toks, why = fx[l].refresh_tokens(c)
            if len(toks) < c:
                b.pending[f"refresh rotation (sqlite) {l}"] = why or "too few refresh tokens"
                return
            pool = os.path.join(b.tmp, f"cmp-refresh-{l}.txt")
            with open(pool, "w") as f:
                f.write("\n".join(toks) + "\n")
            b.wrk("refresh rotation (sqlite)", l, srv[l].port, "/oauth2/token", c, [srv[l].pid],
                  script="refresh.lua", env={"BENCH_POOL_FILE": pool, "BENCH_AUTH": fx[l].auth},
                  rate_from_ok=True)
        both(refresh)

        verifier = secrets.token_urlsafe(48)
        for label, _ in bins:
            path, cookie, why = fx[label].code_request(verifier)
            if not cookie:
                b.pending[f"authorization_code (sqlite) {label}"] = why
                continue
            prefix = os.path.join(b.tmp, f"cmp-codes-{label}")
            b.wrk("authorization request, signed in (sqlite)", label, srv[label].port, path, c,
                  [srv[label].pid], script="mint.lua",
                  env={"BENCH_COOKIE": cookie, "BENCH_OUT_PREFIX": prefix}, rate_from_ok=True)
            got = []
            for t in range(2):
                got += [x for x in read(f"{prefix}.{t}").splitlines() if x]
            if len(got) < c:
                b.pending[f"authorization_code (sqlite) {label}"] = f"only {len(got)} codes minted"
                continue
            codes[label] = prefix + ".txt"
            with open(codes[label], "w") as f:
                f.write("\n".join(got) + "\n")
        tmpl = ("grant_type=authorization_code&code={item}&redirect_uri="
                + urllib.parse.quote(REDIRECT_URI, safe="") + "&code_verifier=" + verifier)

        def redeem(l):
            if l in codes:
                b.wrk("authorization_code (sqlite)", l, srv[l].port, "/oauth2/token", c,
                      [srv[l].pid], script="pool.lua",
                      env={"BENCH_POOL_FILE": codes[l], "BENCH_AUTH": fx[l].auth,
                           "BENCH_BODY_TEMPLATE": tmpl}, rate_from_ok=True)
        both(redeem)
    finally:
        for x in srv.values():
            x.stop()


CMP_ROWS = [
    ("client_credentials ES256", CMP_CONNS_CC),
    ("client_credentials RS256", CMP_CONNS_CC),
    ("JWKS GET", CMP_CONNS_READ),
    ("introspection ES256", CMP_CONNS_READ),
    ("refresh rotation (sqlite)", (16,)),
    ("authorization_code (sqlite)", (16,)),
    ("authorization request, signed in (sqlite)", (16,)),
]


def compare_targets(res: dict) -> list[tuple[str, str, str]]:
    runs, f = res["runs"], res["facts"]
    out = []
    for c in CMP_CONNS_CC:
        a, z = at(runs, "client_credentials ES256", c, "before"), \
            at(runs, "client_credentials ES256", c, "after")
        if a and z and a["req_per_cpu_s"] and z["req_per_cpu_s"]:
            q = z["req_per_cpu_s"] / a["req_per_cpu_s"]
            out.append((f"client_credentials ES256 per server CPU-second ≥ +15 %, c={c}",
                        f"{a['req_per_cpu_s']:,.0f} → {z['req_per_cpu_s']:,.0f} req/CPU-s "
                        f"({100 * (q - 1):+.1f} %); req/s {a['rps']:,.0f} → {z['rps']:,.0f}",
                        verdict(q >= 1.15)))
        else:
            out.append((f"client_credentials ES256 per server CPU-second ≥ +15 %, c={c}",
                        "not measured", verdict(None)))
    rsa = f.get("openssl", {}).get("rsa2048_sign")
    for label in ("before", "after"):
        r = best([x for x in runs if x["target"] == label], "client_credentials RS256")
        if r and rsa:
            q = r["rps"] / rsa
            out.append((f"client_credentials RS256 ≥ 0.85 of openssl RSA-2048 sign/s on 2 cores "
                        f"({label})", f"{r['rps']:,.0f} req/s (c={r['conns']}) / {rsa:,.0f} = "
                                      f"{q:.2f}", verdict(q >= 0.85)))
    for c in CMP_CONNS_READ:
        n = at(runs, "nginx static JSON", c)
        for label in ("before", "after"):
            r = at(runs, "JWKS GET", c, label)
            if r and n:
                q = r["rps"] / n["rps"]
                out.append((f"JWKS GET ≥ 0.8 of nginx, c={c} ({label})",
                            f"{r['rps']:,.0f} / {n['rps']:,.0f} = {q:.2f}", verdict(q >= 0.8)))
    for op in ("authorization_code (sqlite)", "refresh rotation (sqlite)"):
        for label in ("before", "after"):
            r = at(runs, op, 16, label)
            out.append((f"{op} p99 ≤ 20 ms at c=16 ({label})",
                        f"p99 {r['p99_ms']:.1f} ms, p50 {r['p50_ms']:.1f} ms, {r['rps']:,.0f}/s"
                        if r else "not measured", verdict(r["p99_ms"] <= 20 if r else None)))
    return out


def compare_table(res: dict) -> list[str]:
    runs = res["runs"]
    L = ["| operation | c | req/s before | req/s after | × | req/CPU-s before | req/CPU-s after "
         "| × | p50 ms before → after | p99 ms before → after | reference |",
         "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    rsa = res["facts"].get("openssl", {}).get("rsa2048_sign")

    def x(a, z):
        return f"{z / a:.2f}" if a and z else "–"

    for op, conns in CMP_ROWS:
        for c in conns:
            a, z = at(runs, op, c, "before"), at(runs, op, c, "after")
            if not a and not z:
                continue
            ref = ""
            n = at(runs, "nginx static JSON", c)
            if op in ("JWKS GET", "introspection ES256") and n:
                ref = (f"nginx {n['rps']:,.0f}: " + " / ".join(
                    f"{r['rps'] / n['rps']:.2f}" if r else "–" for r in (a, z)))
            elif op == "client_credentials RS256" and rsa:
                ref = (f"RSA-2048 sign 2 cores {rsa:,.0f}/s: " + " / ".join(
                    f"{r['rps'] / rsa:.2f}" if r else "–" for r in (a, z)))

            def g(r, k, fmt="{:,.0f}"):
                return fmt.format(r[k]) if r and r.get(k) is not None else "–"
            L.append(f"| {op} | {c} | {g(a, 'rps')} | {g(z, 'rps')} | "
                     f"{x(a and a['rps'], z and z['rps'])} | {g(a, 'req_per_cpu_s')} | "
                     f"{g(z, 'req_per_cpu_s')} | "
                     f"{x(a and a['req_per_cpu_s'], z and z['req_per_cpu_s'])} | "
                     f"{g(a, 'p50_ms', '{:.2f}')} → {g(z, 'p50_ms', '{:.2f}')} | "
                     f"{g(a, 'p99_ms', '{:.1f}')} → {g(z, 'p99_ms', '{:.1f}')} | {ref} |")
    for c in CMP_CONNS_READ:
        n = at(runs, "nginx static JSON", c)
        if n:
            L.append(f"| nginx static JSON (reference) | {c} | {n['rps']:,.0f} | | | "
                     f"{n['req_per_cpu_s'] or 0:,.0f} | | | {n['p50_ms']:.2f} | {n['p99_ms']:.1f} | |")
    return L


def write_compare(res: dict, out: str) -> str:
    m, st = res["machine"], res["settings"]
    ossl = res["facts"].get("openssl", {})
    L = ["# Portcullis before/after", "",
         f"Baseline **{st.get('baseline_label')}** against this build "
         f"(`{m.get('commit', '?')}`), in one run on the same machine, {st['duration']} s per point; "
         "each point measured on both binaries one right after the other, the order alternating.",
         "",
         f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores. openssl speed -multi 2: "
         f"RSA-2048 sign {ossl.get('rsa2048_sign', 0):,.0f}/s, P-256 sign "
         f"{ossl.get('p256_sign', 0):,.0f}/s.", "", "## Targets", "",
         "| target | measured | |", "|---|---|---|"]
    for name, meas, v in compare_targets(res):
        L.append(f"| {name} | {meas} | {v} |")
    L += ["", "## Figures", "", *compare_table(res), ""]
    L.append("req/CPU-s: requests per second of server CPU (utime+stime from /proc/PID/stat). "
             "Store writes: req/s counts successful redemptions/rotations over the time the pool "
             "lasted.")
    if res["pending"]:
        L += ["", "## Not measured", ""] + [f"- **{k}**: {v}" for k, v in res["pending"].items()]
    if res["notes"]:
        L += ["", "## Notes", ""] + [f"- {n}" for n in res["notes"]]
    path = os.path.join(out, "COMPARE.md")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    return path


def compare_summary(res: dict) -> str:
    lines = ["", "== Portcullis before/after =="]
    for name, meas, v in compare_targets(res):
        lines.append(f"{v.replace('*', ''):5s} {name}: {meas}")
    lines += ["", *compare_table(res)]
    if res["pending"]:
        lines += ["", "pending: " + "; ".join(f"{k}: {v}" for k, v in res["pending"].items())]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Machine description.

def sh(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine(binary: str) -> dict:
    cpu = "?"
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "?":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                fl = line.split(":", 1)[1].split()
                flags = " ".join(x for x in ("aes", "avx2", "avx512f", "sha_ni", "adx", "bmi2")
                                 if x in fl)
    mem = proc_meminfo_gib()
    osr = "?"
    try:
        with open("/etc/os-release") as f:
            osr = re.search(r'PRETTY_NAME="([^"]+)"', f.read()).group(1)
    except (OSError, AttributeError):
        pass
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", "src"])
    return {
        "cpu": cpu, "cores": os.cpu_count(), "cpu_flags": flags, "memory_gib": mem,
        "kernel": platform.release(), "os": osr,
        "wrk": (sh(["wrk", "--version"]).splitlines() or ["?"])[0].split(" Copyright")[0],
        "nginx": sh(["nginx", "-v"]), "openssl": sh(["openssl", "version"]),
        "node": sh(["node", "--version"]), "oidc_provider": peer_version(),
        "postgres": sh(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "portcullis": sh([binary, "version"]),
        "commit": rev + (" (+ uncommitted changes in src/)" if dirty and dirty != "?" else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def proc_meminfo_gib() -> float:
    with open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
    return round(kib / 1024 / 1024, 1)


# ---------------------------------------------------------------------------------------------
# Report.

def best(runs: list[dict], op: str, target: str | None = None) -> dict | None:
    rs = [r for r in runs if r["op"] == op and (target is None or r["target"] == target)]
    return max(rs, key=lambda r: r["rps"]) if rs else None


def at(runs: list[dict], op: str, conns: int, target: str | None = None) -> dict | None:
    for r in runs:
        if r["op"] == op and r["conns"] == conns and (target is None or r["target"] == target):
            return r
    return None


def fmt_int(v) -> str:
    return "–" if v is None else f"{v:,.0f}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**MISS**")


def targets(res: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) lines."""
    runs, f = res["runs"], res["facts"]
    ossl = f.get("openssl", {})
    out = []
    sq = "portcullis-sqlite"
    nginx = best(runs, "nginx static JSON")
    peer = best(runs, "peer client_credentials")

    def ratio_line(name, op, ref, ref_name, need, target=sq, ref_key=None):
        r = best(runs, op, target)
        if not r or not ref:
            why = res["pending"].get(op) or (res["pending"].get(ref_key) if not ref and ref_key
                                             else None)
            out.append((name, "not measured" + (f" ({why})" if why else ""), verdict(None)))
            return None
        refv = ref["rps"] if isinstance(ref, dict) else ref
        q = r["rps"] / refv
        out.append((name, f"{r['rps']:,.0f} req/s (c={r['conns']}) / {refv:,.0f} {ref_name} = "
                          f"{q:.2f}×" if q >= 2 else
                          f"{r['rps']:,.0f} req/s (c={r['conns']}) / {refv:,.0f} {ref_name} = "
                          f"{100 * q:.1f}%", verdict(q >= need)))
        return q

    ratio_line("client_credentials RS256 ≥ 75% of openssl RSA-2048 sign/s (2 cores)",
               "client_credentials RS256", ossl.get("rsa2048_sign"), "RSA-2048 sign/s", 0.75)
    ratio_line("client_credentials RS256 ≥ 5× the peer (oidc-provider)",
               "client_credentials RS256", peer, "peer req/s", 5.0, ref_key="peer")
    es = best(runs, "client_credentials ES256", sq)
    if es:
        q = es["rps"] / nginx["rps"] if nginx else None
        ok = es["rps"] >= 20000 or (q is not None and q >= 0.35)
        out.append(("client_credentials ES256 ≥ 20,000 req/s or ≥ 35% of nginx static",
                    f"{es['rps']:,.0f} req/s (c={es['conns']})"
                    + (f"; {100 * q:.0f}% of nginx {nginx['rps']:,.0f}" if q else ""), verdict(ok)))
    else:
        out.append(("client_credentials ES256 ≥ 20,000 req/s or ≥ 35% of nginx static",
                    "not measured", verdict(None)))
    ratio_line("JWKS GET ≥ 60% of nginx static", "JWKS GET", nginx, "nginx req/s", 0.60)
    ratio_line("metadata GET ≥ 60% of nginx static", "metadata GET", nginx, "nginx req/s", 0.60)
    ratio_line("JWT introspection (ES256) ≥ 40% of nginx static", "introspection ES256", nginx,
               "nginx req/s", 0.40)
    r16 = at(runs, "client_credentials ES256", 16, sq)
    out.append(("p99 at 16 connections ≤ 5 ms, client_credentials ES256",
                f"{r16['p99_ms']:.2f} ms (p50 {r16['p50_ms']:.2f} ms)" if r16 else "not measured",
                verdict(r16["p99_ms"] <= 5.0 if r16 else None)))
    mem = f.get("memory")
    if mem:
        out.append(("RSS idle ≤ 40 MiB", f"{mem['idle_kib'] / 1024:.1f} MiB",
                    verdict(mem["idle_kib"] <= 40 * 1024)))
        worst = max(mem["conn1000_idle_kib"], mem["conn1000_used_kib"])
        out.append(("RSS ≤ 150 MiB with 1,000 connections open",
                    f"{worst / 1024:.1f} MiB ({mem['conn1000_answered']}/1000 answered a request)",
                    verdict(worst <= 150 * 1024)))
    st = f.get("startup", {})
    if st:
        for key, what in (("warm_ms", "existing store"),
                          ("fresh_ms", "empty store: migrations and the first key pair")):
            worst = max(v[key] for v in st.values())
            out.append((f"start-up to ready ≤ 200 ms on SQLite, {what}",
                        ", ".join(f"{a} {v[key]:.0f} ms" for a, v in st.items()),
                        verdict(worst <= 200)))
    rr = best(runs, "refresh rotation (sqlite)")
    out.append(("refresh rotation ≥ 2,000/s on SQLite",
                f"{rr['rps']:,.0f}/s (c={rr['conns']})" if rr else
                "not measured" + (f": {res['pending'].get('refresh rotation (sqlite)')}"
                                  if res["pending"].get("refresh rotation (sqlite)") else ""),
                verdict(rr["rps"] >= 2000 if rr else None)))
    return out


def other_ratios(res: dict) -> list[str]:
    runs, f = res["runs"], res["facts"]
    ossl = f.get("openssl", {})
    sq = "portcullis-sqlite"
    lines = []
    one = f.get("openssl_1proc", {})
    for alg, key, name in (("RS256", "rsa2048_sign", "RSA-2048"), ("ES256", "p256_sign", "P-256"),
                           ("EdDSA", "ed25519_sign", "Ed25519")):
        r = best(runs, f"client_credentials {alg}", sq)
        if r and r["req_per_cpu_s"] and one.get(key):
            lines.append(f"client_credentials {alg} per server CPU-second: "
                         f"{r['req_per_cpu_s']:,.0f} req/CPU-s (c={r['conns']}) = "
                         f"{100 * r['req_per_cpu_s'] / one[key]:.0f}% of openssl {name} sign/s in "
                         f"one process ({one[key]:,.0f}/s): the share of a token's cost that is "
                         "the signature")
        for c in (16, 64):
            r = at(runs, f"client_credentials {alg}", c, sq)
            peer = at(runs, "peer client_credentials", c)
            if r and ossl.get(key) and peer and r["req_per_cpu_s"] and peer["req_per_cpu_s"]:
                lines.append(f"client_credentials {alg} vs the peer per server CPU-second, c={c}: "
                             f"{r['req_per_cpu_s']:,.0f} vs {peer['req_per_cpu_s']:,.0f} req/CPU-s "
                             f"= {r['req_per_cpu_s'] / peer['req_per_cpu_s']:.1f}×")
            if r and ossl.get(key):
                s = (f"client_credentials {alg}, c={c}: {r['rps']:,.0f} req/s = "
                     f"{100 * r['rps'] / ossl[key]:.0f}% of openssl {name} sign "
                     f"({ossl[key]:,.0f}/s)")
                if peer:
                    s += f", {r['rps'] / peer['rps']:.1f}× the peer ({peer['rps']:,.0f} req/s)"
                lines.append(s)
    nginx = best(runs, "nginx static JSON")
    if nginx:
        for op in ("JWKS GET", "metadata GET", "introspection RS256", "introspection ES256",
                   "introspection EdDSA"):
            for c in (16, 64):
                r, n = at(runs, op, c, sq), at(runs, "nginx static JSON", c)
                if r and n:
                    line = (f"{op}, c={c}: {r['rps']:,.0f} req/s = {100 * r['rps'] / n['rps']:.0f}% "
                            f"of nginx at c={c} ({n['rps']:,.0f})")
                    if r["req_per_cpu_s"] and n["req_per_cpu_s"]:
                        line += (f"; per server CPU-second {r['req_per_cpu_s']:,.0f} vs "
                                 f"{n['req_per_cpu_s']:,.0f} = "
                                 f"{100 * r['req_per_cpu_s'] / n['req_per_cpu_s']:.0f}%")
                    lines.append(line)
    u, w16 = at(runs, "unknown client", 16, sq), at(runs, "wrong secret", 16, sq)
    if u and w16 and u["req_per_cpu_s"] and w16["req_per_cpu_s"]:
        lines.append(f"unknown client vs wrong secret, c=16: server CPU per request "
                     f"{1e6 / u['req_per_cpu_s']:.0f} µs vs {1e6 / w16['req_per_cpu_s']:.0f} µs, "
                     f"p50 {u['p50_ms']:.2f} vs {w16['p50_ms']:.2f} ms")
    for c in (16, 64):
        w, g = at(runs, "wrong secret", c, sq), at(runs, "client_credentials ES256", c, sq)
        if w and g and w["req_per_cpu_s"] and g["req_per_cpu_s"]:
            lines.append(f"wrong secret vs success (ES256), c={c}: server CPU per request "
                         f"{1e6 / w['req_per_cpu_s']:.0f} µs vs {1e6 / g['req_per_cpu_s']:.0f} µs "
                         f"({g['req_per_cpu_s'] / w['req_per_cpu_s']:.2f}×), p50 {w['p50_ms']:.2f} "
                         f"vs {g['p50_ms']:.2f} ms, {w['rps']:,.0f} vs {g['rps']:,.0f} req/s")
    for alg in ALGS:
        for c in (16, 64):
            k, n = at(runs, f"client_credentials {alg}", c, sq), \
                at(runs, f"client_credentials {alg} new conn", c, sq)
            if k and n:
                lines.append(f"new connection per request, {alg}, c={c}: {n['rps']:,.0f} req/s "
                             f"= {100 * n['rps'] / k['rps']:.0f}% of keep-alive")
    pg, sl = best(runs, "refresh rotation (postgres)"), best(runs, "refresh rotation (sqlite)")
    if pg and sl:
        lines.append(f"refresh rotation: SQLite {sl['rps']:,.0f}/s (c={sl['conns']}), "
                     f"PostgreSQL {pg['rps']:,.0f}/s (c={pg['conns']})")
    lines += dpop_ratio_lines(runs)
    return lines


OP_ORDER = [
    "client_credentials RS256", "client_credentials ES256", "client_credentials EdDSA",
    "client_credentials RS256 new conn", "client_credentials ES256 new conn",
    "client_credentials EdDSA new conn", "wrong secret", "client_credentials ES256 (counted)",
    "unknown client",
    "authorization request, signed in (sqlite)", "authorization_code (sqlite)",
    "authorization request, signed in (postgres)", "authorization_code (postgres)",
    "refresh rotation (sqlite)",
    "refresh rotation (postgres)", "introspection RS256", "introspection ES256",
    "introspection EdDSA", "JWKS GET", "metadata GET",
    "client_credentials ES256 (pooled)", "client_credentials ES256 DPoP", "verify", "verify DPoP",
    "nginx static JSON", "peer client_credentials",
]

OP_TEXT = {
    "client_credentials ES256 (pooled)": "client_credentials, ES256 token, through wrk/dpop.lua "
        "without a proof: the plain counterpart of the DPoP run (same script, same number of "
        "requests, rate over the time the pool lasted)",
    "client_credentials ES256 DPoP": "the same with a DPoP header (ES256 proof made before the "
        "run, unique jti): a DPoP-bound ES256 token (cnf.jkt); each proof's jti is recorded in the "
        "store against replay",
    "verify": "GET /oauth2/verify as the nginx example calls it (X-Original-*, X-Service-Id), "
        "Bearer ES256 token, endpoint scope check; 204 expected",
    "verify DPoP": "the same with a DPoP-bound token (Authorization: DPoP) and a fresh proof "
        "per request (htm GET, htu from X-Forwarded-*, ath); each jti goes into the in-process "
        "replay cache",
    "client_credentials RS256": "POST /oauth2/token grant_type=client_credentials, Basic auth, "
                                "keep-alive; RS256 (RSA-2048) JWT",
    "client_credentials ES256": "the same, ES256 (P-256)",
    "client_credentials EdDSA": "the same, EdDSA (Ed25519)",
    "client_credentials RS256 new conn": "client_credentials RS256 with `Connection: close`: a new "
                                         "TCP connection per request",
    "client_credentials ES256 new conn": "the same, ES256",
    "client_credentials EdDSA new conn": "the same, EdDSA",
    "wrong secret": "client_credentials with a wrong secret for a known client (401 expected; "
                    "errors = anything else); ES256 server",
    "client_credentials ES256 (counted)": "the success path with the same per-response status "
                                          "counting as the wrong-secret run (like for like)",
    "unknown client": "client_credentials with an unknown client id (404 ERR12014 "
                      "CLIENT_NOT_FOUND expected, as light-oauth2 answers)",
    "authorization request, signed in (sqlite)": "GET /oauth2/code?response_type=code&... "
        "(PKCE S256) with a signed-in user's SSO cookie: a 302 with a new code each (the codes "
        "are kept for the redemption run)",
    "authorization request, signed in (postgres)": "the same on PostgreSQL",
    "authorization_code (sqlite)": "authorization_code redemption with PKCE (a code is spent "
                                   "once: rate over the time a pool of minted codes lasted)",
    "authorization_code (postgres)": "the same on PostgreSQL",
    "refresh rotation (sqlite)": "grant_type=refresh_token; each response's new refresh token "
                                 "is used next (one chain per connection); req/s = successful "
                                 "rotations/s",
    "refresh rotation (postgres)": "the same on PostgreSQL",
    "introspection RS256": "POST /oauth2/introspect token=<RS256 JWT>, client Basic auth",
    "introspection ES256": "the same, ES256 JWT",
    "introspection EdDSA": "the same, EdDSA JWT",
    "JWKS GET": "GET /oauth2/keys",
    "metadata GET": "GET /.well-known/oauth-authorization-server",
    "nginx static JSON": "reference: nginx (2 workers, keep-alive, access log off) serving a "
                         "static JSON file of the JWKS's size",
    "peer client_credentials": "reference: node-oidc-provider client_credentials, Basic auth, "
                               "keep-alive, RS256 JWT",
}


def write_report(res: dict, out: str) -> str:
    runs, f, m = res["runs"], res["facts"], res["machine"]
    L = []
    L.append("# Portcullis benchmarks\n")
    L.append(f"Measured {m['date']} by `bench/run.sh` "
             f"({'quick smoke run, ' if res['settings']['quick'] else ''}"
             f"{res['settings']['duration']} s per run, wrk on the same machine, loopback). "
             "Raw figures: `results.json`; plot: `plot.png`.\n")
    noisy = [r for r in runs if r.get("other_cpu_pct", 0) > 25]
    if noisy:
        L.append(f"**The machine was shared during this run**: in {len(noisy)} of {len(runs)} runs "
                 "other work (builds and tests on the same 2 cores) took more than 25% of a core "
                 "(the *other %* column), after waiting for a quiet moment and one retry. Those "
                 "rates are lower than on a quiet machine; req/CPU-s (server CPU from /proc) is "
                 "less affected, so the ratios also give it.\n")
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    L.append(f"| CPU | {m['cpu']}, {m['cores']} cores ({m['cpu_flags']}) |")
    L.append(f"| memory | {m['memory_gib']} GiB |")
    L.append(f"| OS, kernel | {m['os']}, Linux {m['kernel']} |")
    L.append(f"| Portcullis | `{m['portcullis']}`, commit {m['commit']}, release build |")
    L.append(f"| load generator | {m['wrk']} (-t1 at 1 connection, -t2 above), same 2 cores |")
    L.append(f"| references | {m['nginx']}; {m['openssl']}; node {m['node']} with oidc-provider "
             f"{m['oidc_provider']} |")
    L.append(f"| PostgreSQL | {m['postgres']} (scripts/pg.sh: local, fsync off) |")
    L.append("")
    L.append("## Targets\n")
    L.append("| target | measured (best concurrency) | |\n|---|---|---|")
    for name, meas, v in targets(res):
        L.append(f"| {name} | {meas} | {v} |")
    L.append("")
    L.append("Ratios take each side's best rate over the concurrencies run, both measured in "
             "this run.\n")
    L.append("## Ratios\n")
    for line in other_ratios(res):
        L.append(f"- {line}")
    L.append("")
    L.append("## References\n")
    ossl, one = f.get("openssl", {}), f.get("openssl_1proc", {})
    if ossl:
        L.append(f"`openssl speed -seconds {res['settings']['openssl_seconds']}` "
                 "(operations per second), with `-multi 2` (2 processes: the reference of the "
                 "targets) and in one process:\n")
        L.append("| | sign/s, 2 processes | verify/s, 2 processes | sign/s, 1 process | "
                 "verify/s, 1 process |\n|---|---:|---:|---:|---:|")
        for k, n in (("rsa2048", "RSA-2048"), ("p256", "ECDSA P-256"), ("ed25519", "Ed25519")):
            L.append(f"| {n} | {fmt_int(ossl.get(k + '_sign'))} | {fmt_int(ossl.get(k + '_verify'))} "
                     f"| {fmt_int(one.get(k + '_sign'))} | {fmt_int(one.get(k + '_verify'))} |")
        rounds = len(ossl.get("rounds", [])) or 1
        L.append(f"\nBest of {rounds} round(s) each (other work on the machine only lowers "
                 "them); every round is in results.json.\n")
        for k, n in (("rsa2048_sign", "RSA-2048"), ("p256_sign", "P-256"),
                     ("ed25519_sign", "Ed25519")):
            if one.get(k) and ossl.get(k) and ossl[k] < 1.3 * one[k]:
                L.append(f"**{n}: the 2-process rate is under 1.3× the 1-process rate, so other "
                         "work disturbed it; ratios to it overstate Portcullis.**\n")
    if f.get("jwks_bytes"):
        L.append(f"JWKS (ES256 server): {f['jwks_bytes']} bytes; nginx serves a "
                 f"{f.get('nginx_body_bytes', '?')}-byte JSON file. Metadata document: "
                 f"{f.get('metadata_bytes', '?')} bytes.\n")
    L.append("## Operations\n")
    L.append("req/CPU-s: requests per second of server CPU (utime+stime of the server process(es) "
             "from /proc over the run); CPU %: server CPU over wall time (200% = both cores); "
             "wrk %: the load generator's own CPU; other %: the rest of the machine's CPU use "
             "during the run (other processes on a shared machine). On PostgreSQL, db %: the "
             "database server's CPU (not in req/CPU-s). Latencies from wrk --latency.\n")
    ops = [o for o in OP_ORDER if any(r["op"] == o for r in runs)]
    ops += sorted({r["op"] for r in runs} - set(ops))
    for op in ops:
        rs = [r for r in runs if r["op"] == op]
        for tgt in sorted({r["target"] for r in rs}):
            L.append(f"### {op} — {tgt}\n")
            if OP_TEXT.get(op):
                L.append(OP_TEXT[op] + ".\n")
            db = "postgres" in tgt
            L.append("| conns | req/s | req/CPU-s | CPU % | " + ("db % | " if db else "")
                     + "wrk % | other % | p50 ms | p99 ms | max ms | errors |\n"
                     + "|---:" * (10 + db) + "|")
            for r in sorted((r for r in rs if r["target"] == tgt), key=lambda r: r["conns"]):
                L.append(f"| {r['conns']} | {r['rps']:,.0f} | {fmt_int(r['req_per_cpu_s'])} | "
                         f"{r['server_cpu_pct']:.0f} | "
                         + (f"{r.get('db_cpu_pct') or 0:.0f} | " if db else "")
                         + f"{r['client_cpu_pct']:.0f} | "
                         f"{r.get('other_cpu_pct', 0):.0f} | "
                         f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | "
                         f"{r['errors']} |")
            L.append("")
    if res["pending"]:
        L.append("## Pending (not measured)\n")
        for k, v in res["pending"].items():
            L.append(f"- **{k}**: {v}")
        L.append("")
    L.append("## Memory and start-up\n")
    mem = f.get("memory")
    if mem:
        L.append("| Portcullis (SQLite, ES256) | RSS |\n|---|---:|")
        L.append(f"| idle after start | {mem['idle_kib'] / 1024:.1f} MiB |")
        L.append(f"| 1,000 connections open, idle | {mem['conn1000_idle_kib'] / 1024:.1f} MiB |")
        L.append(f"| 1,000 connections after one request each ({mem['conn1000_answered']} answered; "
                 f"server counted {fmt_int(mem.get('conn1000_server_count'))} open) | "
                 f"{mem['conn1000_used_kib'] / 1024:.1f} MiB |")
        L.append(f"| after they closed | {mem['after_close_kib'] / 1024:.1f} MiB |")
        L.append("")
    sm = f.get("server_memory", {})
    if sm:
        L.append("| server under load | RSS idle | RSS after | peak (VmHWM) |\n|---|---:|---:|---:|")
        for k, v in sm.items():
            L.append(f"| {k} | {mib(v.get('idle_kib'))} | {mib(v.get('after_kib'))} | "
                     f"{mib(v.get('hwm_kib'))} |")
        if f.get("peer_rss_idle_kib"):
            L.append(f"| peer (oidc-provider) | {mib(f['peer_rss_idle_kib'])} | – | "
                     f"{mib(f.get('peer_rss_peak_kib'))} |")
        L.append("")
    st = f.get("startup")
    if st:
        L.append("Start-up to ready: wall time from exec to the first 200 on `GET /ready`, "
                 "median of 3, SQLite.\n")
        L.append("| algorithm | empty store (migrations, first key pair) | existing store | "
                 "server log `startup_ms` (existing) |\n|---|---:|---:|---:|")
        for alg, s in st.items():
            logged = "–" if s["logged_warm_ms"] is None else f"{s['logged_warm_ms']:.0f} ms"
            L.append(f"| {alg} | {s['fresh_ms']:.0f} ms | {s['warm_ms']:.0f} ms | {logged} |")
        if f.get("startup_pg_ms"):
            L.append(f"\nPostgreSQL (existing store): {f['startup_pg_ms']:.0f} ms.")
        L.append("")
    if res["notes"]:
        L.append("## Notes\n")
        for n in res["notes"]:
            L.append(f"- {n}")
        L.append("")
    text = "\n".join(L) + "\n"
    with open(os.path.join(out, "RESULTS.md"), "w") as fh:
        fh.write(text)
    return text


def mib(kib) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f} MiB"


def plot(res: dict, out: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot (apt-get install python3-matplotlib)")
        return
    runs = res["runs"]
    sq, pg = "portcullis-sqlite", "portcullis-postgres"
    C = {"RS256": "tab:blue", "ES256": "tab:green", "EdDSA": "tab:red"}
    # (op, target, label, color, style)
    panels = [
        ("Token endpoint: client_credentials", [
            *[(f"client_credentials {a}", sq, f"{a} keep-alive", C[a], "-") for a in ALGS],
            *[(f"client_credentials {a} new conn", sq, f"{a} new connection per request", C[a],
               "--") for a in ALGS],
            ("wrong secret", sq, "wrong secret (401)", "tab:gray", "-."),
        ]),
        ("Reads", [
            ("JWKS GET", sq, "JWKS GET", "tab:purple", "-"),
            ("metadata GET", sq, "metadata GET", "tab:orange", "-"),
            *[(f"introspection {a}", sq, f"introspection, {a} JWT", C[a], "-") for a in ALGS],
        ]),
        ("Store writes (ES256), SQLite solid, PostgreSQL dashed", [
            ("refresh rotation (sqlite)", sq, "refresh rotation, SQLite", "tab:blue", "-"),
            ("refresh rotation (postgres)", pg, "refresh rotation, PostgreSQL", "tab:blue", "--"),
            ("authorization_code (sqlite)", sq, "code redemption, SQLite", "tab:green", "-"),
            ("authorization_code (postgres)", pg, "code redemption, PostgreSQL", "tab:green",
             "--"),
            ("authorization request, signed in (sqlite)", sq, "code issue (SSO), SQLite",
             "tab:olive", "-"),
            ("authorization request, signed in (postgres)", pg, "code issue (SSO), PostgreSQL",
             "tab:olive", "--"),
            ("client_credentials ES256", pg, "client_credentials ES256, PostgreSQL", "tab:cyan",
             "--"),
        ]),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(19, 8))
    conns = sorted({r["conns"] for r in runs}) or [1]
    ossl = res["facts"].get("openssl", {})
    for ax, (title, series) in zip(axes, panels):
        for op, tgt, label, color, style in series:
            rs = sorted((r for r in runs if r["op"] == op and r["target"] == tgt),
                        key=lambda r: r["conns"])
            if rs:
                ax.plot([r["conns"] for r in rs], [r["rps"] for r in rs], marker="o",
                        color=color, linestyle=style, label=label)
        for ref_op, color, lab in (("nginx static JSON", "black", "nginx, static JSON (reference)"),
                                   ("peer client_credentials", "tab:brown",
                                    "oidc-provider client_credentials (peer)")):
            if title.startswith("Store") and ref_op.startswith("nginx"):
                continue
            rs = sorted((r for r in runs if r["op"] == ref_op), key=lambda r: r["conns"])
            if rs:
                ax.plot([r["conns"] for r in rs], [r["rps"] for r in rs], color=color,
                        linestyle=":", marker="s", linewidth=2, label=lab)
        if title.startswith("Token"):
            for key, a, name in (("rsa2048_sign", "RS256", "RSA-2048"),
                                 ("p256_sign", "ES256", "P-256"),
                                 ("ed25519_sign", "EdDSA", "Ed25519")):
                if ossl.get(key):
                    ax.axhline(ossl[key], color=C[a], linewidth=0.8, linestyle=(0, (1, 3)),
                               label=f"openssl {name} sign/s, 2 processes")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(conns)
        ax.set_xticklabels([str(c) for c in conns])
        ax.set_xlabel("connections")
        ax.set_ylabel("requests / s")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
                      frameon=False)
    m = res["machine"]
    fig.suptitle(f"{m.get('portcullis', 'Portcullis')} on {m['cores']} cores ({m['cpu']}), wrk on "
                 f"the same machine, loopback, {res['settings']['duration']} s per run, "
                 f"{m['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "plot.png"), dpi=100)
    plt.close(fig)


def summary(res: dict) -> str:
    lines = ["", "== Portcullis benchmark summary =="]
    for name, meas, v in targets(res):
        lines.append(f"{v.replace('*', ''):5s} {name}: {meas}")
    lines += ["", *other_ratios(res)]
    if res["pending"]:
        lines += ["", "pending: " + "; ".join(f"{k}: {v}" for k, v in res["pending"].items())]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------

def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        with open(os.path.join(sys.argv[2], "results.json")) as f:
            res = json.load(f)
        if res["settings"].get("baseline_label"):
            write_compare(res, sys.argv[2])
            print(compare_summary(res))
            return 0
        write_report(res, sys.argv[2])
        plot(res, sys.argv[2])
        print(summary(res))
        return 0
    s = Settings()
    if not os.access(s.binary, os.X_OK):
        sys.exit(f"bench: {s.binary} not found: build the release first (bench/run.sh does)")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, resource.getrlimit(
        resource.RLIMIT_NOFILE)[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    tmp = tempfile.mkdtemp(prefix="portcullis-bench-")
    REG.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    os.makedirs(s.out, exist_ok=True)
    # Run a private copy: other builds may replace build/release/portcullis during the run.
    s.built_binary = s.binary
    s.binary = os.path.join(tmp, "portcullis")
    shutil.copy2(s.built_binary, s.binary)
    base = os.environ.get("BENCH_BASELINE_BINARY")
    if base:
        s.baseline_binary = os.path.join(tmp, "portcullis-baseline")
        shutil.copy2(base, s.baseline_binary)
    b = Bench(s, tmp)
    log(f"results to {s.out}; runs of {s.duration} s at {s.conns} connections; temp {tmp}")
    t_start = time.monotonic()
    try:
        if base:
            log(f"before/after: baseline {os.environ.get('BENCH_BASELINE_LABEL', base)} "
                f"against {s.built_binary}")
            compare(b, s.baseline_binary)
        if s.wants("startup") and not base:
            measure_startup(b)
        if s.wants("refs") and not base:
            openssl_speed(b)
            if "jwks_bytes" not in b.facts:
                d = os.path.join(tmp, "jwks-size")
                os.makedirs(d)
                srv = Server(b, "jwks-size", "ES256", f"sqlite:{d}/portcullis.db").start()
                b.facts["jwks_bytes"] = len(request(srv.port, "GET", "/oauth2/keys")[2])
                srv.stop()
            nginx_reference(b, b.facts["jwks_bytes"])
            peer_reference(b)
        if s.wants("memory") and not base:
            measure_memory(b)
        if s.wants("cc") and not base:
            for alg in ALGS:
                run_cc(b, alg)
        if s.wants("dpop") and not base:
            run_dpop(b)
        if s.wants("store") and not base:
            d = os.path.join(tmp, "store-sqlite")
            os.makedirs(d)
            run_store(b, "sqlite", f"sqlite:{d}/portcullis.db")
        if s.wants("pg") and not base:
            pgdir = tempfile.mkdtemp(prefix="portcullis-bench-pg-")  # pg.sh hands it over
            p = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", pgdir],
                               capture_output=True, text=True, timeout=180)
            if p.returncode != 0:
                b.pending["PostgreSQL"] = f"scripts/pg.sh start failed: {p.stderr.strip()[-300:]}"
            else:
                REG.cleanups.append(lambda: subprocess.run(
                    [os.path.join(ROOT, "scripts", "pg.sh"), "clean", pgdir],
                    capture_output=True, timeout=120))
                url = p.stdout.strip().splitlines()[-1]
                try:
                    with open(os.path.join(pgdir, "data", "postmaster.pid")) as f:
                        b.db_pids = [int(f.readline())]
                except (OSError, ValueError):
                    pass
                # Start-up on PostgreSQL with an existing schema, for the record.
                srv = Server(b, "pg-startup", "ES256", url).start()
                srv.stop()
                srv = Server(b, "pg-startup2", "ES256", url).start()
                b.facts["startup_pg_ms"] = srv.ready_ms
                srv.stop()
                run_store(b, "postgres", url)
    except Exception as e:  # noqa: BLE001 - report what was measured
        import traceback
        traceback.print_exc()
        b.notes.append(f"run stopped early: {type(e).__name__}: {e}")
    finally:
        REG.stop_all()
    if b.noisy:
        b.notes.append(f"{b.noisy} run(s) kept although other work on the machine took more than "
                       f"{s.noise_limit:.0f}% of a core during them (after up to {s.retries} "
                       "retries for repeatable runs): see the other % column")
    res = {"settings": {"quick": s.quick, "duration": s.duration, "conns": s.conns,
                        "openssl_seconds": s.openssl_seconds,
                        "baseline_label": os.environ.get("BENCH_BASELINE_LABEL") if base else None},
           "machine": machine(s.built_binary), "facts": {k: v for k, v in b.facts.items() if k != "master_key"},
           "runs": b.runs, "pending": b.pending, "notes": b.notes,
           "elapsed_s": round(time.monotonic() - t_start)}
    with open(os.path.join(s.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    if base:
        write_compare(res, s.out)
        print(compare_summary(res))
        log(f"wrote {s.out}/COMPARE.md, results.json in {res['elapsed_s']} s")
        return 0
    write_report(res, s.out)
    plot(res, s.out)
    print(summary(res))
    log(f"wrote {s.out}/RESULTS.md, plot.png, results.json in {res['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
