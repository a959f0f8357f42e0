"""Certificate-bound access tokens (RFC 8705 §3) at GET /oauth2/verify over real TLS: a token
bound to one client certificate, presented over a connection with ANOTHER client certificate, is
refused (401, WWW-Authenticate Bearer error="invalid_token"), both when Portcullis terminates TLS
itself (server.tls_client_certs) and when nginx terminates mutual TLS in front of the gateway
check and forwards the verified certificate (examples/nginx/portcullis-gateway.conf with a TLS
listener, as its comment describes). An openssl-made CA issues the server and two client
certificates in the test (test_mtls.Pki)."""
import os
import shutil
import tempfile
import urllib.parse

import requests

from conftest import NGINX, NginxProcess, skip_unless_available
from ports import free_port, start_on_free_ports
from test_mtls import Api, claims, pki, start_server  # noqa: F401
from test_verify import ENDPOINTS, SERVICE
from test_verify_nginx import EXAMPLE

GATEWAY_HEADERS = {"X-Original-Method": "GET", "X-Original-URI": "/v1/pets",
                   "X-Service-Id": SERVICE}


def petstore(api):
    """The service the gateway example names, and a confidential client with its scope."""
    r = api.admin("POST", "/oauth2/service", json={
        "serviceId": SERVICE, "serviceType": "openapi", "serviceName": "Pet Store",
        "serviceDesc": "pets", "scope": "pets.r pets.w pets.admin", "ownerId": "admin",
        "host": "lightapi.net"})
    assert r.status_code == 200, r.text
    r = api.admin("POST", f"/oauth2/service/{SERVICE}/endpoint", json=ENDPOINTS)
    assert r.status_code == 200, r.text
    c = api.register(scope="pets.r", tlsClientCertificateBoundAccessTokens=True)
    return c["clientId"], c["clientSecret"]


def bound_token(api, client, cert=None, headers=None):
    r = api.token({"grant_type": "client_credentials"}, auth=client, cert=cert, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def assert_refused(r, why):
    assert r.status_code == 401, (why, r.status_code, r.text)
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer "), (why, challenge)
    assert 'error="invalid_token"' in challenge, (why, challenge)


def test_own_listener_refuses_a_token_over_another_certificate(tmp_path, pki):  # noqa: F811
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, f"server.tls_cert={pki.path('server.pem')}",
                     f"server.tls_key={pki.path('server.key')}", "server.tls_client_certs=true",
                     f"server.tls_client_ca={pki.path('ca.pem')}")
    try:
        api = Api(f"https://127.0.0.1:{s.port}", verify=pki.path("server.pem"))
        client = petstore(api)
        mine = pki.issued("alice", "/O=Example/CN=alice")
        other = pki.issued("mallory", "/O=Example/CN=mallory")
        token = bound_token(api, client, cert=mine)
        assert claims(token)["cnf"] == {"x5t#S256": pki.thumbprint(mine[0])}

        def verify(cert, extra=None):
            h = {**GATEWAY_HEADERS, "Authorization": "Bearer " + token, **(extra or {})}
            return requests.get(api.url + "/oauth2/verify", headers=h, cert=cert,
                                verify=api.verify, timeout=10)

        r = verify(mine)
        assert r.status_code == 204, r.text
        assert_refused(verify(other), "another CA-issued certificate")
        assert_refused(verify(pki.self_signed("mallory2", "/O=Example/CN=alice")),
                       "a self-signed certificate with the same subject")
        assert_refused(verify(None), "no certificate")
        # The right certificate in the gateway header does not help: the test is not a
        # trusted proxy, so the connection's own certificate is the one checked.
        with open(mine[0]) as f:
            smuggled = {"Client-Cert": urllib.parse.quote(f.read(), safe="")}
        assert_refused(verify(other, smuggled), "the right certificate smuggled in Client-Cert")
        assert verify(mine).status_code == 204  # still good for its owner
    finally:
        assert s.stop() == 0, s.read_log()


class MtlsGateway(NginxProcess):
    """The gateway example with its listener switched to TLS asking for client certificates
    (ssl_verify_client optional, the test CA): nginx passes $ssl_client_escaped_cert to
    GET /oauth2/verify in Client-Cert."""

    def __init__(self, pki, portcullis_port):  # noqa: F811
        if not os.path.exists(NGINX) and not shutil.which("nginx"):
            skip_unless_available(
                "nginx", "nginx is not installed (scripts/deps.sh test installs nginx-light)")
        self.tmp = tempfile.mkdtemp(prefix="portcullis-mtls-gateway-")
        os.chmod(self.tmp, 0o755)
        root = os.path.join(self.tmp, "static")
        os.makedirs(os.path.join(root, "v1"))
        with open(os.path.join(root, "v1", "pets.json"), "w") as f:
            f.write('[{"id":42,"name":"Rex"}]')
        for d in (root, os.path.join(root, "v1")):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(root, "v1", "pets.json"), 0o644)
        start_on_free_ports(lambda: self._start(pki, portcullis_port, root))
        self.url = f"https://127.0.0.1:{self.port}"

    def _start(self, pki, portcullis_port, root):
        self.port, upstream = free_port(), free_port()
        tls = (f"listen 127.0.0.1:{self.port} ssl;\n"
               f"    ssl_certificate {pki.path('server.pem')};\n"
               f"    ssl_certificate_key {pki.path('server.key')};\n"
               f"    ssl_client_certificate {pki.path('ca.pem')};\n"
               "    ssl_verify_client optional;")
        with open(EXAMPLE) as f:
            site = f.read()
        assert "listen 127.0.0.1:8080;" in site and "Client-Cert $ssl_client_escaped_cert" in site
        site = (site.replace("listen 127.0.0.1:8080;", tls)
                .replace("127.0.0.1:6882", f"127.0.0.1:{portcullis_port}")
                .replace("127.0.0.1:8081", f"127.0.0.1:{upstream}")
                .replace("/srv/petstore", root))
        conf = os.path.join(self.tmp, "gateway.conf")
        with open(conf, "w") as f:
            f.write(site)
        self.start_nginx(conf)

    def stop(self):
        self.stop_nginx()
        shutil.rmtree(self.tmp, ignore_errors=True)


def test_nginx_terminating_mtls_refuses_a_token_over_another_certificate(tmp_path, pki):  # noqa: F811,E501
    os.makedirs(tmp_path / "server", exist_ok=True)
    # nginx (the gateway) is the trusted proxy; for the token endpoint the test itself passes
    # the certificate in X-Client-Cert, as a TLS-terminating proxy in front of it would.
    s = start_server(tmp_path, "server.trusted_proxies=127.0.0.1",
                     "server.client_cert_header=X-Client-Cert")
    n = None
    try:
        api = Api(s.url)
        client = petstore(api)
        mine = pki.issued("gwalice", "/O=Example/CN=gwalice")
        other = pki.issued("gwmallory", "/O=Example/CN=gwmallory")
        with open(mine[0]) as f:
            mine_header = urllib.parse.quote(f.read(), safe="")
        token = bound_token(api, client, headers={"X-Client-Cert": mine_header})
        assert claims(token)["cnf"] == {"x5t#S256": pki.thumbprint(mine[0])}

        n = MtlsGateway(pki, s.port)

        def get(cert, extra=None):
            h = {"Authorization": "Bearer " + token, **(extra or {})}
            return requests.get(n.url + "/v1/pets", headers=h, cert=cert,
                                verify=pki.path("server.pem"), timeout=10)

        r = get(mine)
        assert r.status_code == 200, r.text + n.logs()
        assert r.json() == [{"id": 42, "name": "Rex"}]
        assert r.headers["X-Upstream-Client-Id"] == client[0]
        assert_refused(get(other), "another CA-issued certificate")
        assert_refused(get(None), "no certificate")
        # A client cannot bring its own Client-Cert header: the example always sets it from
        # the TLS connection (and nginx drops it when empty).
        assert_refused(get(other, {"Client-Cert": mine_header}), "Client-Cert sent by the client")
        assert_refused(get(None, {"Client-Cert": mine_header}), "Client-Cert without a certificate")
        assert get(mine).status_code == 200
    finally:
        if n:
            n.stop()
        assert s.stop() == 0, s.read_log()
