"""Black-box fixtures: start the real `portcullis` binary on port 0 and talk to it over HTTP.

PORTCULLIS_BIN names the binary (CTest sets it). PORTCULLIS_TEST_PG_URL, when set, is a
PostgreSQL server the tests may use; each test that needs one gets its own database.

PORTCULLIS_TEST_REQUIRE=all (scripts/test.sh sets it), or a comma list of pg, nginx, chromium,
example, cluster: a test that would skip for lack of that part of the environment fails instead,
so a broken test machine cannot pass the suite by skipping.
"""
import os
import socket
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

BIN = os.environ.get("PORTCULLIS_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/portcullis"))
PG_URL = os.environ.get("PORTCULLIS_TEST_PG_URL", "")


def required(what):
    """Whether PORTCULLIS_TEST_REQUIRE asks for `what` (pg, nginx, chromium, example, cluster)."""
    wanted = {w.strip() for w in os.environ.get("PORTCULLIS_TEST_REQUIRE", "").split(",")}
    return "all" in wanted or what in wanted


def skip_unless_available(what, reason):
    """Skips for lack of part of the environment, or fails when the run requires it."""
    if required(what):
        pytest.fail(f"{reason} (PORTCULLIS_TEST_REQUIRE asks for {what})", pytrace=False)
    pytest.skip(reason)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class NginxProcess:
    """A test-owned nginx on loopback, in its own prefix `self.tmp`, listening on `self.port`.
    Subclasses set both, write their site configuration and call start_nginx()."""

    tmp: str
    port: int

    def start_nginx(self, site_conf, deadline_s=30):
        """Serves `site_conf` (a file of http-block directives) and waits until the port
        accepts connections."""
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        t = self.tmp
        conf = os.path.join(t, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""{user}worker_processes 1;
pid {t}/nginx.pid;
error_log {t}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {t}/access.log;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    include {site_conf};
}}
""")
        self.log = open(os.path.join(t, "stderr.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-e", os.path.join(t, "error.log"), "-p", t,
                                      "-c", conf, "-g", "daemon off;"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited:\n" + self.logs())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop_nginx()
        raise RuntimeError("nginx did not start:\n" + self.logs())

    def logs(self):
        out = []
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.tmp, name)) as f:
                    out.append(f.read())
            except FileNotFoundError:
                pass
        return "\n".join(out)

    def stop_nginx(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def poll(check, what, deadline_s=30.0, interval_s=0.05):
    """Calls check() until it returns a truthy value, which it returns; fails after deadline_s.
    Tests wait for conditions with this, never for a fixed time."""
    end = time.monotonic() + deadline_s
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s} s waiting for {what}; "
                                 f"last: {last!r}")
        time.sleep(interval_s)


class Portcullis:
    """One running server process."""

    def __init__(self, args=(), env=None, store=None, tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="portcullis-test-")
        self.port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "server.log")
        # A port file left by an earlier server in the same directory would be read as ours.
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        store = store or "sqlite:" + os.path.join(self.tmp, "portcullis.db")
        cmd = [BIN, "serve", "--listen", "127.0.0.1:0", "--port-file", self.port_file,
               "--store", store, *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
        full_env.setdefault("PORTCULLIS_KEYS_MASTER_KEY", "0" * 64)
        full_env.update(env or {})
        if "LD_PRELOAD" in (env or {}):
            # A preloaded library (libfaketime) comes before the sanitizer runtime of an asan
            # build, which refuses to start unless told that this order is intended.
            full_env["ASAN_OPTIONS"] = (full_env.get("ASAN_OPTIONS", "") +
                                        ":verify_asan_link_order=0").lstrip(":")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("portcullis exited early:\n" + self.read_log())
            try:
                with open(self.port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("portcullis did not start:\n" + self.read_log())
        self.url = f"http://127.0.0.1:{self.port}"

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=10):
        if self.proc.poll() is None and not self.log.closed:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=10, **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path, timeout=10, **kw)


@pytest.fixture
def server():
    s = Portcullis()
    yield s
    code = s.stop()
    assert code == 0, s.read_log()


@pytest.fixture
def start():
    """Factory for servers with custom arguments; all are stopped at the end of the test."""
    started = []

    def _start(*args, **kw):
        s = Portcullis(args=args, **kw)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.stop()


def new_pg_database():
    """A fresh, empty database on the test PostgreSQL server; returns its URL."""
    import urllib.parse
    if not PG_URL:
        skip_unless_available("pg", "PORTCULLIS_TEST_PG_URL is not set")
    name = "t_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG_URL, "-qc", f"CREATE DATABASE {name}"], check=True,
                   stdout=subprocess.DEVNULL)
    parts = urllib.parse.urlsplit(PG_URL)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def run_cli(*args, env=None, timeout=30):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    full_env.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)
