"""private_key_jwt with a jwksUri (RFC 7523, OIDC Core §9, FAPI 2.0 §5.3.2.1), black-box.

A real JWKS server on 127.0.0.1 (python http.server) serves python3-jwcrypto key sets and counts
the requests; Portcullis runs with jwks_uri.allow_http_loopback on so it may fetch from it.
Checked: authentication and caching, key rotation picked up by the one unknown-kid refetch, a
flood of unknown kids bounded by the rate limit, unreachable / oversized / redirecting JWKS
refused as invalid_client, the http refusal at registration, the accepted `aud` forms, iat/nbf
at most 60 s ahead, and Authlib's PrivateKeyJWT as an independent client.
"""
import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jwt as jwcrypto_jwt

from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class JwksServer:
    """Serves /jwks (the current key set, max-age 300), /big (over the 64 KiB limit) and
    /redirect (302 to /jwks), counting requests per path."""

    def __init__(self, tls=None):
        self.keys = []
        self.counts = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.counts[self.path] = outer.counts.get(self.path, 0) + 1
                    keys = list(outer.keys)
                if self.path == "/jwks":
                    body = json.dumps({"keys": [json.loads(k.export_public()) for k in keys]})
                    self._send(200, body.encode(), {"Cache-Control": "max-age=300"})
                elif self.path == "/big":
                    pad = "x" * (100 * 1024)
                    body = json.dumps({"keys": [json.loads(k.export_public()) for k in keys],
                                       "pad": pad})
                    self._send(200, body.encode(), {})
                elif self.path == "/redirect":
                    self._send(302, b"", {"Location": "/jwks"})
                else:
                    self._send(404, b"{}", {})

            def _send(self, status, body, headers):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls:  # (certificate chain file, key file)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server():
    s = JwksServer()
    yield s
    s.close()


def start_oauth(allow_http_loopback, **extra_env):
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET, **extra_env}
    if allow_http_loopback:
        env["PORTCULLIS_JWKS_URI_ALLOW_HTTP_LOOPBACK"] = "true"
    return Portcullis(env=env)


@pytest.fixture
def oauth():
    s = start_oauth(True)
    yield OAuthServer(s)
    code = s.stop()
    assert code == 0, s.read_log()


def new_key(kid):
    return jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)


def assertion(cid, key, aud, kid=None, **overrides):
    now = int(time.time())
    claims = {"iss": cid, "sub": cid, "aud": aud, "iat": now, "exp": now + 60,
              "jti": uuid.uuid4().hex}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    t = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": kid or key.get("kid")}, claims=claims)
    t.make_signed_token(key)
    return t.serialize()


def token(oauth, cid, a):
    return oauth.token({"grant_type": "client_credentials", "client_id": cid,
                        "client_assertion_type": ASSERTION_TYPE, "client_assertion": a})


def refused(r):
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client", r.text


def jwks_client(oauth, uri):
    cid, secret = oauth.create_client("confidential", authMethod="private_key_jwt", jwksUri=uri)
    assert secret is None
    return cid


def test_client_with_jwks_uri_authenticates_and_the_set_is_cached(oauth, jwks_server):
    k1 = new_key("k1")
    jwks_server.keys = [k1]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    te = oauth.url + "/oauth2/token"
    for _ in range(3):
        r = token(oauth, cid, assertion(cid, k1, te))
        assert r.status_code == 200, r.text
    assert jwks_server.count("/jwks") == 1  # max-age=300: fetched once
    # A key the set does not hold is refused.
    refused(token(oauth, cid, assertion(cid, new_key("k1"), te)))


def test_rotation_is_picked_up_and_unknown_kids_are_rate_limited(oauth, jwks_server):
    k1, k2 = new_key("k1"), new_key("k2")
    jwks_server.keys = [k1]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    te = oauth.url + "/oauth2/token"
    assert token(oauth, cid, assertion(cid, k1, te)).status_code == 200
    assert jwks_server.count("/jwks") == 1
    # The client rotates: the new kid is unknown to the cached set, one refetch finds it.
    jwks_server.keys = [k2]
    r = token(oauth, cid, assertion(cid, k2, te))
    assert r.status_code == 200, r.text
    assert jwks_server.count("/jwks") == 2
    # A flood of made-up kids: refused, and no further fetch within refetch_interval_s (60 s).
    for i in range(25):
        refused(token(oauth, cid, assertion(cid, new_key(f"made-up-{i}"), te)))
    assert jwks_server.count("/jwks") == 2
    # The rotated key still works from the cache.
    assert token(oauth, cid, assertion(cid, k2, te)).status_code == 200
    assert jwks_server.count("/jwks") == 2


def test_a_fresh_client_flooding_unknown_kids_costs_at_most_two_fetches(oauth, jwks_server):
    jwks_server.keys = [new_key("real")]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    te = oauth.url + "/oauth2/token"
    for i in range(20):
        refused(token(oauth, cid, assertion(cid, new_key(f"x{i}"), te)))
    # The first fetch, then one unknown-kid refetch.
    assert jwks_server.count("/jwks") == 2


def test_unreachable_oversized_or_redirecting_jwks_is_invalid_client(oauth, jwks_server):
    k = new_key("k1")
    jwks_server.keys = [k]
    te = oauth.url + "/oauth2/token"
    # Bound but not listening, for the whole test: connections are refused, and no other
    # process can take the port and answer in the meantime.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        unreachable = f"http://127.0.0.1:{closed.getsockname()[1]}/jwks"
        for uri in [unreachable, jwks_server.url + "/big",
                    jwks_server.url + "/redirect", jwks_server.url + "/missing"]:
            cid = jwks_client(oauth, uri)
            refused(token(oauth, cid, assertion(cid, k, te)))
    assert jwks_server.count("/big") == 1
    assert jwks_server.count("/redirect") == 1
    assert jwks_server.count("/jwks") == 0  # the redirect was not followed
    log = oauth.s.read_log()
    assert "client.jwks_fetch_failed" in log
    assert "status 302" in log


def test_registration_rules_for_jwks_uri(jwks_server):
    s = start_oauth(False)
    try:
        oauth = OAuthServer(s)
        body = {"clientType": "confidential", "clientProfile": "service", "clientName": "k",
                "host": "lightapi.net", "ownerId": "admin", "authMethod": "private_key_jwt"}
        for uri in [jwks_server.url + "/jwks", "http://localhost/jwks", "http://keys.example/j"]:
            r = oauth.admin("POST", "/oauth2/client", json={**body, "jwksUri": uri})
            assert r.status_code == 400, r.text
            assert "jwksUri" in r.text
        for uri in ["keys.example/jwks", "https://user@keys.example/jwks", "ftp://keys.example/j"]:
            r = oauth.admin("POST", "/oauth2/client", json={**body, "jwksUri": uri})
            assert r.status_code == 400, r.text
        key = new_key("k")
        jwks = json.dumps({"keys": [json.loads(key.export_public())]})
        both = oauth.admin("POST", "/oauth2/client",
                           json={**body, "jwksUri": "https://keys.example/jwks", "jwks": jwks})
        assert both.status_code == 400, both.text
        ok = oauth.admin("POST", "/oauth2/client", json={**body, "jwksUri": "https://keys.example/j"})
        assert ok.status_code == 200, ok.text
        # Switching an existing client to a plain-http jwksUri is refused too.
        cid = ok.json()["clientId"]
        r = oauth.admin("PUT", "/oauth2/client",
                        json={"clientId": cid, "jwksUri": jwks_server.url + "/jwks"})
        assert r.status_code == 400, r.text
    finally:
        assert s.stop() == 0, s.read_log()


def test_registration_allows_loopback_http_only_when_configured(oauth):
    body = {"clientType": "confidential", "clientProfile": "service", "clientName": "k",
            "host": "lightapi.net", "ownerId": "admin", "authMethod": "private_key_jwt"}
    assert oauth.admin("POST", "/oauth2/client",
                       json={**body, "jwksUri": "http://127.0.0.1:9/jwks"}).status_code == 200
    r = oauth.admin("POST", "/oauth2/client", json={**body, "jwksUri": "http://keys.example/jwks"})
    assert r.status_code == 400, r.text


def test_accepted_audiences_and_time_claims(oauth, jwks_server):
    k = new_key("k1")
    jwks_server.keys = [k]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    issuer = oauth.url
    te = oauth.url + "/oauth2/token"
    for aud in [issuer, te, [issuer], [te]]:
        r = token(oauth, cid, assertion(cid, k, aud))
        assert r.status_code == 200, (aud, r.text)
    for aud in ["https://elsewhere.example", [issuer, "https://elsewhere.example"], [te, te], [],
                issuer + "/", oauth.url + "/oauth2/introspect"]:
        refused(token(oauth, cid, assertion(cid, k, aud)))
    now = int(time.time())
    # FAPI 2.0 §5.3.2.1: iat and nbf at most 60 s ahead; exp and jti required.
    refused(token(oauth, cid, assertion(cid, k, issuer, iat=now + 120)))
    refused(token(oauth, cid, assertion(cid, k, issuer, nbf=now + 120)))
    refused(token(oauth, cid, assertion(cid, k, issuer, exp=None)))
    refused(token(oauth, cid, assertion(cid, k, issuer, jti=None)))
    assert token(oauth, cid, assertion(cid, k, issuer, iat=now + 5, nbf=now + 5)).status_code == 200
    # Single use.
    a = assertion(cid, k, issuer)
    assert token(oauth, cid, a).status_code == 200
    refused(token(oauth, cid, a))


def test_changed_jwks_uri_is_used_at_once(oauth, jwks_server):
    old, new = new_key("old"), new_key("new")
    jwks_server.keys = [old]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    te = oauth.url + "/oauth2/token"
    assert token(oauth, cid, assertion(cid, old, te)).status_code == 200
    second = JwksServer()
    try:
        second.keys = [new]
        r = oauth.admin("PUT", "/oauth2/client", json={"clientId": cid, "jwksUri": second.url + "/jwks"})
        assert r.status_code == 200, r.text
        assert token(oauth, cid, assertion(cid, new, te)).status_code == 200
        assert second.count("/jwks") == 1
        refused(token(oauth, cid, assertion(cid, old, te)))
    finally:
        second.close()


def test_authlib_private_key_jwt_client(oauth, jwks_server):
    """Authlib's PrivateKeyJWT client auth and its RFC 7523 signer; the session sends no
    client_id (RFC 7521 §4.2 makes it optional), so the server finds the client by `sub`."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign

    class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
        # Authlib 1.2 drops `headers` (no kid) and defaults exp to an hour, past our 600 s cap;
        # the signing stays Authlib's.
        def sign(self, auth, token_endpoint):
            return private_key_jwt_sign(auth.client_secret, client_id=auth.client_id,
                                        token_endpoint=token_endpoint, alg=self.alg,
                                        header={"kid": "authlib-1"}, expires_in=60)

    k = new_key("authlib-1")
    jwks_server.keys = [k]
    cid = jwks_client(oauth, jwks_server.url + "/jwks")
    te = oauth.url + "/oauth2/token"
    pem = k.export_to_pem(private_key=True, password=None).decode()
    session = OAuth2Session(cid, pem, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(ShortLivedPrivateKeyJWT(te, alg="ES256"))
    tok = session.fetch_token(te, grant_type="client_credentials")
    assert tok["access_token"]
    again = session.fetch_token(te, grant_type="client_credentials")  # a fresh jti each time
    assert again["access_token"] != tok["access_token"]
    r = requests.post(oauth.url + "/oauth2/introspect",
                      data={"token": tok["access_token"], "client_id": cid,
                            "client_assertion_type": ASSERTION_TYPE,
                            "client_assertion": assertion(cid, k, te)}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert r.json()["client_id"] == cid
    assert jwks_server.count("/jwks") == 1


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
    return b.sign(issuer_key or key, hashes.SHA256()), key


def write_pem(path, cert=None, key=None):
    with open(path, "wb") as f:
        if cert is not None:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return path


def test_https_jwks_uri_with_verified_tls_and_no_http_allowance(tmp_path):
    """The production path: https only (allow_http_loopback off), the server certificate
    checked against jwks_uri.ca_file; a JWKS server with an untrusted certificate is refused."""
    ca, ca_key = certificate("test CA", ca=True)
    leaf, leaf_key = certificate("127.0.0.1", issuer_name=ca.subject, issuer_key=ca_key,
                                 ip="127.0.0.1")
    ca_file = write_pem(str(tmp_path / "ca.pem"), ca)
    chain = write_pem(str(tmp_path / "chain.pem"), leaf)
    with open(chain, "ab") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    leaf_key_file = write_pem(str(tmp_path / "leaf.key"), key=leaf_key)
    rogue, rogue_key = certificate("127.0.0.1", ip="127.0.0.1")  # self-signed
    rogue_chain = write_pem(str(tmp_path / "rogue.pem"), rogue)
    rogue_key_file = write_pem(str(tmp_path / "rogue.key"), key=rogue_key)

    good = JwksServer(tls=(chain, leaf_key_file))
    bad = JwksServer(tls=(rogue_chain, rogue_key_file))
    s = start_oauth(False, PORTCULLIS_JWKS_URI_CA_FILE=ca_file)
    try:
        oauth = OAuthServer(s)
        k = new_key("tls-1")
        good.keys = bad.keys = [k]
        te = oauth.url + "/oauth2/token"
        cid = jwks_client(oauth, good.url + "/jwks")
        r = token(oauth, cid, assertion(cid, k, te))
        assert r.status_code == 200, r.text
        assert good.count("/jwks") == 1
        rogue_cid = jwks_client(oauth, bad.url + "/jwks")
        refused(token(oauth, rogue_cid, assertion(rogue_cid, k, te)))
        assert bad.count("/jwks") == 0  # the TLS handshake failed before any request
        assert "client.jwks_fetch_failed" in s.read_log()
    finally:
        good.close()
        bad.close()
        assert s.stop() == 0, s.read_log()
