"""No server-side request forgery through federation ("Trust II"): GET /oauth2/key/{kid} with
another provider's prefix makes Portcullis fetch from that provider's key service. The kid must
never steer that request, a flood of kids must not grow memory or hammer the peer, and https://
providers are reached over verified TLS. The providers here are fake key services on loopback
that record what they are asked."""
import concurrent.futures
import datetime
import http.server
import ipaddress
import os
import ssl
import tempfile
import threading
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def certificate(subject, issuer_name=None, issuer_key=None, ca=False, ip=None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                            critical=False)
    cert = b.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class FakeKeyService:
    """A provider's key service: records every request path; answers `certs[kid]` as PEM, or
    404. With `tls` (cert, key), it speaks https. With `gate`, requests wait for it."""

    def __init__(self, certs=None, tls=None, gate=None):
        self.paths = []
        self.running = self.max_running = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.paths.append(self.path)
                    outer.running += 1
                    outer.max_running = max(outer.max_running, outer.running)
                try:
                    if gate is not None:
                        gate.wait(timeout=30)
                    prefix = "/oauth2/key/00"
                    body = (certs or {}).get(self.path[len(prefix):]) \
                        if self.path.startswith(prefix) else None
                    data = (body or '{"code":"ERR12017"}').encode()
                    self.send_response(200 if body else 404)
                    self.send_header("Content-Type", "application/text")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with outer.lock:
                        outer.running -= 1

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests_for(self, kid_rest):
        with self.lock:
            return sum(1 for p in self.paths if p == "/oauth2/key/00" + kid_rest)

    def total(self):
        with self.lock:
            return len(self.paths)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(cond, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Deployment:
    def __init__(self, *settings):
        # The fake key services speak plain http on loopback (except the TLS test's).
        args = ["--set", "federation.allow_http_loopback=true"]
        for s in settings:
            args += ["--set", s]
        self.s = Portcullis(args=args, env=ENV)
        self.o = OAuthServer(self.s)
        self.client = self.o.create_client("confidential", scope="petstore.r")

    def provider(self, provider_id, url):
        r = self.o.admin("POST", "/oauth2/provider", json={
            "providerId": provider_id, "serverUrl": url, "uri": "/oauth2/key",
            "providerName": "peer " + provider_id})
        assert r.status_code == 200, r.text

    def key(self, raw_kid):
        """GET /oauth2/key/<raw_kid>, the kid sent exactly as written (already encoded)."""
        return requests.get(f"{self.s.url}/oauth2/key/{raw_kid}",
                            headers={"Authorization": basic(*self.client)}, timeout=20)

    def stop(self):
        assert self.s.stop() == 0


def test_federation_refuses_kid_with_path_characters():
    cert, _ = certificate("key 05100")
    peer = FakeKeyService(certs={"100": pem(cert)})
    d = Deployment()
    try:
        d.provider("05", peer.url)
        for raw in ("05%2F..%2F..%2Finternal%2Fadmin%3Fdelete%3D1",  # the reproduction
                    "05%2F..%2Finternal", "0512%3Fx%3D1", "0512%23frag", "05ab.cd", "05ab-cd",
                    "05ab_cd", "05%2E%2E", "05ab%00", "05ab%20cd", "05%C3%A9tude",
                    "05" + "a" * 63):  # 65 characters
            r = d.key(raw)
            assert r.status_code == 400, (raw, r.status_code, r.text)
            body = r.json()
            assert body["code"] == "ERR12030" and body["error"] == "invalid_request", body
        assert peer.total() == 0, peer.paths  # not one request reached the provider
        # A well-formed kid is fetched, on the federation path, as one segment.
        r = d.key("05100")
        assert r.status_code == 200, r.text
        assert r.text == pem(cert)
        assert peer.paths == ["/oauth2/key/00100"]
        # Longest allowed: 64 characters.
        assert d.key("05" + "b" * 62).status_code == 404
        assert peer.paths[-1] == "/oauth2/key/00" + "b" * 62
    finally:
        d.stop()
        peer.stop()


def test_federation_negative_cache_is_bounded():
    peer = FakeKeyService()
    d = Deployment("federation.cache_max_entries=4")
    try:
        d.provider("05", peer.url)
        assert d.key("05first").status_code == 404
        assert d.key("05first").status_code == 404
        assert peer.requests_for("first") == 1  # the failure is cached: no second fetch
        # A burst of distinct kids: the cache keeps at most 4 of them, so the oldest goes.
        for i in range(8):
            r = d.key(f"05burst{i}")
            assert r.status_code == 404 and r.json()["code"] == "ERR12017", r.text
        assert all(peer.requests_for(f"burst{i}") == 1 for i in range(8)), peer.paths
        assert d.key("05first").status_code == 404
        assert peer.requests_for("first") == 2, peer.paths  # evicted, so fetched again
        # The most recent ones are still cached.
        assert d.key("05burst7").status_code == 404
        assert peer.requests_for("burst7") == 1
    finally:
        d.stop()
        peer.stop()


def test_federation_in_flight_fetches_are_bounded_per_provider():
    gate = threading.Event()
    peer = FakeKeyService(gate=gate)
    d = Deployment("federation.max_in_flight=2")
    try:
        d.provider("05", peer.url)
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(d.key, f"05slow{i}") for i in range(6)]
            # Two fetches hang at the provider; the other four are refused without a fetch.
            wait_until(lambda: sum(f.done() for f in futures) == 4, "four refusals")
            refused = [f.result() for f in futures if f.done()]
            assert all(r.status_code == 503 for r in refused), [r.text for r in refused]
            assert peer.total() == 2 and peer.max_running == 2, peer.paths
            gate.set()
            results = [f.result() for f in futures]
        assert sorted(r.status_code for r in results) == [404, 404, 503, 503, 503, 503]
        assert peer.max_running == 2
        # Slots are given back: the next kid is fetched.
        assert d.key("05later").status_code == 404 and peer.requests_for("later") == 1
    finally:
        gate.set()
        d.stop()
        peer.stop()


def test_federation_fetches_over_tls():
    tmp = tempfile.mkdtemp(prefix="portcullis-fed-tls-")
    ca, ca_key = certificate("test CA", ca=True)
    leaf, leaf_key = certificate("127.0.0.1", issuer_name=ca.subject, issuer_key=ca_key,
                                 ip="127.0.0.1")
    ca_path = os.path.join(tmp, "ca.pem")
    with open(ca_path, "w") as f:
        f.write(pem(ca))
    chain, key_path = os.path.join(tmp, "leaf.pem"), os.path.join(tmp, "leaf.key")
    with open(chain, "w") as f:
        f.write(pem(leaf))
    with open(key_path, "wb") as f:
        f.write(leaf_key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    # A second peer whose certificate no configured CA vouches for.
    stranger, stranger_key = certificate("127.0.0.1", ip="127.0.0.1")
    s_chain, s_key = os.path.join(tmp, "s.pem"), os.path.join(tmp, "s.key")
    with open(s_chain, "w") as f:
        f.write(pem(stranger))
    with open(s_key, "wb") as f:
        f.write(stranger_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    kid_cert, _ = certificate("key 06100")
    peer = FakeKeyService(certs={"100": pem(kid_cert)}, tls=(chain, key_path))
    rogue = FakeKeyService(certs={"100": pem(kid_cert)}, tls=(s_chain, s_key))
    d = Deployment(f"federation.ca_file={ca_path}")
    try:
        assert peer.url.startswith("https://")
        d.provider("06", peer.url)
        d.provider("07", rogue.url)
        r = d.key("06100")
        assert r.status_code == 200, (r.text, d.s.read_log()[-2000:])
        assert r.text == pem(kid_cert)
        assert peer.paths == ["/oauth2/key/00100"]
        # An untrusted certificate: the handshake fails, nothing is asked, nothing is served.
        r = d.key("07100")
        assert r.status_code == 404 and r.json()["code"] == "ERR12017", r.text
        assert rogue.total() == 0
    finally:
        d.stop()
        peer.stop()
        rogue.stop()
