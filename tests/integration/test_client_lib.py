"""libportcullis-client against the real Portcullis, through examples/client_call (a command-line
caller on the library that prints one JSON line per call and its stats at the end):
client_credentials with client_secret_basic and private_key_jwt, caching, token exchange down a
chain (act, narrowed scope, a hop the delegation policy refuses), the light-4j two-token
headers accepted by /oauth2/verify, DPoP proofs accepted by /oauth2/verify (also against a
server that requires DPoP nonces), and calls that keep succeeding while Portcullis is stopped
and restarted."""
import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests
from jwcrypto import jwk

from conftest import BIN, Portcullis, poll, skip_unless_available
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, oauth  # noqa: F401
from test_dpop import DpopKey, htu

CLIENT_CALL = os.path.join(os.path.dirname(BIN), "examples/client_call/client_call")


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def header(jwt):
    p = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def client_call(*args, timeout=60):
    """Runs client_call; returns (exit code, the per-call lines, the stats)."""
    if not os.path.exists(CLIENT_CALL):
        skip_unless_available("example", "examples/client_call is not built")
    p = subprocess.run([CLIENT_CALL, *args], capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert lines and "stats" in lines[-1], p.stdout + p.stderr
    return p.returncode, lines[:-1], lines[-1]["stats"]


def bearer(line):
    assert line["ok"], line
    scheme, token = line["headers"]["Authorization"].split(" ", 1)
    return scheme, token


ORDERS = ({"endpoint": "/v1/orders@get", "operation": "list", "scope": "orders.read"},
          {"endpoint": "/v1/orders@post", "operation": "add", "scope": "orders.write"})


def add_service(oauth, service_id, scope, endpoints=ORDERS):
    """A registered service; its endpoints define the scopes a token for it may carry."""
    r = oauth.admin("POST", "/oauth2/service", json={
        "serviceId": service_id, "serviceType": "openapi", "serviceName": service_id,
        "serviceDesc": "x", "host": "lightapi.net", "ownerId": "admin", "scope": scope})
    assert r.status_code == 200, r.text
    if endpoints:
        r = oauth.admin("POST", f"/oauth2/service/{service_id}/endpoint", json=list(endpoints))
        assert r.status_code == 200, r.text


def secret_args(oauth, cid, secret):
    return ["--token-url", oauth.url + "/oauth2/token", "--client-id", cid,
            "--client-secret", secret]


def test_client_credentials_are_cached_per_audience_and_scope(oauth):
    add_service(oauth, "svc-b", "orders.read orders.write")
    cid, secret = oauth.create_client("trusted", scope="orders.read orders.write")
    rc, lines, stats = client_call(*secret_args(oauth, cid, secret), "--audience", "svc-b",
                                   "--scope", "orders.read", "--repeat", "5")
    assert rc == 0, lines
    tokens = {bearer(line)[1] for line in lines}
    assert len(tokens) == 1 and len(lines) == 5
    assert stats["token_requests"] == 1 and stats["cache_hits"] == 4, stats
    c = claims(tokens.pop())
    assert c["aud"] == "svc-b" and c["client_id"] == cid, c
    assert c["scope"] in ("orders.read", ["orders.read"]), c


def test_a_refusal_reports_the_oauth_error(oauth):
    cid, _ = oauth.create_client("trusted", scope="orders.read")
    rc, lines, stats = client_call(*secret_args(oauth, cid, "wrong-secret"), "--scope",
                                   "orders.read", "--repeat", "3")
    assert rc == 1
    assert lines[0]["ok"] is False and lines[0]["kind"] == "refused", lines
    assert lines[0]["status"] == 401 and lines[0]["error"] == "invalid_client", lines
    # Back-off: the next calls fail at once without asking again.
    assert all(not line["ok"] for line in lines)
    assert stats["token_requests"] == 1, stats


def test_private_key_jwt(oauth, tmp_path):
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    cid, secret = oauth.create_client(
        "confidential", scope="orders.read", authMethod="private_key_jwt",
        jwks={"keys": [json.loads(key.export_public())]})
    assert secret is None
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.export_to_pem(private_key=True, password=None))
    args = ["--token-url", oauth.url + "/oauth2/token", "--client-id", cid,
            "--private-key-file", str(pem), "--key-id", "k1", "--scope", "orders.read"]
    rc, lines, stats = client_call(*args, "--repeat", "2")
    assert rc == 0, lines
    assert claims(bearer(lines[0])[1])["client_id"] == cid
    # A fresh assertion (new jti) per request: a second process is not refused as a replay.
    rc, lines, _ = client_call(*args)
    assert rc == 0, lines
    # Another key under the registered kid is refused.
    other = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    pem.write_bytes(other.export_to_pem(private_key=True, password=None))
    rc, lines, _ = client_call(*args)
    assert rc == 1 and lines[0]["error"] == "invalid_client", lines


def chain(oauth):
    """Services svc-b and svc-c; client A may act toward B (orders.read only), B toward C; A
    may not act toward C. Returns (A, B, user token from the portal client)."""
    add_service(oauth, "svc-b", "orders.read orders.write")
    add_service(oauth, "svc-c", "orders.read orders.write")
    a = oauth.create_client("confidential", scope="orders.read orders.write")
    b = oauth.create_client("confidential", scope="orders.read orders.write")
    for (cid, _), policy in ((a, [{"audience": "svc-b", "scope": "orders.read", "maxDepth": 3}]),
                             (b, [{"audience": "svc-c", "scope": "orders.read", "maxDepth": 3}])):
        r = oauth.admin("PUT", f"/oauth2/client/{cid}/delegation", json=policy)
        assert r.status_code == 200, r.text
    portal = oauth.create_client("trusted", scope="orders.read orders.write")
    user, pw = oauth.create_user()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw}, client=portal)
    assert r.status_code == 200, r.text
    return a, b, r.json()["access_token"]


def test_exchange_down_a_chain_narrows_scope_and_records_act(oauth):
    a, b, user_token = chain(oauth)
    user_scope = claims(user_token)["scope"]
    assert set(user_scope.split() if isinstance(user_scope, str) else user_scope) == {
        "orders.read", "orders.write"}
    # A -> B: the user's token holds both scopes; the exchanged one only what the policy allows.
    rc, lines, stats = client_call(*secret_args(oauth, *a), "--exchange", "Bearer " + user_token,
                                   "--audience", "svc-b", "--scope", "orders.read",
                                   "--repeat", "3")
    assert rc == 0, lines
    assert stats["exchange_requests"] == 1 and stats["cache_hits"] == 2, stats
    _, to_b = bearer(lines[0])
    cb = claims(to_b)
    assert cb["aud"] == "svc-b" and cb["user_id"] == "alice", cb
    assert cb["scope"] in ("orders.read", ["orders.read"]), cb
    assert cb["act"] == {"sub": a[0]}, cb
    # B -> C with the token B received: the chain grows, the user stays.
    rc, lines, _ = client_call(*secret_args(oauth, *b), "--exchange", to_b, "--audience",
                               "svc-c", "--scope", "orders.read")
    assert rc == 0, lines
    cc = claims(bearer(lines[0])[1])
    assert cc["aud"] == "svc-c" and cc["user_id"] == "alice", cc
    assert cc["act"] == {"sub": b[0], "act": {"sub": a[0]}}, cc
    # A -> B with a scope the policy does not delegate: refused.
    rc, lines, _ = client_call(*secret_args(oauth, *a), "--exchange", user_token, "--audience",
                               "svc-b", "--scope", "orders.write")
    assert rc == 1 and lines[0]["kind"] == "refused" and lines[0]["error"] == "invalid_scope", lines
    # A -> C: no delegation policy allows it.
    rc, lines, _ = client_call(*secret_args(oauth, *a), "--exchange", user_token, "--audience",
                               "svc-c", "--scope", "orders.read")
    assert rc == 1 and lines[0]["kind"] == "refused", lines
    assert 400 <= lines[0]["status"] < 500, lines


def verify_two_tokens(oauth, h, method):
    return requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
        "Authorization": h["Authorization"], "X-Scope-Token": h["X-Scope-Token"],
        "X-Original-Method": method, "X-Original-URI": "/v1/orders", "X-Service-Id": "svc-b"})


def test_two_token_headers_are_accepted_by_verify(oauth):
    """The headers the library makes pass light-oauth2's two-token check at /oauth2/verify: the
    identity is the user's (Authorization), the scope check is made on our X-Scope-Token."""
    add_service(oauth, "svc-b", "orders.read orders.write")
    cid, secret = oauth.create_client("trusted", scope="orders.read")
    # A user token from another client, with no orders scope at all.
    portal = oauth.create_client("trusted", scope="petstore.r")
    user, pw = oauth.create_user()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw,
                     "scope": "petstore.r"}, client=portal)
    assert r.status_code == 200, r.text
    user_token = r.json()["access_token"]
    rc, lines, _ = client_call(*secret_args(oauth, cid, secret), "--two-token",
                               "Bearer " + user_token, "--audience", "svc-b", "--scope",
                               "orders.read")
    assert rc == 0, lines
    h = lines[0]["headers"]
    assert h["Authorization"] == "Bearer " + user_token
    scheme, own = h["X-Scope-Token"].split(" ", 1)
    assert scheme == "Bearer" and claims(own)["client_id"] == cid
    # GET /v1/orders needs orders.read: the user lacks it, our scope token has it.
    r = verify_two_tokens(oauth, h, "GET")
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.headers["X-User-Id"] == "alice" and r.headers["X-Client-Id"] == portal[0], r.headers
    assert r.headers["X-Scope-Client-Id"] == cid, r.headers
    # POST needs orders.write, which our token lacks: refused, whatever the user holds.
    r = verify_two_tokens(oauth, h, "POST")
    assert r.status_code == 403 and "insufficient_scope" in r.headers["WWW-Authenticate"], r.text
    # Without the scope token the user's own token is checked, and lacks orders.read.
    r = requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
        "Authorization": h["Authorization"], "X-Original-Method": "GET",
        "X-Original-URI": "/v1/orders", "X-Service-Id": "svc-b"})
    assert r.status_code == 403, r.text


def test_dpop_bound_tokens_and_a_proof_per_request(oauth, tmp_path):
    add_service(oauth, "svc-b", "orders.read")
    cid, secret = oauth.create_client("trusted", scope="orders.read")
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    pem = tmp_path / "dpop.pem"
    pem.write_bytes(key.export_to_pem(private_key=True, password=None))
    rc, lines, stats = client_call(*secret_args(oauth, cid, secret), "--dpop-key-file", str(pem),
                                   "--audience", "svc-b", "--scope", "orders.read", "--method",
                                   "GET", "--url", "https://api.example.com/v1/orders",
                                   "--repeat", "2")
    assert rc == 0, lines
    assert stats["token_requests"] == 1, stats
    scheme, token = bearer(lines[0])
    assert scheme == "DPoP"
    assert claims(token)["cnf"]["jkt"] == key.thumbprint()
    proofs = [line["headers"]["DPoP"] for line in lines]
    assert proofs[0] != proofs[1] and header(proofs[0])["typ"] == "dpop+jwt"

    def verify(proof):
        return requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
            "Authorization": "DPoP " + token, "DPoP": proof, "X-Original-Method": "GET",
            "X-Original-URI": "/v1/orders", "X-Service-Id": "svc-b",
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"})

    for proof in proofs:
        r = verify(proof)
        assert r.status_code == 204, (r.status_code, r.headers, r.text)
    r = verify(proofs[0])  # a proof is good once
    assert r.status_code == 401 and "invalid_dpop_proof" in r.headers["WWW-Authenticate"]


def start_on(port, tmp, ttl_s):
    """Portcullis on a fixed port (a restart must come back where the client looks)."""
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env.update({"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64,
                "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                "PORTCULLIS_TOKEN_ACCESS_TOKEN_TTL_S": str(ttl_s)})
    log = open(os.path.join(tmp, "server.log"), "ab")
    proc = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}", "--port-file",
                             port_file, "--store", "sqlite:" + os.path.join(tmp, "portcullis.db")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    poll(lambda: proc.poll() is not None or (os.path.exists(port_file)
                                              and open(port_file).read().strip()),
         "portcullis to listen", deadline_s=20)
    assert proc.poll() is None, open(os.path.join(tmp, "server.log")).read()
    return proc


def test_calls_keep_succeeding_while_portcullis_is_stopped_and_restarted():
    if not os.path.exists(CLIENT_CALL):
        skip_unless_available("example", "examples/client_call is not built")
    first = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                            "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                            "PORTCULLIS_TOKEN_ACCESS_TOKEN_TTL_S": "60"})
    from oauth_fixtures import OAuthServer
    oauth_ = OAuthServer(first)
    cid, secret = oauth_.create_client("trusted", scope="orders.read")
    port, tmp = first.port, first.tmp
    # The same database, on a port we choose.
    assert first.stop() == 0
    proc = start_on(port, tmp, 60)
    url = f"http://127.0.0.1:{port}"
    # Renew after 10% of the 60 s lifetime (6 s); back off 100 ms doubling to 1 s.
    caller = subprocess.Popen(
        [CLIENT_CALL, "--token-url", url + "/oauth2/token", "--client-id", cid,
         "--client-secret", secret, "--scope", "orders.read", "--repeat", "100000",
         "--interval-ms", "20", "--renew-at", "0.1", "--renew-jitter", "0", "--backoff-initial-ms", "100",
         "--backoff-max-ms", "1000", "--deadline-ms", "2000"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "client_call.log"), "w"), text=True)
    seen = []

    def read_until(pred, what, deadline_s):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            line = caller.stdout.readline()
            assert line, "client_call ended: " + "".join(map(json.dumps, seen[-3:]))
            seen.append(json.loads(line))
            assert seen[-1].get("ok"), seen[-1]  # not a single failed call
            if pred(seen[-1]):
                return seen[-1]
        raise AssertionError("timed out waiting for " + what + "\n" +
                             open(os.path.join(tmp, "client_call.log")).read()[-2000:])

    try:
        first_token = bearer(read_until(lambda line: True, "a first call", 20))[1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        # Down across the renewal time (6 s): renewals fail, calls go on with the cached token.
        n = len(seen)
        # ...until a renewal has been tried and failed (the log says so), at least 400 calls.
        log_path = os.path.join(tmp, "client_call.log")
        read_until(lambda line: len(seen) >= n + 400 and "token_error" in open(log_path).read(),
                   "calls while Portcullis is down, and a failed renewal", 60)
        assert all(bearer(line)[1] == first_token for line in seen)
        proc = start_on(port, tmp, 60)
        # Back: the next renewal succeeds on its own (back-off at most 1 s).
        read_until(lambda line: bearer(line)[1] != first_token, "a renewed token", 30)
        # Renewals were tried, and failed, while it was down.
        with open(os.path.join(tmp, "client_call.log")) as f:
            assert "token_error" in f.read()
    finally:
        caller.send_signal(signal.SIGTERM)
        caller.wait(timeout=10)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_signed_events_are_verified_once_and_are_never_access_tokens(oauth):
    add_service(oauth, "svc-b", "orders.read")
    cid, secret = oauth.create_client("trusted", scope="orders.read")
    rc, lines, _ = client_call(*secret_args(oauth, cid, secret), "--sign",
                               json.dumps({"order": 42, "aud": "svc-b", "client_id": "forged"}),
                               "--event-audience", "billing")
    assert rc == 0 and lines[0]["ok"], lines
    event = lines[0]["event"]
    assert header(event)["typ"] == "payload+jwt"
    c = claims(event)
    # Reserved claims come from Portcullis, never from the payload.
    assert c["client_id"] == cid and c["aud"] == "urn:portcullis:signed-payload", c
    assert c["event_aud"] == "billing" and c["order"] == 42, c

    def consume(token, *extra, signer=cid, audience="billing"):
        return client_call("--verify-event", token, "--jwks-url", oauth.url + "/oauth2/keys",
                           "--issuer", oauth.url, "--signer", signer, "--event-audience",
                           audience, *extra)

    # Accepted once; the second delivery is a replay.
    rc, lines, _ = consume(event, "--repeat", "2")
    assert [line["reason"] for line in lines] == ["ok", "replayed"], lines
    assert lines[0]["claims"]["order"] == 42
    # Tampered: the payload changed, the signature kept.
    h, p, s = event.split(".")
    forged = dict(c, order=43)
    p2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    rc, lines, _ = consume(f"{h}.{p2}.{s}")
    assert rc == 1 and lines[0]["reason"] == "bad_signature", lines
    # From another signer, or for another consumer: refused.
    rc, lines, _ = consume(event, signer="svc-x")
    assert lines[0]["reason"] == "unknown_signer", lines
    rc, lines, _ = consume(event, audience="shipping")
    assert lines[0]["reason"] == "wrong_event_audience", lines
    # An access token is not an event...
    rc, lines, _ = client_call(*secret_args(oauth, cid, secret), "--audience", "svc-b",
                               "--scope", "orders.read")
    access_token = bearer(lines[0])[1]
    rc, lines, _ = consume(access_token)
    assert rc == 1 and lines[0]["reason"] == "wrong_type", lines
    # ...and an event is not an access token.
    r = requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
        "Authorization": "Bearer " + event, "X-Original-Method": "GET",
        "X-Original-URI": "/v1/orders", "X-Service-Id": "svc-b"})
    assert r.status_code == 401, r.text


def test_signed_events_with_private_key_jwt_and_a_public_client_refused(oauth, tmp_path):
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    cid, _ = oauth.create_client(
        "confidential", scope="orders.read", authMethod="private_key_jwt",
        jwks={"keys": [json.loads(key.export_public())]})
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.export_to_pem(private_key=True, password=None))
    args = ["--token-url", oauth.url + "/oauth2/token", "--client-id", cid,
            "--private-key-file", str(pem), "--key-id", "k1"]
    rc, lines, _ = client_call(*args, "--sign", json.dumps({"order": 42}))
    assert rc == 0 and lines[0]["ok"], lines
    c = claims(lines[0]["event"])
    assert c["client_id"] == cid and c["order"] == 42, c
    # A second event: a fresh assertion, not refused as a replayed one.
    rc, lines, _ = client_call(*args, "--sign", json.dumps({"order": 43}))
    assert rc == 0 and claims(lines[0]["event"])["order"] == 43, lines
    # Another key under the registered kid signs nothing.
    other = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    pem.write_bytes(other.export_to_pem(private_key=True, password=None))
    rc, lines, _ = client_call(*args, "--sign", json.dumps({"order": 44}))
    assert rc == 1 and lines[0]["kind"] == "refused", lines
    # A client id alone authenticates nobody: a public client cannot sign.
    public, _ = oauth.create_client("public", scope="orders.read")
    r = requests.post(oauth.url + "/oauth2/signing", timeout=10,
                      json={"expires": 60, "payload": {"x": 1}, "client_id": public})
    assert r.status_code in (400, 401) and r.json()["code"] == "ERR12002", r.text
    # A secret goes in the Basic header only: in the body it is no credential.
    r = requests.post(oauth.url + "/oauth2/signing", timeout=10,
                      json={"expires": 60, "payload": {"x": 1}, "client_secret": "x"})
    assert r.status_code == 400 and r.json()["code"] == "ERR11017", r.text


def test_tls_client_auth_over_mutual_tls(tmp_path):
    from test_mtls import Api, Pki, start_server
    pki = Pki(tmp_path)
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, f"server.tls_cert={pki.path('server.pem')}",
                     f"server.tls_key={pki.path('server.key')}", "server.tls_client_certs=true",
                     f"server.tls_client_ca={pki.path('ca.pem')}")
    try:
        api = Api(f"https://127.0.0.1:{s.port}", verify=pki.path("server.pem"))
        cert, key = pki.issued("client1", "/O=Example/CN=client1")
        c = api.register(authMethod="tls_client_auth", tlsClientAuthSubjectDn=pki.subject_dn(cert))
        args = ["--token-url", api.url + "/oauth2/token", "--client-id", c["clientId"],
                "--tls-cert-file", cert, "--tls-key-file", key, "--scope", "petstore.r"]
        rc, lines, _ = client_call(*args, "--ca-file", pki.path("server.pem"))
        assert rc == 0, lines
        at = bearer(lines[0])[1]
        assert claims(at)["client_id"] == c["clientId"]
        assert claims(at)["cnf"] == {"x5t#S256": pki.thumbprint(cert)}  # certificate-bound
        # Signed events with the certificate as the credential.
        rc, lines, _ = client_call(*args, "--ca-file", pki.path("server.pem"), "--sign",
                                   json.dumps({"order": 42}))
        assert rc == 0 and lines[0]["ok"], lines
        assert claims(lines[0]["event"])["client_id"] == c["clientId"]
        # The server's certificate is checked: without its trust anchor, no token.
        rc, lines, _ = client_call(*args)
        assert rc == 1 and lines[0]["kind"] == "unavailable" and "tls" in lines[0]["message"], lines
        # Another CA-issued certificate with another name is not this client.
        other_cert, other_key = pki.issued("client2", "/O=Example/CN=client2")
        rc, lines, _ = client_call("--token-url", api.url + "/oauth2/token", "--client-id",
                                   c["clientId"], "--tls-cert-file", other_cert, "--tls-key-file",
                                   other_key, "--ca-file", pki.path("server.pem"))
        assert rc == 1 and lines[0]["error"] == "invalid_client", lines
    finally:
        assert s.stop() == 0, s.read_log()


@pytest.fixture
def nonces():
    """Portcullis with DPoP server nonces required (dpop.require_nonce, RFC 9449 §8)."""
    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_DPOP_REQUIRE_NONCE": "true"})
    yield OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def test_dpop_nonce_retry_against_a_server_that_requires_nonces(nonces, tmp_path):
    oauth = nonces
    add_service(oauth, "svc-b", "orders.read")
    cid, secret = oauth.create_client("trusted", scope="orders.read")
    request = {"grant_type": "client_credentials", "audience": "svc-b", "scope": "orders.read"}
    # What the library meets: a proof without the server's nonce is refused.
    r = oauth.token(request, client=(cid, secret), headers={"DPoP": DpopKey().proof(htu(oauth))})
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce", r.text
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    pem = tmp_path / "dpop.pem"
    pem.write_bytes(key.export_to_pem(private_key=True, password=None))
    rc, lines, stats = client_call(*secret_args(oauth, cid, secret), "--dpop-key-file", str(pem),
                                   "--audience", "svc-b", "--scope", "orders.read", "--method",
                                   "GET", "--url", "https://api.example.com/v1/orders?page=2#top",
                                   "--repeat", "2")
    assert rc == 0, lines
    # One token request, sent twice: the second time with the nonce of the first answer.
    assert stats["token_requests"] == 1 and stats["dpop_nonce_retries"] == 1, stats
    scheme, token = bearer(lines[0])
    assert scheme == "DPoP" and claims(token)["cnf"]["jkt"] == key.thumbprint()
    proofs = [line["headers"]["DPoP"] for line in lines]
    for proof in proofs:
        # RFC 9449 §4.2: htu without query and fragment.
        assert claims(proof)["htu"] == "https://api.example.com/v1/orders", claims(proof)
        r = requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
            "Authorization": "DPoP " + token, "DPoP": proof, "X-Original-Method": "GET",
            "X-Original-URI": "/v1/orders?page=2", "X-Service-Id": "svc-b",
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"})
        assert r.status_code == 204, (r.status_code, r.headers, r.text)


def test_call_returns_at_the_deadline_when_the_callee_never_answers(oauth):
    """Client::Call keeps the caller's deadline: a callee that takes the connection and never
    answers costs the deadline (1.5 s), not the HTTP timeout (3 s), and says so (kDeadline)."""
    add_service(oauth, "svc-b", "orders.read")
    cid, secret = oauth.create_client("trusted", scope="orders.read")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        url = "http://127.0.0.1:%d/v1/orders" % silent.getsockname()[1]
        rc, lines, stats = client_call(*secret_args(oauth, cid, secret), "--audience", "svc-b",
                                       "--scope", "orders.read", "--call", "yes", "--url", url,
                                       "--deadline-ms", "1500", timeout=30)
    assert rc == 1 and lines[0]["kind"] == "deadline", lines
    assert "no answer within the deadline" in lines[0]["message"], lines
    assert stats["token_requests"] == 1 and stats["deadline_exceeded"] == 1, stats
