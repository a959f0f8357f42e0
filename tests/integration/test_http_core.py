"""The HTTP core, configuration and observability, tried from outside as a user would."""
import os
import resource
import signal
import socket
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN, Portcullis, new_pg_database, poll, run_cli


def raw(port, data, read_timeout=5):
    """Sends raw bytes and returns whatever comes back before the server closes or times out."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            pass
        return b"".join(chunks)


def status_of(response_bytes):
    return int(response_bytes.split(b" ", 2)[1])


def test_health_ready_and_server_info(server):
    r = server.get("/health")
    assert r.status_code == 200 and r.text == "OK"
    assert server.get("/health/com.networknt.oauth2-token-1.0.0").text == "OK"
    assert server.get("/health/com.networknt.unknown").status_code == 404
    assert server.get("/ready").status_code == 200
    info = server.get("/server/info").json()
    assert info["name"] == "portcullis" and "token" in info["services"]


def test_metrics_parse_as_prometheus_text(server):
    server.get("/health")
    server.get("/nope")
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    assert "portcullis_build_info" in families
    assert "portcullis_http_requests" in families  # counters lose the _total suffix
    assert "portcullis_http_request_duration_seconds" in families
    assert "portcullis_http_requests_in_flight" in families
    samples = families["portcullis_http_requests"].samples
    assert any(s.labels.get("route") == "/health" and s.labels["status"] == "200" for s in samples)
    assert any(s.labels.get("route") == "unmatched" and s.labels["status"] == "404" for s in samples)


def test_unknown_path_and_wrong_method_use_the_error_format(server):
    r = server.get("/oauth2/nothing-here")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "ERR10007" and body["statusCode"] == 404
    assert body["error"] and body["error_description"] and body["severity"] == "ERROR"
    r = server.post("/health")
    assert r.status_code == 405
    assert r.json()["code"] == "ERR10008"
    assert "GET" in r.headers["Allow"]


def test_header_over_the_limit_gets_431(server):
    big = b"X-Big: " + b"a" * 9000 + b"\r\n"
    resp = raw(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert status_of(resp) == 431
    assert server.get("/health").status_code == 200


def test_body_over_the_limit_gets_413(server):
    r = server.post("/oauth2/token", data=b"a" * (65 * 1024),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.json()["error"] == "invalid_request"
    # Chunked bodies are counted too.
    body = b"10000\r\n" + b"a" * 0x10000 + b"\r\n1\r\na\r\n0\r\n\r\n"
    resp = raw(server.port, b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert status_of(resp) == 413


@pytest.mark.parametrize("line", [
    b"GARBAGE\r\n\r\n",
    b"GET /health HTTP/9.9\r\n\r\n",
    b"GET\x00 / HTTP/1.1\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost x\r\n\r\n",
    b"POST /oauth2/token HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /oauth2/token HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
])
def test_malformed_requests_get_400(server, line):
    resp = raw(server.port, line)
    assert status_of(resp) == 400, resp
    assert server.get("/health").status_code == 200


def test_slow_client_is_cut_off(start):
    s = start("--set", "server.read_timeout_ms=500")
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
        c.sendall(b"GET /health HTTP/1.1\r\n")
        for _ in range(20):  # one header byte every 100 ms (a slow client), until cut off
            try:
                c.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
        # The server closes the connection: EOF or a reset. A 30 s wait that times out means it
        # never did (no wall-clock bound on how fast: a loaded machine is slow, not broken).
        c.settimeout(30)
        try:
            data = c.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b""
    assert s.get("/health").status_code == 200


def test_thousands_of_idle_connections_do_not_exhaust_the_server(start):
    # All from one address: lift the per-address cap (test_hostile_http covers it).
    s = start("--set", "server.idle_timeout_ms=60000", "--set", "server.max_connections_per_ip=5000")
    # This process holds the 3000 client ends: lift its own descriptor limit (often 1024).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 3000 + 1024
    assert hard == resource.RLIM_INFINITY or hard >= want, f"RLIMIT_NOFILE hard limit {hard}"
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks = []
    try:
        for _ in range(3000):
            socks.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        for c in socks[:3000:100]:
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        r = s.get("/health")
        assert r.status_code == 200
        for c in socks[:3000:100]:
            assert c.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        for c in socks:
            c.close()


def test_connection_cap_refuses_excess_but_keeps_serving(start):
    s = start("--set", "server.max_connections=50")
    socks = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(60)]

    def refused():
        # Until the server has accepted the 60 above, one more may still get in: try again.
        extra = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        socks.append(extra)
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            return extra.recv(100) == b""
        except ConnectionResetError:
            return True

    poll(refused, "a connection beyond the cap to be closed")
    for c in socks:
        c.close()

    def serves():
        try:
            return s.get("/health").status_code == 200
        except requests.ConnectionError:
            return False  # the closed connections are not all counted out yet

    poll(serves, "the server to serve again once connections are closed")


def test_graceful_stop_finishes_fast_with_idle_keepalive_open(start):
    # A grace period far longer than the wait below: an idle keep-alive connection that held
    # the shutdown until the grace ran out would fail the wait, with no wall-clock assertion.
    s = start("--set", "server.shutdown_grace_ms=600000")
    keep = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    keep.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert keep.recv(1024).startswith(b"HTTP/1.1 200")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=60) == 0
    log = s.read_log()
    assert "server.stopped" in log and "shutdown.forced" not in log


def test_keep_alive_serves_many_requests_on_one_connection(server):
    import requests
    with requests.Session() as session:
        for _ in range(50):
            assert session.get(server.url + "/health").status_code == 200


def test_services_flag_limits_routes(start):
    s = start("--services", "token")
    assert s.get("/health").status_code == 200
    assert s.get("/health/com.networknt.oauth2-token-1.0.0").status_code == 200
    assert s.get("/health/com.networknt.oauth2-client-1.0.0").status_code == 404
    info = s.get("/server/info").json()
    assert info["services"] == ["token"]


def test_access_log_is_structured_and_json_when_asked(start):
    s = start("--set", "log.format=json")
    s.get("/health")
    s.stop()
    import json
    lines = [json.loads(l) for l in s.read_log().splitlines() if l.startswith("{")]
    assert any(l.get("event") == "http.request" and l.get("route") == "/health" for l in lines)
    assert any(l.get("event") == "server.ready" for l in lines)


# --- bad configuration: one clear line, non-zero exit, no stack trace ---

def assert_one_line_failure(result, *needles):
    assert result.returncode != 0
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    assert "terminate" not in result.stderr and "Traceback" not in result.stderr


def test_unknown_config_key_is_named(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("server:\n  listen: 127.0.0.1:0\n  lisen: x\n")
    r = run_cli("serve", "--config", str(cfg), "--store", f"sqlite:{tmp_path}/db")
    assert_one_line_failure(r, "server.lisen")


def test_bad_config_value_is_named(tmp_path):
    r = run_cli("serve", "--store", f"sqlite:{tmp_path}/db",
                env={"PORTCULLIS_SERVER_MAX_CONNECTIONS": "many"})
    assert_one_line_failure(r, "server.max_connections", "PORTCULLIS_SERVER_MAX_CONNECTIONS")
    r = run_cli("serve", "--listen", "nonsense")
    assert_one_line_failure(r, "server.listen")


def test_unreachable_postgres_is_reported(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_cli("serve", "--listen", "127.0.0.1:0",
                "--store", f"postgres://nobody@127.0.0.1:{port}/none?connect_timeout=2")
    assert_one_line_failure(r, "store")


def test_restart_on_the_same_port_right_after_a_stop(start, tmp_path):
    # Connections the server closed at shutdown stay in TIME_WAIT on its port for a minute; a
    # restart must still bind it at once (a live listener is still refused: the test below).
    s = start()
    keep = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    keep.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert keep.recv(1024).startswith(b"HTTP/1.1 200")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=60) == 0
    assert keep.recv(1024) == b""  # the server closed first, so the TIME_WAIT is on its port
    keep.close()
    port_file = tmp_path / "port"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_KEYS_MASTER_KEY"] = "0" * 64
    again = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{s.port}", "--port-file",
                              str(port_file), "--store", f"sqlite:{tmp_path}/db"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        poll(lambda: again.poll() is not None or (port_file.exists() and port_file.read_text()),
             "the restarted server to listen or exit", deadline_s=20)
        assert again.poll() is None, again.stderr.read().decode()
        assert requests.get(f"http://127.0.0.1:{s.port}/health", timeout=5).status_code == 200
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=60)


def test_address_in_use_is_reported(server, tmp_path):
    r = run_cli("serve", "--listen", f"127.0.0.1:{server.port}",
                "--store", f"sqlite:{tmp_path}/db")
    assert_one_line_failure(r, "server.listen", "in use")


def test_migrate_and_version_commands(tmp_path):
    r = run_cli("migrate", "--store", f"sqlite:{tmp_path}/m.db")
    assert r.returncode == 0, r.stderr
    r2 = run_cli("migrate", "--store", f"sqlite:{tmp_path}/m.db")
    assert r2.returncode == 0 and "applied 0" in r2.stdout
    v = run_cli("version")
    assert v.returncode == 0 and v.stdout.startswith("portcullis ")


def test_sample_config_is_committed_and_current():
    here = os.path.dirname(__file__)
    committed = open(os.path.join(here, "../../config/portcullis.sample.yaml")).read()
    assert run_cli("config", "sample").stdout == committed


def test_serves_on_postgres():
    url = new_pg_database()
    s = Portcullis(store=url)
    try:
        assert s.get("/ready").status_code == 200
        assert s.get("/health").status_code == 200
    finally:
        assert s.stop() == 0


def test_readme_configuration_reference_is_current():
    here = os.path.dirname(__file__)
    readme = open(os.path.join(here, "../../README.md")).read()
    section = readme.split("<!-- config-reference:begin -->\n", 1)[1].split(
        "\n<!-- config-reference:end -->", 1)[0]
    assert section == run_cli("config", "reference").stdout.rstrip("\n"), \
        "README is stale: run scripts/update-docs.sh"


def test_tls_from_pem_files(start, tmp_path):
    import subprocess
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    s = start("--set", f"server.tls_cert={cert}", "--set", f"server.tls_key={key}")
    import requests
    r = requests.get(f"https://127.0.0.1:{s.port}/health", verify=str(cert), timeout=10)
    assert r.status_code == 200 and r.text == "OK"
    info = requests.get(f"https://127.0.0.1:{s.port}/server/info", verify=str(cert), timeout=10).json()
    assert info["issuer"].startswith("https://")
    # Plain HTTP on the TLS port is not served.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{s.port}/health", timeout=5)


def test_tls_with_unreadable_files_is_a_clear_startup_error(tmp_path):
    r = run_cli("serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{tmp_path}/db",
                "--set", f"server.tls_cert={tmp_path}/missing.pem",
                "--set", f"server.tls_key={tmp_path}/missing.key")
    assert_one_line_failure(r, "server.tls_cert")
