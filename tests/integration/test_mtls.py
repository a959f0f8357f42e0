"""OAuth 2.0 mutual TLS (RFC 8705) over real TLS: Portcullis's own listener asks for client
certificates (an openssl-made CA, server and client certificates in a temp dir), and a
TLS-terminating proxy's certificate header, believed only from a trusted proxy address.

Covers client authentication by tls_client_auth (§2.1) and self_signed_tls_client_auth (§2.2),
certificate-bound access tokens (§3: cnf x5t#S256, also in introspection) and the refusals."""
import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
from jwcrypto import jwk, jws, jwt as jwcrypto_jwt

from conftest import NGINX, NginxProcess, Portcullis, run_cli, skip_unless_available
from oauth_fixtures import ADMIN_SCOPES, BOOT_ID, BOOT_SECRET, basic
from ports import free_port, start_on_free_ports

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


class Pki:
    """A CA, a server certificate for 127.0.0.1 and client certificates, made with openssl."""

    def __init__(self, d):
        self.d = str(d)
        openssl("req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
                "-subj", "/CN=Portcullis Test CA", cwd=self.d)
        openssl("req", "-x509", *EC, "-keyout", "server.key", "-out", "server.pem", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", cwd=self.d)

    def path(self, name):
        return os.path.join(self.d, name)

    def issued(self, name, subject, san=None):
        """A client certificate issued by the CA; returns (cert path, key path)."""
        args = ["req", "-new", *EC, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject]
        openssl(*args, cwd=self.d)
        ext = ["-extfile", f"{name}.ext"] if san else []
        if san:
            with open(self.path(f"{name}.ext"), "w") as f:
                f.write(f"subjectAltName={san}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", *ext, cwd=self.d)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def self_signed(self, name, subject):
        openssl("req", "-x509", *EC, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "1",
                "-subj", subject, cwd=self.d)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def subject_dn(self, cert):
        out = openssl("x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253", cwd=self.d)
        return out.strip().removeprefix("subject=")

    def thumbprint(self, cert):
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True,
                             capture_output=True).stdout
        return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()

    def jwks_of(self, key, kid):
        with open(key, "rb") as f:
            k = jwk.JWK.from_pem(f.read())
        pub = json.loads(k.export_public())
        pub["kid"] = kid
        return {"keys": [pub]}


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Api:
    """Token and admin calls against a server at `url`, trusting `verify` for TLS."""

    def __init__(self, url, verify=True):
        self.url = url
        self.verify = verify
        self._admin = None

    def token(self, data, cert=None, headers=None, auth=None):
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = basic(*auth)
        return requests.post(self.url + "/oauth2/token", data=data, headers=headers, cert=cert,
                             verify=self.verify, timeout=10)

    def admin(self, method, path, **kw):
        if not self._admin:
            r = self.token({"grant_type": "client_credentials", "scope": ADMIN_SCOPES},
                           auth=(BOOT_ID, BOOT_SECRET))
            assert r.status_code == 200, r.text
            self._admin = r.json()["access_token"]
        return requests.request(method, self.url + path, verify=self.verify, timeout=10,
                                headers={"Authorization": "Bearer " + self._admin}, **kw)

    def register(self, expect=200, **fields):
        body = {"clientType": "confidential", "clientProfile": "service", "clientName": "mtls",
                "host": "lightapi.net", "ownerId": "admin", "scope": "petstore.r"}
        body.update(fields)
        r = self.admin("POST", "/oauth2/client", json=body)
        assert r.status_code == expect, r.text
        return r.json()


def cc(client_id):
    return {"grant_type": "client_credentials", "client_id": client_id}


def start_server(tmp_path, *sets):
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
    args = []
    for s in sets:
        args += ["--set", s]
    return Portcullis(args=args, env=env, tmp=str(tmp_path / "server"))


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path)


@pytest.fixture
def tls(tmp_path, pki):
    """Portcullis terminating TLS itself, asking clients for certificates."""
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, f"server.tls_cert={pki.path('server.pem')}",
                     f"server.tls_key={pki.path('server.key')}", "server.tls_client_certs=true",
                     f"server.tls_client_ca={pki.path('ca.pem')}")
    yield Api(f"https://127.0.0.1:{s.port}", verify=pki.path("server.pem"))
    assert s.stop() == 0, s.read_log()


def test_tls_client_auth_with_the_registered_dn(tls, pki):
    cert = pki.issued("client1", "/O=Example/CN=client1")
    dn = pki.subject_dn(cert[0])
    assert dn == "CN=client1,O=Example"
    c = tls.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn=dn)
    assert "clientSecret" not in c or not c["clientSecret"]
    assert c["tlsClientAuthSubjectDn"] == dn and c["tlsClientAuthSanDns"] is None

    r = tls.token(cc(c["clientId"]), cert=cert)
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    assert claims(at)["cnf"] == {"x5t#S256": pki.thumbprint(cert[0])}
    assert claims(at)["client_id"] == c["clientId"]

    # Introspection (RFC 7662) shows the binding; the introspecting client authenticates by
    # its own certificate too.
    r = requests.post(tls.url + "/oauth2/introspect", data={"token": at, "client_id": c["clientId"]},
                      cert=cert, verify=tls.verify, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert r.json()["cnf"] == {"x5t#S256": pki.thumbprint(cert[0])}


def test_tls_client_auth_refusals(tls, pki):
    good = pki.issued("good", "/O=Example/CN=good")
    other = pki.issued("other", "/O=Example/CN=other")
    forged = pki.self_signed("forged", "/O=Example/CN=good")  # the right DN, no CA behind it
    c = tls.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn="CN=good,O=Example")
    for cert in (other, forged, None):
        r = tls.token(cc(c["clientId"]), cert=cert)
        assert r.status_code == 401, (cert, r.text)
        assert r.json()["error"] == "invalid_client"
    # The certificate is the credential: no secret, no other method.
    r = tls.token({"grant_type": "client_credentials"}, cert=good, auth=(c["clientId"], "guess"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    assert tls.token(cc(c["clientId"]), cert=good).status_code == 200


def test_tls_client_auth_by_san(tls, pki):
    cert = pki.issued("svc", "/CN=svc", san="DNS:svc.example.com,URI:spiffe://example/svc")
    c = tls.register(authMethod="tls_client_auth", tlsClientAuthSanDns="svc.example.com")
    assert tls.token(cc(c["clientId"]), cert=cert).status_code == 200
    c = tls.register(authMethod="tls_client_auth", tlsClientAuthSanUri="spiffe://example/svc")
    assert tls.token(cc(c["clientId"]), cert=cert).status_code == 200
    c = tls.register(authMethod="tls_client_auth", tlsClientAuthSanDns="other.example.com")
    r = tls.token(cc(c["clientId"]), cert=cert)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


def test_self_signed_tls_client_auth(tls, pki):
    mine = pki.self_signed("mine", "/CN=whatever")
    theirs = pki.self_signed("theirs", "/CN=whatever")
    c = tls.register(authMethod="self_signed_tls_client_auth", jwks=pki.jwks_of(mine[1], "k1"))
    r = tls.token(cc(c["clientId"]), cert=mine)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(mine[0])
    for cert in (theirs, None):
        r = tls.token(cc(c["clientId"]), cert=cert)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


def test_self_signed_tls_client_auth_with_a_jwks_uri(tmp_path, pki):
    """RFC 8705 §2.2 allows jwks_uri: the key set is fetched from a JWKS server the test runs and
    cached as private_key_jwt's (one fetch while fresh, one refetch when no key matches,
    rate-limited), at the token and introspection endpoints."""
    from test_private_key_jwt_jwks_uri import JwksServer
    jwks = JwksServer()
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, f"server.tls_cert={pki.path('server.pem')}",
                     f"server.tls_key={pki.path('server.key')}", "server.tls_client_certs=true",
                     "jwks_uri.allow_http_loopback=true")
    try:
        api = Api(f"https://127.0.0.1:{s.port}", verify=pki.path("server.pem"))
        mine = pki.self_signed("uri-mine", "/CN=whatever")
        rotated = pki.self_signed("uri-rotated", "/CN=whatever")
        theirs = pki.self_signed("uri-theirs", "/CN=whatever")

        def key(cert, kid):
            return jwk.JWK(**pki.jwks_of(cert[1], kid)["keys"][0])

        jwks.keys = [key(mine, "k1")]
        # Exactly one of jwks and jwksUri.
        r = api.register(expect=400, authMethod="self_signed_tls_client_auth")
        assert "exactly one of jwks and jwksUri" in r["error_description"], r
        r = api.register(expect=400, authMethod="self_signed_tls_client_auth",
                         jwks=pki.jwks_of(mine[1], "k1"), jwksUri=jwks.url + "/jwks")
        assert "exactly one of jwks and jwksUri" in r["error_description"], r
        c = api.register(authMethod="self_signed_tls_client_auth", jwksUri=jwks.url + "/jwks")
        cid = c["clientId"]
        assert c["jwksUri"] == jwks.url + "/jwks" and c["jwks"] is None
        r = api.token(cc(cid), cert=mine)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert claims(token)["cnf"]["x5t#S256"] == pki.thumbprint(mine[0])
        assert jwks.count("/jwks") == 1
        # Cached (max-age 300); introspection authenticates the same way.
        r = requests.post(api.url + "/oauth2/introspect", data={"token": token, "client_id": cid},
                          cert=mine, verify=api.verify, timeout=10)
        assert r.status_code == 200 and r.json()["active"] is True, r.text
        assert jwks.count("/jwks") == 1
        # No certificate: refused without a fetch.
        r = api.token(cc(cid))
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        assert jwks.count("/jwks") == 1
        # The client rotates its certificate: no cached key matches, one refetch finds it.
        jwks.keys = [key(rotated, "k2")]
        r = api.token(cc(cid), cert=rotated)
        assert r.status_code == 200, r.text
        assert jwks.count("/jwks") == 2
        # A certificate whose key is nowhere: refused, and no further fetch within
        # jwks_uri.refetch_interval_s (60 s).
        for cert in (theirs, theirs, mine):
            r = api.token(cc(cid), cert=cert)
            assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        assert jwks.count("/jwks") == 2
        assert api.token(cc(cid), cert=rotated).status_code == 200
    finally:
        jwks.close()
        assert s.stop() == 0, s.read_log()


def test_any_client_with_a_certificate_gets_a_bound_token(tls, pki):
    cert = pki.self_signed("any", "/CN=any")
    c = tls.register()
    auth = (c["clientId"], c["clientSecret"])
    r = tls.token({"grant_type": "client_credentials"}, auth=auth, cert=cert)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["cnf"] == {"x5t#S256": pki.thumbprint(cert[0])}
    r = tls.token({"grant_type": "client_credentials"}, auth=auth)
    assert r.status_code == 200, r.text
    assert "cnf" not in claims(r.json()["access_token"])


def test_bound_tokens_required_per_client(tls, pki):
    cert = pki.self_signed("req", "/CN=req")
    c = tls.register(tlsClientCertificateBoundAccessTokens=True)
    assert c["tlsClientCertificateBoundAccessTokens"] is True
    auth = (c["clientId"], c["clientSecret"])
    r = tls.token({"grant_type": "client_credentials"}, auth=auth)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    r = tls.token({"grant_type": "client_credentials"}, auth=auth, cert=cert)
    assert r.status_code == 200 and "cnf" in claims(r.json()["access_token"]), r.text


def test_registration_rules(tls, pki):
    mine = pki.self_signed("reg", "/CN=reg")
    # tls_client_auth names exactly one certificate name (RFC 8705 §2.1.2).
    r = tls.register(expect=400, authMethod="tls_client_auth")
    assert "tlsClientAuth" in r["error_description"], r
    r = tls.register(expect=400, authMethod="tls_client_auth", tlsClientAuthSubjectDn="CN=a",
                     tlsClientAuthSanDns="a.example")
    assert "only one" in r["error_description"], r
    r = tls.register(expect=400, tlsClientAuthSubjectDn="CN=a")  # with a secret method
    r = tls.register(expect=400, authMethod="self_signed_tls_client_auth")  # no jwks
    r = tls.register(expect=400, clientType="public", authMethod="self_signed_tls_client_auth",
                     jwks=pki.jwks_of(mine[1], "k1"))
    r = tls.register(expect=400, tlsClientCertificateBoundAccessTokens="yes")


def test_discovery_metadata(tls):
    m = requests.get(tls.url + "/.well-known/oauth-authorization-server", verify=tls.verify,
                     timeout=10).json()
    assert m["tls_client_certificate_bound_access_tokens"] is True
    for method in ("tls_client_auth", "self_signed_tls_client_auth"):
        assert method in m["token_endpoint_auth_methods_supported"]
        assert method in m["introspection_endpoint_auth_methods_supported"]
    assert "mtls_endpoint_aliases" not in m


def test_discovery_without_mtls_makes_no_binding_promise(tmp_path):
    """No TLS client certificates and no proxy header: no certificate can ever arrive, so the
    metadata does not say tokens are certificate-bound (RFC 8705 §3.3)."""
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path)
    try:
        m = requests.get(s.url + "/.well-known/oauth-authorization-server", timeout=10).json()
        assert "tls_client_certificate_bound_access_tokens" not in m, m
        assert "mtls_endpoint_aliases" not in m
        # Nor does it offer client authentication by a certificate (RFC 8705 §2).
        for field in ("token_endpoint_auth_methods_supported",
                      "introspection_endpoint_auth_methods_supported",
                      "revocation_endpoint_auth_methods_supported"):
            assert "private_key_jwt" in m[field], (field, m)
            for method in ("tls_client_auth", "self_signed_tls_client_auth"):
                assert method not in m[field], (field, m)
    finally:
        assert s.stop() == 0, s.read_log()


def test_discovery_publishes_aliases_of_a_separate_mtls_front(tmp_path):
    """server.mtls_base_url (nginx asking for certificates on its own host): RFC 8705 §5
    mtls_endpoint_aliases under it, in both metadata documents; the ordinary endpoints stay."""
    os.makedirs(tmp_path / "server", exist_ok=True)
    front = "https://mtls.example.test:8443"
    s = start_server(tmp_path, "server.trusted_proxies=127.0.0.1",
                     "server.client_cert_header=X-Client-Cert", f"server.mtls_base_url={front}")
    try:
        for doc in ("oauth-authorization-server", "openid-configuration"):
            m = requests.get(s.url + "/.well-known/" + doc, timeout=10).json()
            assert m["tls_client_certificate_bound_access_tokens"] is True
            assert m["mtls_endpoint_aliases"] == {
                "token_endpoint": front + "/oauth2/token",
                "introspection_endpoint": front + "/oauth2/introspect",
                "revocation_endpoint": front + "/oauth2/revoke",
                "device_authorization_endpoint": front + "/oauth2/device_authorization",
                "userinfo_endpoint": front + "/oauth2/userinfo",
                "pushed_authorization_request_endpoint": front + "/oauth2/par",
            }, m
            assert m["token_endpoint"] == s.url + "/oauth2/token"
    finally:
        assert s.stop() == 0, s.read_log()


def test_the_alias_token_endpoint_is_an_assertion_aud_and_a_dpop_htu(tmp_path):
    """RFC 8705 §5: a client that follows mtls_endpoint_aliases addresses the token endpoint under
    server.mtls_base_url, so that URL is accepted as its private_key_jwt `aud` (RFC 7523 §3, as
    the ordinary token endpoint URL is) and as its DPoP proof's `htu` (RFC 9449 §4.3). Other
    URLs under the front, or the token path under another origin, still are not."""
    os.makedirs(tmp_path / "server", exist_ok=True)
    front = "https://mtls.example.test:8443"
    s = start_server(tmp_path, "server.trusted_proxies=127.0.0.1",
                     "server.client_cert_header=X-Client-Cert", f"server.mtls_base_url={front}")
    try:
        api = Api(s.url)
        meta = requests.get(s.url + "/.well-known/oauth-authorization-server", timeout=10).json()
        issuer, alias = meta["issuer"], meta["mtls_endpoint_aliases"]["token_endpoint"]
        assert alias == front + "/oauth2/token"
        key = jwk.JWK.generate(kty="EC", crv="P-256", kid="pk-1")
        cid = api.register(authMethod="private_key_jwt",
                           jwks={"keys": [json.loads(key.export_public())]})["clientId"]
        dpop_key = jwk.JWK.generate(kty="EC", crv="P-256")

        def token(aud, htu=None):
            now = int(time.time())
            a = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": "pk-1"}, claims={
                "iss": cid, "sub": cid, "aud": aud, "iat": now, "exp": now + 60,
                "jti": uuid.uuid4().hex})
            a.make_signed_token(key)
            a = a.serialize()
            headers = {}
            if htu is not None:
                p = jws.JWS(json.dumps({"jti": uuid.uuid4().hex, "htm": "POST", "htu": htu,
                                        "iat": now}))
                p.add_signature(dpop_key, alg="ES256", protected=json.dumps(
                    {"typ": "dpop+jwt", "alg": "ES256",
                     "jwk": json.loads(dpop_key.export_public())}))
                headers["DPoP"] = p.serialize(compact=True)
            return api.token({"grant_type": "client_credentials", "client_id": cid,
                              "client_assertion_type":
                                  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                              "client_assertion": a}, headers=headers)

        for aud in (issuer, issuer + "/oauth2/token", alias, front + "/oauth2/par"):
            r = token(aud)
            assert r.status_code == 200, (aud, r.text)
        for aud in (front, front + "/oauth2/introspect", "https://elsewhere.test/oauth2/token"):
            r = token(aud)
            assert r.status_code == 401 and r.json()["error"] == "invalid_client", (aud, r.text)
            assert "aud" in r.json()["error_description"], r.text
        for htu in (issuer + "/oauth2/token", alias):
            r = token(issuer, htu)
            assert r.status_code == 200, (htu, r.text)
            assert r.json()["token_type"] == "DPoP"
            assert claims(r.json()["access_token"])["cnf"] == {"jkt": dpop_key.thumbprint()}
        for htu in (front + "/oauth2/par", front + "/oauth2/tokens",
                    "https://elsewhere.test:8443/oauth2/token"):
            r = token(issuer, htu)
            assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", (htu,
                                                                                      r.text)
    finally:
        assert s.stop() == 0, s.read_log()


def test_mtls_base_url_is_checked_at_start_up(tmp_path):
    base = ["serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{tmp_path}/db"]
    for sets, needle in (
            # No certificate source: the aliases would promise what cannot happen.
            (["server.mtls_base_url=https://mtls.example.test"], "client_cert_header"),
            (["server.trusted_proxies=127.0.0.1", "server.client_cert_header=X-Client-Cert",
              "server.mtls_base_url=http://mtls.example.test"], "https"),
            (["server.trusted_proxies=127.0.0.1", "server.client_cert_header=X-Client-Cert",
              "server.mtls_base_url=https://mtls.example.test/"], "trailing slash")):
        args = list(base)
        for x in sets:
            args += ["--set", x]
        r = run_cli(*args)
        assert r.returncode != 0, (sets, r.stdout)
        assert "server.mtls_base_url" in r.stderr and needle in r.stderr, (sets, r.stderr)


def escaped_pem(cert):
    with open(cert) as f:
        return urllib.parse.quote(f.read(), safe="")  # as nginx's $ssl_client_escaped_cert


def test_proxy_header_believed_only_from_trusted_proxies(tmp_path, pki):
    cert = pki.issued("proxied", "/O=Example/CN=proxied")
    header = {"X-Client-Cert": escaped_pem(cert[0])}
    os.makedirs(tmp_path / "server", exist_ok=True)
    # 127.0.0.1 (the test) is not a trusted proxy: the header is ignored, and logged.
    s = start_server(tmp_path, "server.trusted_proxies=192.0.2.1",
                     "server.client_cert_header=X-Client-Cert")
    try:
        api = Api(s.url)
        c = api.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn="CN=proxied,O=Example")
        r = api.token(cc(c["clientId"]), headers=header)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        secret_client = api.register()
        r = api.token({"grant_type": "client_credentials"}, headers=header,
                      auth=(secret_client["clientId"], secret_client["clientSecret"]))
        assert r.status_code == 200 and "cnf" not in claims(r.json()["access_token"]), r.text
        assert "http.client_cert_header_ignored" in s.read_log()
    finally:
        assert s.stop() == 0, s.read_log()

    # From a trusted proxy it is the client's certificate. The proxy's verdict header, when
    # configured, must say SUCCESS for tls_client_auth (a CA-verified chain).
    s = Portcullis(args=["--set", "server.trusted_proxies=127.0.0.1",
                         "--set", "server.client_cert_header=X-Client-Cert",
                         "--set", "server.client_cert_verify_header=X-Client-Verify"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET},
                   tmp=str(tmp_path / "server"))
    try:
        api = Api(s.url)
        c = api.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn="CN=proxied,O=Example")
        r = api.token(cc(c["clientId"]), headers={**header, "X-Client-Verify": "SUCCESS"})
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(cert[0])
        r = api.token(cc(c["clientId"]), headers={**header, "X-Client-Verify": "FAILED:unknown ca"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        r = api.token(cc(c["clientId"]), headers={"X-Client-Cert": "garbage",
                                                  "X-Client-Verify": "SUCCESS"})
        assert r.status_code == 401, r.text
    finally:
        assert s.stop() == 0, s.read_log()


def test_config_refusals(tmp_path, pki):
    from conftest import run_cli
    r = run_cli("serve", "--listen", "127.0.0.1:0", "--set", "server.tls_client_certs=true")
    assert r.returncode != 0 and "server.tls_client_certs" in r.stderr + r.stdout
    r = run_cli("serve", "--listen", "127.0.0.1:0", "--set", "server.client_cert_header=X-Client-Cert")
    assert r.returncode != 0 and "server.client_cert_header" in r.stderr + r.stdout
    r = run_cli("serve", "--listen", "127.0.0.1:0", "--set", f"server.tls_cert={pki.path('server.pem')}",
                "--set", f"server.tls_key={pki.path('server.key')}",
                "--set", "server.tls_client_certs=true",
                "--set", f"server.tls_client_ca={tmp_path}/missing.pem")
    assert r.returncode != 0 and "server.tls_client_ca" in r.stderr + r.stdout


class MtlsNginx(NginxProcess):
    """nginx terminating mutual TLS in front of Portcullis: it asks for client certificates
    (optional_no_ca: self-signed ones pass too) and forwards the certificate and its verdict."""

    def __init__(self, pki, upstream_port):
        import shutil
        import tempfile
        if not os.path.exists(NGINX) and not shutil.which("nginx"):
            skip_unless_available("nginx", "nginx is not installed")
        self.tmp = tempfile.mkdtemp(prefix="portcullis-mtls-nginx-")
        os.chmod(self.tmp, 0o755)
        start_on_free_ports(lambda: self._start(pki, upstream_port))
        self.url = f"https://127.0.0.1:{self.port}"

    def _start(self, pki, upstream_port):
        self.port = free_port()
        site = os.path.join(self.tmp, "site.conf")
        with open(site, "w") as f:
            f.write(f"""server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {pki.path('server.pem')};
    ssl_certificate_key {pki.path('server.key')};
    ssl_client_certificate {pki.path('ca.pem')};
    ssl_verify_client optional_no_ca;
    location / {{
        proxy_pass http://127.0.0.1:{upstream_port};
        proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
        proxy_set_header X-Client-Verify $ssl_client_verify;
    }}
}}
""")
        self.start_nginx(site)


def test_behind_nginx_terminating_mtls(tmp_path, pki):
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, "server.trusted_proxies=127.0.0.1",
                     "server.client_cert_header=X-Client-Cert",
                     "server.client_cert_verify_header=X-Client-Verify")
    n = None
    try:
        n = MtlsNginx(pki, s.port)
        api = Api(n.url, verify=pki.path("server.pem"))
        cert = pki.issued("nx", "/O=Example/CN=nx")
        c = api.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn="CN=nx,O=Example")
        r = api.token(cc(c["clientId"]), cert=cert)
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(cert[0])

        # The right DN on a certificate no CA issued: nginx says FAILED, so it is not CA-issued.
        forged = pki.self_signed("nxforged", "/O=Example/CN=nx")
        r = api.token(cc(c["clientId"]), cert=forged)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        # A client without a certificate cannot smuggle the headers through: nginx replaces them.
        with open(cert[0]) as f:
            smuggled = {"X-Client-Cert": urllib.parse.quote(f.read(), safe=""),
                        "X-Client-Verify": "SUCCESS"}
        r = api.token(cc(c["clientId"]), headers=smuggled)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text

        # Self-signed certificates pass nginx (optional_no_ca) for self_signed_tls_client_auth.
        own = pki.self_signed("nxown", "/CN=nxown")
        c2 = api.register(authMethod="self_signed_tls_client_auth", jwks=pki.jwks_of(own[1], "k"))
        r = api.token(cc(c2["clientId"]), cert=own)
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(own[0])
    finally:
        if n:
            n.stop_nginx()
        assert s.stop() == 0, s.read_log()


def test_public_client_refresh_token_bound_to_the_certificate(tls, pki, monkeypatch):
    from types import SimpleNamespace

    from code_helpers import REDIRECT, basic_user, pkce_pair, query_of, record_consent
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls.verify)  # the helpers' own sessions
    mine = pki.self_signed("pub", "/CN=pub")
    other = pki.self_signed("pub2", "/CN=pub2")
    c = tls.register(clientType="public", authMethod="none", clientProfile="browser",
                     redirectUris=[REDIRECT])
    r = tls.admin("POST", "/oauth2/user", json={
        "userId": "carol", "userType": "employee", "firstName": "C", "lastName": "D",
        "email": "carol@example.com", "password": "correct horse battery",
        "passwordConfirm": "correct horse battery", "roles": "user"})
    assert r.status_code == 200, r.text
    verifier, challenge = pkce_pair()
    record_consent(SimpleNamespace(url=tls.url), c["clientId"], user="carol",
                   password="correct horse battery", code_challenge=challenge,
                   code_challenge_method="S256")
    r = requests.get(tls.url + "/oauth2/code", allow_redirects=False, verify=tls.verify, timeout=10,
                     headers={"Authorization": basic_user("carol", "correct horse battery")},
                     params={"response_type": "code", "client_id": c["clientId"],
                             "redirect_uri": REDIRECT, "state": "s", "code_challenge": challenge,
                             "code_challenge_method": "S256"})
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1].get("code")
    assert code, r.headers["Location"]
    r = tls.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                   "code_verifier": verifier, "client_id": c["clientId"]}, cert=mine)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(mine[0])
    refresh = r.json()["refresh_token"]

    # RFC 8705 §4: without that certificate the refresh token is refused, and stays usable.
    for cert in (None, other):
        r = tls.token({"grant_type": "refresh_token", "refresh_token": refresh,
                       "client_id": c["clientId"]}, cert=cert)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = tls.token({"grant_type": "refresh_token", "refresh_token": refresh,
                   "client_id": c["clientId"]}, cert=mine)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["cnf"]["x5t#S256"] == pki.thumbprint(mine[0])
    # The rotated token stays bound.
    r = tls.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
                   "client_id": c["clientId"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text


def test_userinfo_refuses_a_certificate_bound_token_without_its_certificate(tls, pki):
    """RFC 8705 §3 at the userinfo endpoint: the bound token works only over a connection that
    presents the certificate it is bound to."""
    from code_helpers import REDIRECT, basic_user, query_of
    mine = pki.self_signed("ui", "/CN=ui")
    other = pki.self_signed("ui2", "/CN=ui2")
    c = tls.register(clientType="trusted", clientProfile="webserver", redirectUris=[REDIRECT],
                     scope="openid profile petstore.r")
    r = tls.admin("POST", "/oauth2/user", json={
        "userId": "dave", "userType": "employee", "firstName": "D", "lastName": "E",
        "email": "dave@example.com", "password": "correct horse battery",
        "passwordConfirm": "correct horse battery", "roles": "user"})
    assert r.status_code == 200, r.text
    r = requests.get(tls.url + "/oauth2/code", allow_redirects=False, verify=tls.verify, timeout=10,
                     headers={"Authorization": basic_user("dave", "correct horse battery")},
                     params={"response_type": "code", "client_id": c["clientId"],
                             "redirect_uri": REDIRECT, "state": "s", "scope": "openid profile"})
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1].get("code")
    assert code, r.headers["Location"]
    r = tls.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                  auth=(c["clientId"], c["clientSecret"]), cert=mine)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims(token)["cnf"] == {"x5t#S256": pki.thumbprint(mine[0])}

    def userinfo(cert):
        return requests.get(tls.url + "/oauth2/userinfo", verify=tls.verify, timeout=10,
                            cert=cert, headers={"Authorization": "Bearer " + token})

    for cert in (None, other):
        r = userinfo(cert)
        assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text
        assert r.headers["WWW-Authenticate"].startswith("Bearer "), r.headers
    r = userinfo(mine)
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == "dave"
