"""The example chain (examples/chain) against a real Portcullis, nginx included:

    client --> nginx --auth_request--> gateway_auth
                 |
                 v
             service A --exchange--> service B --exchange--> service C
                 |
                 +--signed event--> event_consumer

Identity (sub, user and the `act` chain) reaches C with the scope narrowed at each hop; a hop the
delegation policy forbids is refused before C is called; tampered and replayed events are refused;
the chain keeps answering on cached tokens while Portcullis is stopped and recovers when it is
back; a signing-key rotation costs no call."""
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest
import requests

from conftest import BIN, NGINX, NginxProcess, poll, skip_unless_available
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
from ports import free_port, start_on_free_ports

EXAMPLES = os.path.join(os.path.dirname(BIN), "examples/chain")
GATEWAY_CONF = os.path.join(os.path.dirname(__file__), "../../examples/chain/gateway.conf")

ORDERS_A = [{"endpoint": "/v1/orders@get", "scope": "orders.read"},
            {"endpoint": "/v1/orders@post", "scope": "orders.write"}]
ORDERS = [{"endpoint": "/v1/orders@get", "scope": "orders.read"}]
EVENTS = [{"endpoint": "/events@post", "scope": "events.write"}]


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def kid(jwt):
    p = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["kid"]


def scopes(c):
    s = c["scope"]
    return set(s.split() if isinstance(s, str) else s)


def read_port(port_file):
    """The port a program wrote to `port_file` once it listens; None until then."""
    try:
        with open(port_file) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return int(text) if text else None


class Server:
    """Portcullis on a fixed port, so that a restart comes back where the services look: the
    first start listens on port 0 (no port freed for it and taken meanwhile), and restarts on
    the port it got."""

    def __init__(self, tmp):
        self.tmp, self.port = tmp, 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        port_file = os.path.join(self.tmp, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
        env.update({"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64,
                    "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                    "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                    # a rotated key signs at once, so the verifiers meet an unknown kid
                    "PORTCULLIS_KEYS_PUBLISH_AHEAD_S": "0"})
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file,
             "--store", "sqlite:" + os.path.join(self.tmp, "portcullis.db")],
            stdout=open(os.path.join(self.tmp, "server.log"), "ab"), stderr=subprocess.STDOUT,
            env=env)
        poll(lambda: self.proc.poll() is not None or read_port(port_file),
             "portcullis to listen", deadline_s=30)
        assert self.proc.poll() is None, self.log()
        self.port = read_port(port_file)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=10) == 0, self.log()

    def log(self):
        return open(os.path.join(self.tmp, "server.log"), errors="replace").read()[-3000:]


class Gateway(NginxProcess):
    def __init__(self, tmp, auth_port, a_port):
        self.tmp = os.path.join(tmp, "nginx")
        os.makedirs(self.tmp)
        os.chmod(self.tmp, 0o755)  # workers run as an unprivileged user when we are root
        start_on_free_ports(lambda: self._start(auth_port, a_port))
        self.url = f"http://127.0.0.1:{self.port}"

    def _start(self, auth_port, a_port):
        self.port = free_port()
        with open(GATEWAY_CONF) as f:
            conf = (f.read().replace("127.0.0.1:7000", f"127.0.0.1:{self.port}")
                    .replace("127.0.0.1:7001", f"127.0.0.1:{auth_port}")
                    .replace("127.0.0.1:7002", f"127.0.0.1:{a_port}"))
        with open(os.path.join(self.tmp, "gateway.conf"), "w") as f:
            f.write(conf)
        self.start_nginx(os.path.join(self.tmp, "gateway.conf"))


class Chain:
    """Portcullis configured for the chain (services, clients, delegation policies, a user), the
    five example programs and nginx, each started here and stopped by its PID."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="portcullis-chain-")
        self.procs = {}
        self.gateway = None
        self.server = Server(self.tmp)
        self.oauth = OAuthServer(self.server)
        o = self.oauth
        for sid, endpoints in (("svc-a", ORDERS_A), ("svc-b", ORDERS), ("svc-c", ORDERS),
                               ("billing", EVENTS)):
            scope = " ".join(sorted({e["scope"] for e in endpoints}))
            r = o.admin("POST", "/oauth2/service", json={
                "serviceId": sid, "serviceType": "openapi", "serviceName": sid,
                "serviceDesc": "x", "host": "lightapi.net", "ownerId": "admin", "scope": scope})
            assert r.status_code == 200, r.text
            table = [dict(e, operation=e["endpoint"]) for e in endpoints]
            r = o.admin("POST", f"/oauth2/service/{sid}/endpoint", json=table)
            assert r.status_code == 200, r.text
        self.a = o.create_client("confidential", scope="orders.read orders.write events.write")
        self.b = o.create_client("confidential", scope="orders.read orders.write")
        # A may act toward B with orders.read only; B toward C with orders.read.
        self.set_policy(self.a, "svc-b")
        self.set_policy(self.b, "svc-c")
        self.portal = o.create_client("trusted", scope="orders.read orders.write")
        self.user, self.password = o.create_user()

        common = ["--issuer", o.url, "--jwks-url", o.url + "/oauth2/keys",
                  "--refetch-interval-s", "1"]
        token = ["--token-url", o.url + "/oauth2/token"]
        # Each program listens on port 0; start() records its port and URL here, before the
        # next program, which is given the URLs of those started before it.
        self.ports = {}
        url = self.url = {}
        self.start("c", "chain_service", "--name", "svc-c", "--endpoints-json",
                   json.dumps(ORDERS), *common, *token, "--client-id", "unused",
                   "--client-secret", "unused")
        self.start("b", "chain_service", "--name", "svc-b", "--endpoints-json",
                   json.dumps(ORDERS), *common, *token, "--client-id", self.b[0],
                   "--client-secret", self.b[1], "--next-url", url["c"] + "/v1/orders",
                   "--next-audience", "svc-c", "--next-scope", "orders.read")
        self.start("consumer", "event_consumer", "--service-id", "billing", "--endpoints-json",
                   json.dumps(EVENTS), "--issuer", o.url, "--jwks-url", o.url + "/oauth2/keys",
                   "--signer", self.a[0])
        self.start("a", "chain_service", "--name", "svc-a", "--endpoints-json",
                   json.dumps(ORDERS_A), *common, *token, "--client-id", self.a[0],
                   "--client-secret", self.a[1], "--next-url", url["b"] + "/v1/orders",
                   "--next-audience", "svc-b", "--next-scope", "orders.read",
                   "--events-url", url["consumer"] + "/events", "--events-audience", "billing",
                   "--events-scope", "events.write")
        self.start("auth", "gateway_auth", "--service-id", "svc-a", "--endpoints-json",
                   json.dumps(ORDERS_A), *common)
        self.gateway = Gateway(self.tmp, self.ports["auth"], self.ports["a"])

    def start(self, name, program, *args):
        port_file = os.path.join(self.tmp, name + ".port")
        log = open(os.path.join(self.tmp, name + ".log"), "wb")
        p = subprocess.Popen([os.path.join(EXAMPLES, program), "--listen", "127.0.0.1:0",
                              "--port-file", port_file, *args],
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = p
        poll(lambda: p.poll() is not None or read_port(port_file), name + " to listen",
             deadline_s=30)
        assert p.poll() is None, self.logs()
        self.ports[name] = read_port(port_file)
        self.url[name] = f"http://127.0.0.1:{self.ports[name]}"

    def logs(self):
        out = ""
        for name in self.procs:
            with open(os.path.join(self.tmp, name + ".log"), errors="replace") as f:
                out += f"--- {name}\n" + f.read()[-1500:]
        return out + (self.gateway.logs() if self.gateway else "")

    def stop(self):
        if self.gateway:
            self.gateway.stop_nginx()
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        if self.server.proc.poll() is None:
            self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def set_policy(self, client, audience, scope="orders.read"):
        policy = [{"audience": audience, "scope": scope, "maxDepth": 3}] if audience else []
        r = self.oauth.admin("PUT", f"/oauth2/client/{client[0]}/delegation", json=policy)
        assert r.status_code == 200, r.text

    def user_token(self):
        r = self.oauth.token({"grant_type": "password", "username": self.user,
                              "password": self.password}, client=self.portal)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def get(self, token, path="/v1/orders"):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return requests.get(self.gateway.url + path, headers=headers, timeout=10)

    def served(self, name):
        return requests.get(self.url[name] + "/health", timeout=5).json()


@pytest.fixture
def chain():
    for program in ("chain_service", "gateway_auth", "event_consumer"):
        if not os.path.exists(os.path.join(EXAMPLES, program)):
            skip_unless_available("example", "examples/chain is not built")
    if not os.path.exists(NGINX):
        skip_unless_available("nginx",
                              "nginx is not installed (scripts/deps.sh test installs nginx-light)")
    c = Chain()
    try:
        yield c
    finally:
        c.stop()


def test_identity_and_the_act_chain_reach_c_with_the_scope_narrowed_at_each_hop(chain):
    user_token = chain.user_token()
    assert scopes(claims(user_token)) == {"orders.read", "orders.write"}
    r = chain.get(user_token)
    assert r.status_code == 200, r.text + chain.logs()
    at_a = r.json()
    at_b = at_a["next"]
    at_c = at_b["next"]
    assert [at_a["service"], at_b["service"], at_c["service"]] == ["svc-a", "svc-b", "svc-c"]
    # The user is the same at every hop; the scope is what each hop's policy let through.
    for hop in (at_a, at_b, at_c):
        assert hop["userId"] == chain.user and hop["sub"] == claims(user_token)["sub"], hop
    assert scopes(at_a["claims"]) == {"orders.read", "orders.write"}
    assert scopes(at_b["claims"]) == {"orders.read"} and at_b["claims"]["aud"] == "svc-b"
    assert scopes(at_c["claims"]) == {"orders.read"} and at_c["claims"]["aud"] == "svc-c"
    # act: who acts for the user, outermost the latest (RFC 8693 §4.1).
    assert "act" not in at_a["claims"]
    assert at_b["claims"]["act"] == {"sub": chain.a[0]}, at_b
    assert at_c["claims"]["act"] == {"sub": chain.b[0], "act": {"sub": chain.a[0]}}, at_c
    # The second call is answered from the exchange caches: A and B ask Portcullis nothing.
    assert chain.get(user_token).status_code == 200


def test_the_gateway_and_each_service_check_their_endpoint_tables(chain):
    # No token, or a token without the endpoint's scope: stopped at the gateway.
    r = chain.get(None)
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]
    writer = chain.oauth.create_client("trusted", scope="orders.write")
    r = chain.oauth.token({"grant_type": "client_credentials", "scope": "orders.write"},
                          client=writer)
    assert r.status_code == 200, r.text
    assert chain.get(r.json()["access_token"]).status_code == 403
    assert chain.get(chain.user_token(), "/v1/secrets").status_code == 403
    assert chain.served("a")["served"] == 0  # A never saw them
    # B refuses a token meant for A (aud), and the user's own token lacks nothing but the
    # audience: a caller cannot skip A's exchange by calling B directly with A's token.
    r = chain.oauth.token({"grant_type": "client_credentials", "scope": "orders.read",
                           "audience": "svc-a"}, client=chain.a)
    assert r.status_code == 200, r.text
    r = requests.get(chain.url["b"] + "/v1/orders", timeout=10,
                     headers={"Authorization": "Bearer " + r.json()["access_token"]})
    assert r.status_code == 401 and r.json()["reason"] == "wrong_audience", r.text


def test_a_hop_the_delegation_policy_forbids_is_refused_before_c_is_called(chain):
    assert chain.get(chain.user_token()).status_code == 200
    calls_at_c = chain.served("c")["served"]
    chain.set_policy(chain.b, None)  # B may no longer act toward anyone

    def refused_now():  # the policy change is in effect (within a second)
        r = chain.oauth.token({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": chain.user_token(),
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "audience": "svc-c", "scope": "orders.read"}, client=chain.b)
        return r.status_code != 200

    poll(refused_now, "the new delegation policy")
    r = chain.get(chain.user_token())  # a new caller: nothing cached for it
    assert r.status_code == 502, r.text
    at_a = r.json()
    assert at_a["service"] == "svc-a" and at_a["error"] == "downstream", at_a
    at_b = at_a["downstream"]
    assert at_b["service"] == "svc-b" and at_b["error"] == "refused", at_b
    assert at_b["oauthError"] and at_b["message"], at_b  # the token endpoint's reason
    assert chain.served("c")["served"] == calls_at_c  # C was never called


def test_signed_events_reach_the_consumer_once_and_untampered(chain):
    user_token = chain.user_token()
    r = requests.post(chain.gateway.url + "/v1/orders", data=json.dumps({"order": 42}),
                      headers={"Authorization": "Bearer " + user_token,
                               "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text + chain.logs()
    body = r.json()
    assert body["consumer"]["ok"] is True, body
    assert body["consumer"]["signer"] == chain.a[0]
    assert body["consumer"]["claims"]["order"] == 42
    assert body["consumer"]["claims"]["event_aud"] == "billing"
    event = body["event"]
    # Deliveries straight to the consumer, with A's own transport token.
    r = chain.oauth.token({"grant_type": "client_credentials", "scope": "events.write",
                           "audience": "billing"}, client=chain.a)
    assert r.status_code == 200, r.text
    transport = {"Authorization": "Bearer " + r.json()["access_token"]}

    def deliver(token):
        return requests.post(chain.url["consumer"] + "/events", data=token, headers=transport,
                             timeout=10)

    r = deliver(event)  # replayed
    assert r.status_code == 400 and r.json()["reason"] == "replayed", r.text
    h, p, s = event.split(".")
    forged = dict(claims(event), order=43)
    p2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    r = deliver(f"{h}.{p2}.{s}")  # tampered
    assert r.status_code == 400 and r.json()["reason"] == "bad_signature", r.text
    r = deliver(user_token)  # an access token is not an event
    assert r.status_code == 400 and r.json()["reason"] == "wrong_type", r.text
    assert chain.served("consumer") == {"accepted": 1, "refused": 3}


def test_the_chain_runs_on_cached_tokens_while_portcullis_is_down_and_recovers(chain):
    cached = chain.user_token()
    fresh = chain.user_token()  # never used before the stop: nothing cached for it
    assert chain.get(cached).status_code == 200
    calls_at_c = chain.served("c")["served"]
    chain.server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(chain.oauth.url + "/oauth2/keys", timeout=5)
    # Zero failures while the tokens are valid: gateway, A and B answer from their caches.
    statuses = [chain.get(cached).status_code for _ in range(200)]
    assert statuses == [200] * 200, statuses
    assert chain.served("c")["served"] == calls_at_c + 200
    # A caller whose token needs an exchange gets a clear answer, not a hang.
    r = chain.get(fresh)
    assert r.status_code == 502 and r.json()["error"] == "unavailable", r.text
    chain.server.start()
    # The services recover on their own (A's back-off after the failed exchange is short).
    poll(lambda: chain.get(fresh).status_code == 200, "the chain to recover", deadline_s=30)
    assert chain.get(cached).status_code == 200
    r = chain.get(chain.user_token())  # a new caller after the restart
    assert r.status_code == 200, r.text


def test_a_signing_key_rotation_costs_no_call(chain):
    before = chain.user_token()
    assert chain.get(before).status_code == 200
    old_kid = kid(before)
    published = {k["kid"] for k in
                 requests.get(chain.oauth.url + "/oauth2/keys", timeout=10).json()["keys"]}
    r = chain.oauth.admin("POST", "/oauth2/keys/rotate")
    assert r.status_code == 200, r.text
    statuses = []

    def rotated():
        # Every call meanwhile succeeds: old tokens, and new ones whose kid the verifiers
        # fetch on first sight.
        t = chain.user_token()
        statuses.append(chain.get(t).status_code)
        statuses.append(chain.get(before).status_code)
        return kid(t) != old_kid and t

    after = poll(rotated, "tokens signed by the new key", deadline_s=30)
    assert kid(after) not in published  # the verifiers had never seen it: they fetched it
    r = chain.get(after)
    assert r.status_code == 200, r.text + chain.logs()
    at_c = r.json()["next"]["next"]
    assert at_c["claims"]["act"] == {"sub": chain.b[0], "act": {"sub": chain.a[0]}}
    assert set(statuses) == {200}, statuses
