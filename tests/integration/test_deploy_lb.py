"""deploy/nginx/portcullis-lb.conf itself under a real nginx (Debian's nginx-light): the test only
swaps in free loopback ports, a certificate made here, and two Portcullis processes on one SQLite
store: one with every service but the console for the token and admin upstreams, and one with
all (the console process) for the console upstream. The test client on 127.0.0.1 is outside
10.0.0.0/8: it is the public.

Every route the binary registers is listed below as public or admin; the public side must reach
each public route and none of the admin ones. A missing nginx fails these tests."""
import datetime
import http.client
import ipaddress
import os
import shutil
import ssl
import re
import tempfile
import urllib.parse

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from code_helpers import (BROWSER, authorize, browser_login, code_params, make_client, make_user,
                          query_of, submit)
from conftest import NGINX, NginxProcess, Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic
from ports import free_port, start_on_free_ports

DEPLOY = os.path.join(os.path.dirname(__file__), "../../deploy")
LB_CONF = os.path.join(DEPLOY, "nginx/portcullis-lb.conf")
# Every service but the console: the token and admin upstreams. The console needs all of them.
NOT_CONSOLE = "code,token,client,user,service,key,refresh-token,provider"
CONSOLE_ALLOW = "allow 10.0.0.0/8;              # console"

# Every route of the binary (src/api, src/app/core_routes.cc), by side.
PUBLIC = [
    ("POST", "/oauth2/token"), ("POST", "/oauth2/introspect"), ("POST", "/oauth2/revoke"),
    ("POST", "/oauth2/signing"), ("GET", "/oauth2/verify"), ("GET", "/oauth2/revoked"),
    ("GET", "/oauth2/deref/sometoken"),
    ("GET", "/oauth2/code"), ("POST", "/oauth2/code"),
    ("GET", "/oauth2/authorize"), ("POST", "/oauth2/authorize"),
    ("GET", "/oauth2/consent"), ("POST", "/oauth2/consent"),
    ("POST", "/oauth2/consent/someclient/revoke"), ("DELETE", "/oauth2/consent/someclient"),
    ("GET", "/oauth2/logout"), ("POST", "/oauth2/logout"),
    ("GET", "/oauth2/userinfo"), ("POST", "/oauth2/userinfo"), ("POST", "/oauth2/par"),
    ("POST", "/oauth2/device_authorization"), ("GET", "/oauth2/device"),
    ("POST", "/oauth2/device"), ("GET", "/oauth2/upstream/start"),
    ("GET", "/oauth2/upstream/callback"), ("GET", "/oauth2/account/security"),
    ("POST", "/oauth2/account/security"),
    ("GET", "/oauth2/keys"), ("GET", "/oauth2/key/00100"),
    ("GET", "/.well-known/jwks.json"), ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/health"), ("GET", "/ready"),
]
ADMIN = [
    ("GET", "/oauth2/keys/admin"), ("POST", "/oauth2/keys/rotate"),
    ("POST", "/oauth2/keys/00100/revoke"),
    ("GET", "/oauth2/client"), ("POST", "/oauth2/client"), ("PUT", "/oauth2/client"),
    ("GET", "/oauth2/client/c1"), ("DELETE", "/oauth2/client/c1"),
    ("POST", "/oauth2/client/c1/secret"),
    ("GET", "/oauth2/client/c1/service"), ("DELETE", "/oauth2/client/c1/service"),
    ("GET", "/oauth2/client/c1/service/s1"), ("POST", "/oauth2/client/c1/service/s1"),
    ("DELETE", "/oauth2/client/c1/service/s1"),
    ("GET", "/oauth2/client/c1/delegation"), ("PUT", "/oauth2/client/c1/delegation"),
    ("GET", "/oauth2/service"), ("POST", "/oauth2/service"), ("PUT", "/oauth2/service"),
    ("GET", "/oauth2/service/s1"), ("DELETE", "/oauth2/service/s1"),
    ("GET", "/oauth2/service/s1/endpoint"), ("POST", "/oauth2/service/s1/endpoint"),
    ("DELETE", "/oauth2/service/s1/endpoint"),
    ("GET", "/oauth2/user"), ("POST", "/oauth2/user"), ("PUT", "/oauth2/user"),
    ("GET", "/oauth2/user/u1"), ("DELETE", "/oauth2/user/u1"), ("POST", "/oauth2/password/u1"),
    ("GET", "/oauth2/user/u1/sessions"), ("GET", "/oauth2/user/u1/consents"),
    ("GET", "/oauth2/user/u1/totp"),
    ("GET", "/oauth2/provider"), ("POST", "/oauth2/provider"), ("PUT", "/oauth2/provider"),
    ("GET", "/oauth2/provider/01"), ("DELETE", "/oauth2/provider/01"),
    ("GET", "/oauth2/refresh_token"), ("GET", "/oauth2/refresh_token/r1"),
    ("DELETE", "/oauth2/refresh_token/r1"),
    ("GET", "/oauth2/audit"),
    ("GET", "/metrics"), ("GET", "/server/info"),
]
# The same admin routes in spellings nginx normalises (or must not let through).
ADMIN_SPELLINGS = [
    ("GET", "/oauth2/keys/admin/"), ("GET", "/oauth2/keys/admin?x=1"),
    ("GET", "/oauth2/keys/%61dmin"), ("GET", "/oauth2//keys/admin"),
    ("GET", "/oauth2/token/../keys/admin"), ("GET", "/oauth2/key/..%2Fkeys%2Fadmin"),
    ("GET", "/oauth2/keys/./admin"), ("POST", "/oauth2/KEYS/rotate"),
    ("GET", "/oauth2/consent/../client"), ("GET", "/oauth2/token/../client"),
    ("GET", "/.well-known/../oauth2/client"), ("GET", "/oauth2/deref/../client"),
]


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auth.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("auth.example.com"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "lb.pem"), os.path.join(directory, "lb.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o644)  # nginx reads it as root before dropping privileges; temp dir only
    return cert_path, key_path


class LoadBalancer(NginxProcess):
    """nginx with the shipped LB config, in front of one Portcullis."""

    def __init__(self, console_open=False):
        assert os.path.exists(NGINX), \
            "nginx is not installed (scripts/deps.sh test installs nginx-light)"
        # console_open: the console's allow rule names the test client, as an internal
        # administrator's address would be.
        self.console_open = console_open
        self.tmp = tempfile.mkdtemp(prefix="portcullis-lb-")
        os.chmod(self.tmp, 0o755)
        self.cert, key = make_certificate(self.tmp)
        # Portcullis's issuer names nginx's port: a taken port means both start again.
        start_on_free_ports(lambda: self._start(key))
        self.direct = OAuthServer(self.portcullis)

    def _start(self, key):
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        # The console process first: it registers its client, which the other process then
        # loads at start (SQLite carries no change notifications between processes).
        boot = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
        self.console = Portcullis(
            args=["--set", f"server.issuer={self.url}", "--services", "all"], env=boot)
        try:
            self.portcullis = Portcullis(
                args=["--set", f"server.issuer={self.url}", "--services", NOT_CONSOLE], env=boot,
                store="sqlite:" + os.path.join(self.console.tmp, "portcullis.db"))
        except Exception:
            self.console.stop()
            raise
        up = f"127.0.0.1:{self.portcullis.port}"
        with open(LB_CONF) as f:
            conf = f.read()
        swaps = [("listen 443 ssl http2;", f"listen 127.0.0.1:{self.port} ssl http2;"),
                 ("/etc/ssl/certs/auth.example.com.pem", self.cert),
                 ("/etc/ssl/private/auth.example.com.key", key),
                 ("127.0.0.1:6882", up), ("127.0.0.1:6892", up), ("127.0.0.1:6880", up),
                 ("127.0.0.1:6890", f"127.0.0.1:{self.console.port}")]
        if self.console_open:
            swaps.append((CONSOLE_ALLOW, "allow 127.0.0.1;"))
        for old, new in swaps:
            assert old in conf, old
            conf = conf.replace(old, new)
        with open(os.path.join(self.tmp, "lb.conf"), "w") as f:
            f.write(conf)
        try:
            self.start_nginx(os.path.join(self.tmp, "lb.conf"))
        except Exception:
            self.console.stop()
            self.portcullis.stop()
            shutil.rmtree(self.console.tmp, ignore_errors=True)
            shutil.rmtree(self.portcullis.tmp, ignore_errors=True)
            raise

    def raw(self, method, path, headers=None, body=None):
        """One request with the path sent exactly as written (no client-side normalisation)."""
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        try:
            h = {"Content-Length": "0"} if body is None and method in ("POST", "PUT") else {}
            h.update(headers or {})
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, r.read().decode(errors="replace"), dict(r.getheaders())
        finally:
            conn.close()

    def stop(self):
        self.stop_nginx()
        console = self.console.stop()
        code = self.portcullis.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code or console


def refused_by_nginx(status, body):
    # nginx's own error pages (deny -> 403, location / -> 404); Portcullis answers JSON or its
    # own HTML pages.
    return status in (403, 404) and "<center>nginx" in body


@pytest.fixture
def lb():
    n = LoadBalancer()
    yield n
    assert n.stop() == 0


@pytest.fixture
def lb_console_open():
    n = LoadBalancer(console_open=True)
    yield n
    assert n.stop() == 0


def test_lb_public_side_has_no_key_admin(lb):
    # The routes exist: straight at the instance each answers (401 without credentials).
    for method, path in ADMIN[:3]:
        r = requests.request(method, lb.portcullis.url + path, timeout=10)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
    # Through the load balancer, from outside 10.0.0.0/8: nginx refuses them.
    for method, path in ADMIN[:3] + [s for s in ADMIN_SPELLINGS if "key" in s[1].lower()]:
        status, body, _ = lb.raw(method, path)
        assert refused_by_nginx(status, body), (method, path, status, body[:300])
    # Even with a token that holds the key admin scopes.
    auth = {"Authorization": "Bearer " + lb.direct.admin_token()}
    for method, path in ADMIN[:3]:
        status, body, _ = lb.raw(method, path, headers=auth)
        assert refused_by_nginx(status, body), (method, path, status, body[:300])
    assert lb.direct.admin("GET", "/oauth2/keys/admin").status_code == 200


def test_lb_public_side_reaches_every_public_route_and_no_admin_route(lb):
    for method, path in PUBLIC:
        status, body, _ = lb.raw(method, path)
        assert not refused_by_nginx(status, body), (method, path, status, body[:300])
        assert status != 502, (method, path, lb.logs())
    for method, path in ADMIN + ADMIN_SPELLINGS:
        status, body, _ = lb.raw(method, path)
        assert refused_by_nginx(status, body), (method, path, status, body[:300])
    # Straight at the instance every listed route is served (the router's "cannot be found"
    # would mean the list is stale), so the refusals above are nginx's doing.
    for method, path in PUBLIC + ADMIN:
        r = requests.request(method, lb.portcullis.url + path, timeout=10)
        assert not (r.status_code == 404 and "Request path cannot be found" in r.text), \
            (method, path, r.text)
    # A real token through the public side.
    cid, secret = lb.direct.create_client("trusted", scope="petstore.r")
    status, body, _ = lb.raw("POST", "/oauth2/token",
                             headers={"Authorization": basic(cid, secret),
                                      "Content-Type": "application/x-www-form-urlencoded"},
                             body="grant_type=client_credentials")
    assert status == 200 and "access_token" in body, body
    status, body, _ = lb.raw("GET", "/oauth2/keys")
    assert status == 200 and '"keys"' in body


class ThroughLb:
    """code_helpers' view of a server: its URL and token endpoint, here the load balancer's."""

    def __init__(self, lb):
        self.url = lb.url
        self.cert = lb.cert

    def token(self, data, client=None):
        headers = {"Authorization": basic(*client)} if client else {}
        with requests.Session() as s:
            s.trust_env = False
            return s.post(self.url + "/oauth2/token", data=data, headers=headers,
                          verify=self.cert, timeout=10)


def test_lb_consent_works(lb):
    make_user(lb.direct)
    client = make_client(lb.direct, "confidential")
    front = ThroughLb(lb)
    s = requests.Session()
    s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides `verify`
    s.verify = lb.cert
    consent = browser_login(front, s, code_params(client[0], scope="petstore.r"))
    assert consent.status_code == 200, consent.text
    assert "wants access to your account" in consent.text
    done = submit(s, consent, button=("decision", "allow"))  # POST /oauth2/consent
    assert done.status_code == 303, (done.status_code, done.text[:500], lb.logs())
    _, q = query_of(done.headers["Location"])
    assert q["iss"] == lb.url
    r = front.token({"grant_type": "authorization_code", "code": q["code"],
                     "redirect_uri": "http://127.0.0.1:9/cb"}, client=client)
    assert r.status_code == 200, r.text
    # The user's connected applications, and revoking one, through the public side too.
    page = s.get(lb.url + "/oauth2/consent", headers=BROWSER, timeout=10)
    assert page.status_code == 200 and "test client" in page.text, page.text[:500]
    assert submit(s, page).status_code == 303  # POST /oauth2/consent/{clientId}/revoke
    again = authorize(front, code_params(client[0]), headers=BROWSER, session=s)
    assert again.status_code == 200 and "wants access" in again.text
    assert submit(s, again, button=("decision", "allow")).status_code == 303
    d = s.delete(lb.url + "/oauth2/consent/" + client[0], timeout=10)
    assert d.status_code == 204, d.text


CONSOLE_PATHS = [("GET", "/console"), ("GET", "/console/"), ("GET", "/console/login"),
                 ("GET", "/console/callback"), ("GET", "/console/session"),
                 ("GET", "/console/api/client"), ("POST", "/console/logout")]


def test_lb_console_is_internal_only(lb):
    # The console forwards to the admin APIs: from the public side nginx refuses it, like them.
    for method, path in CONSOLE_PATHS + [("GET", "/console/../console/login"),
                                         ("GET", "/%63onsole/login")]:
        status, body, _ = lb.raw(method, path)
        assert refused_by_nginx(status, body), (method, path, status, body[:300])


def test_lb_console_reaches_the_console_process(lb_console_open):
    lb = lb_console_open
    # The token/admin process has no console: a /console that went there would be its 404.
    r = requests.get(lb.portcullis.url + "/console/login", allow_redirects=False, timeout=10)
    assert r.status_code == 404, r.text
    for method, path in CONSOLE_PATHS:
        status, body, _ = lb.raw(method, path)
        assert not refused_by_nginx(status, body), (method, path, status, body[:300])
        assert status not in (404, 502), (method, path, status, body[:300], lb.logs())
    status, _, headers = lb.raw("GET", "/console")
    assert status == 308 and headers["Location"] == "console/", (status, headers)
    status, body, _ = lb.raw("GET", "/console/")
    assert status == 200 and "<html" in body.lower(), (status, body[:300])
    # The sign-in: the console process starts the code flow at the public issuer address, and
    # the sign-in page answers there (the token/code upstream), through this same nginx.
    status, _, headers = lb.raw("GET", "/console/login")
    assert status in (302, 303), (status, headers)
    # A relative Location (../oauth2/code?...): the browser resolves it against the public URL.
    location = urllib.parse.urljoin(lb.url + "/console/login", headers["Location"])
    assert location.startswith(lb.url + "/oauth2/code?"), location
    _, q = query_of(location)
    assert q["client_id"] == "portcullis-console", q
    assert q["redirect_uri"] == lb.url + "/console/callback", q
    status, body, _ = lb.raw("GET", location[len(lb.url):], headers=BROWSER)
    assert status == 200 and "<form" in body, (status, body[:500])
    # Without a session the console's API is the console's own refusal, not nginx's.
    status, body, _ = lb.raw("GET", "/console/api/client")
    assert status == 401 and "<center>nginx" not in body, (status, body[:300])


# --- The deploy flavours run the console process that the load balancer routes to. ---

def console_port_of_lb():
    with open(LB_CONF) as f:
        conf = f.read()
    m = re.search(r"upstream portcullis_console \{\s*server 127\.0\.0\.1:(\d+);", conf)
    assert m, "deploy/nginx/portcullis-lb.conf has no portcullis_console upstream"
    assert re.search(r"location \^~ /console \{[^}]*proxy_pass http://portcullis_console;",
                     conf), "no /console location to the console upstream"
    return m.group(1)


def serves_console(argv):
    """argv runs `portcullis serve` with the console (all, or a list naming console)."""
    if "serve" not in argv or "--services" not in argv:
        return False
    services = argv[argv.index("--services") + 1].split(",")
    return "all" in services or "console" in services


def listen_port(argv):
    return argv[argv.index("--listen") + 1].rsplit(":", 1)[1] if "--listen" in argv else None


def test_compose_runs_the_console():
    with open(os.path.join(DEPLOY, "compose/docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    port = console_port_of_lb()
    consoles = [name for name, svc in compose["services"].items()
                if serves_console(svc.get("command") or [])
                and listen_port(svc["command"]) == port]
    assert consoles, "docker-compose.yml has no process serving the console on :" + port
    assert set(consoles) <= set(compose["services"]["nginx"]["depends_on"])
    assert "postgres" in compose["services"][consoles[0]]["depends_on"]


def test_kubernetes_runs_the_console():
    with open(os.path.join(DEPLOY, "kubernetes/portcullis.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    port = console_port_of_lb()
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    consoles = [d for d in deployments
                if any(serves_console(c.get("args", [])) and listen_port(c["args"]) == port
                       for c in d["spec"]["template"]["spec"]["containers"])]
    assert len(consoles) == 1, "kubernetes: no Deployment serving the console on :" + port
    labels = consoles[0]["spec"]["template"]["metadata"]["labels"]
    services = [d for d in docs if d["kind"] == "Service"
                and d["spec"]["selector"].items() <= labels.items()
                and any(str(p["targetPort"]) == port for p in d["spec"]["ports"])]
    assert services, "kubernetes: no Service in front of the console Deployment"


def test_systemd_names_the_console_role():
    with open(os.path.join(DEPLOY, "systemd/portcullis@.service")) as f:
        unit = f.read()
    port = console_port_of_lb()
    assert "portcullis@console.service" in unit
    m = re.search(r"^#\s+console:\s+services: (\S+).*listen: 127\.0\.0\.1:(\d+)$", unit, re.M)
    assert m and serves_console(["serve", "--services", m.group(1)]) and m.group(2) == port, \
        "the systemd unit's role list has no console role on the load balancer's port"
