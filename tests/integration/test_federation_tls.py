"""Federation over https only (reference §10.3, README "Federation"): peer certificates are
fetched over verified TLS. A provider's serverUrl must be https://, at registration and again
when a key is fetched; plain http:// is allowed only to a loopback host, and only with
federation.allow_http_loopback (tests). The TLS material is test_mtls's openssl-made Pki."""
import base64
import http.server
import json
import threading

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic
from test_mtls import Api, Pki

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def start(*sets, tmp=None):
    args = []
    for s in sets:
        args += ["--set", s]
    return Portcullis(args=args, env=ENV, tmp=tmp)


class RecordingPeer:
    """A plain-http key service on loopback that records the paths it is asked for."""

    def __init__(self):
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_token_from_cluster_a_verifies_through_cluster_b_over_https(tmp_path):
    pki = Pki(tmp_path)
    # Cluster A terminates TLS itself with a certificate for 127.0.0.1; cluster B trusts it
    # through federation.ca_file and has no http opt-in.
    a = start("keys.provider_id=01", f"server.tls_cert={pki.path('server.pem')}",
              f"server.tls_key={pki.path('server.key')}")
    b = start("keys.provider_id=02", f"federation.ca_file={pki.path('server.pem')}")
    try:
        api_a = Api(f"https://127.0.0.1:{a.port}", verify=pki.path("server.pem"))
        ob = OAuthServer(b)
        r = ob.admin("POST", "/oauth2/provider", json={
            "providerId": "01", "serverUrl": api_a.url, "uri": "/oauth2/key",
            "providerName": "cluster A"})
        assert r.status_code == 200, r.text
        c = api_a.register(clientType="trusted")
        r = api_a.token({"grant_type": "client_credentials"}, auth=(c["clientId"], c["clientSecret"]))
        assert r.status_code == 200, r.text
        head, payload, sig = r.json()["access_token"].split(".")
        kid = json.loads(b64(head))["kid"]
        assert kid.startswith("01")

        # A resource server of cluster B asks B, which fetches A's certificate over https.
        rs, rs_secret = ob.create_client("confidential")
        r = requests.get(f"{b.url}/oauth2/key/{kid}", headers={"Authorization": basic(rs, rs_secret)},
                         timeout=20)
        assert r.status_code == 200, (r.text, b.read_log()[-2000:])
        cert = x509.load_pem_x509_certificate(r.content)
        cert.public_key().verify(b64(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(),
                                 hashes.SHA256())
    finally:
        assert a.stop() == 0
        assert b.stop() == 0


def test_plain_http_peers_are_refused_without_the_loopback_opt_in(tmp_path):
    peer = RecordingPeer()
    s = start(tmp=str(tmp_path))
    try:
        o = OAuthServer(s)
        for url in (peer.url, "http://localhost:9", "http://[::1]:9", "http://peer.example.com"):
            r = o.admin("POST", "/oauth2/provider", json={"providerId": "05", "serverUrl": url})
            assert r.status_code == 400, (url, r.text)
            assert r.json()["code"] == "ERR11004", r.text
            assert r.json()["description"] == "serverUrl: must use https", r.text
        r = o.admin("POST", "/oauth2/provider",
                    json={"providerId": "05", "serverUrl": "https://127.0.0.1:9"})
        assert r.status_code == 200, r.text
        r = o.admin("PUT", "/oauth2/provider", json={"providerId": "05", "serverUrl": peer.url})
        assert r.status_code == 400 and r.json()["code"] == "ERR11004", r.text
        assert o.admin("GET", "/oauth2/provider/05").json()["serverUrl"] == "https://127.0.0.1:9"
    finally:
        assert s.stop() == 0

    # With the opt-in, loopback http registers; any other http host still does not.
    s = start("federation.allow_http_loopback=true", tmp=str(tmp_path))
    try:
        o = OAuthServer(s)
        r = o.admin("PUT", "/oauth2/provider", json={"providerId": "05", "serverUrl": peer.url})
        assert r.status_code == 200, r.text
        r = o.admin("POST", "/oauth2/provider",
                    json={"providerId": "06", "serverUrl": "http://peer.example.com"})
        assert r.status_code == 400, r.text
        assert r.json()["description"] == "serverUrl: must use https unless the host is loopback"
        rs = o.create_client("confidential")
        r = requests.get(f"{s.url}/oauth2/key/05abc", headers={"Authorization": basic(*rs)},
                         timeout=20)
        assert r.status_code == 404 and r.json()["code"] == "ERR12017", r.text
        assert peer.paths == ["/oauth2/key/00abc"]  # fetched over loopback http
    finally:
        assert s.stop() == 0

    # The same stored http row, without the opt-in: nothing is fetched over plain http.
    s = start(tmp=str(tmp_path))
    try:
        o = OAuthServer(s)
        rs = o.create_client("confidential")
        r = requests.get(f"{s.url}/oauth2/key/05def", headers={"Authorization": basic(*rs)},
                         timeout=20)
        assert r.status_code == 404 and r.json()["code"] == "ERR12017", r.text
        assert peer.paths == ["/oauth2/key/00abc"], peer.paths
    finally:
        assert s.stop() == 0
        peer.stop()
