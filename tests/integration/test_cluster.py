"""Cluster mode: two token instances and one admin instance on one PostgreSQL, which this test
starts itself so that it can stop and restart it."""
import os
import subprocess
import threading

import pytest
import requests

from conftest import Portcullis, poll, run_cli, skip_unless_available
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic

ROOT = os.path.join(os.path.dirname(__file__), "../..")
PG = os.path.join(ROOT, "scripts/pg.sh")
MASTER = "4" * 64
ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
       "PORTCULLIS_KEYS_MASTER_KEY": MASTER, "PORTCULLIS_KEYS_PUBLISH_AHEAD_S": "2",
       "PORTCULLIS_LOG_ACCESS": "false",
       # Instances of one cluster share one issuer (the load balancer's address).
       "PORTCULLIS_SERVER_ISSUER": "http://auth.cluster.test"}


def pg(cmd, d):
    r = subprocess.run([PG, cmd, d], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.environ.get("PORTCULLIS_SKIP_CLUSTER"):
        skip_unless_available("cluster", "PORTCULLIS_SKIP_CLUSTER is set")
    import tempfile
    d = tempfile.mkdtemp(prefix="portcullis-cluster-pg-")  # the postgres user must reach it
    url = pg("start", d)
    r = run_cli("migrate", "--store", url, env=ENV)
    assert r.returncode == 0, r.stderr
    admin = Portcullis(args=["--services", "client,service,user,key,refresh-token,provider"],
                       store=url, env=ENV)
    a = Portcullis(args=["--services", "token,code,key"], store=url, env=ENV)
    b = Portcullis(args=["--services", "token,code,key"], store=url, env=ENV)
    c = {"pg_dir": d, "url": url, "admin": admin, "a": a, "b": b}
    yield c
    for s in (a, b, admin):
        s.stop()
    pg("clean", d)


class Cluster:
    def __init__(self, c):
        self.c = c
        self.a = OAuthServer(c["a"])
        self.b = OAuthServer(c["b"])
        self.token_at_a = self.a
        self.admin_url = c["admin"].url

    def admin(self, method, path, **kw):
        headers = {"Authorization": "Bearer " + self.a.admin_token()}
        return requests.request(method, self.admin_url + path, headers=headers, timeout=10, **kw)

    def create_client(self, scope="a b", client_type="trusted"):
        r = self.admin("POST", "/oauth2/client", json={
            "clientType": client_type, "clientProfile": "service", "clientName": "c", "clientDesc": "d",
            "host": "h", "ownerId": "admin", "scope": scope})
        assert r.status_code == 200, r.text
        return r.json()


def wait_until(fn, what, deadline_s=30.0):
    """Polls fn until it holds (generous deadline: a loaded CI machine is slow, not broken)."""
    return poll(fn, what, deadline_s=deadline_s, interval_s=0.02)


def cc(server, client, scope=None):
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return server.token(data, client=(client["clientId"], client["clientSecret"]))


def test_client_changes_reach_both_token_instances_within_a_second(cluster):
    k = Cluster(cluster)
    client = k.create_client("a b")
    for inst in (k.a, k.b):
        wait_until(lambda: cc(inst, client).status_code == 200, "the new client on each instance")
    client["scope"] = "a b c"
    body = {kk: v for kk, v in client.items() if kk != "clientSecret"}
    r = k.admin("PUT", "/oauth2/client", json=body)
    assert r.status_code == 200, r.text
    for inst in (k.a, k.b):
        # Well before the 60 s periodic reload: the notification carried it.
        wait_until(lambda: cc(inst, client, "c").status_code == 200, "the scope change")


def test_both_instances_see_a_key_rotation(cluster):
    k = Cluster(cluster)
    kids = lambda s: {x["kid"] for x in requests.get(s.url + "/oauth2/keys").json()["keys"]}
    before = kids(k.a)
    r = k.admin("POST", "/oauth2/keys/rotate")
    assert r.status_code == 200, r.text
    new_kid = r.json()["kid"]
    for inst in (k.a, k.b):
        wait_until(lambda: new_kid in kids(inst), "the new key in each JWKS")
    # After publish_ahead (2 s here) the new key signs, on both instances.
    client = k.create_client("a")
    import base64, json as j

    def signing_kid(inst):
        r = cc(inst, client)  # 404 until the new client reaches this instance's catalog
        if r.status_code != 200:
            return None
        at = r.json()["access_token"]
        return j.loads(base64.urlsafe_b64decode(at.split(".")[0] + "=="))["kid"]

    for inst in (k.a, k.b):
        wait_until(lambda: signing_kid(inst) == new_kid, "the new key to sign", 30.0)
    assert before <= kids(k.a) | {new_kid}


def test_concurrent_refresh_across_instances_has_one_winner(cluster):
    k = Cluster(cluster)
    client = k.create_client("a")
    r = k.admin("POST", "/oauth2/user", json={
        "userId": "carol", "userType": "employee", "firstName": "C", "lastName": "D",
        "email": "carol@example.com", "password": "pw-carol-123456", "passwordConfirm": "pw-carol-123456"})
    assert r.status_code == 200, r.text
    creds = (client["clientId"], client["clientSecret"])
    t = k.a.token({"grant_type": "password", "username": "carol", "password": "pw-carol-123456"},
                  client=creds).json()
    results = []
    barrier = threading.Barrier(8)

    def attempt(inst):
        barrier.wait()
        results.append(inst.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                                  client=creds).status_code)

    threads = [threading.Thread(target=attempt, args=(k.a if i % 2 else k.b,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(200) == 1, results


def test_database_outage_degrades_and_recovers(cluster):
    k = Cluster(cluster)
    client = k.create_client("a")
    wait_until(lambda: cc(k.a, client).status_code == 200, "the new client on instance A")
    pw_req = {"grant_type": "password", "username": "nobody", "password": "x"}
    creds = (client["clientId"], client["clientSecret"])
    pg("stop", cluster["pg_dir"])
    try:
        # Paths that need no store keep serving.
        assert cc(k.a, client).status_code == 200
        assert requests.get(k.b.url + "/oauth2/keys").status_code == 200
        # Paths that need it answer 503 with a clear error.
        r = k.a.token(pw_req, client=creds)
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "temporarily_unavailable" and r.headers.get("Retry-After")
        assert requests.get(k.a.url + "/ready").status_code == 503
    finally:
        pg("start", cluster["pg_dir"])
    # Back without a restart.
    wait_until(lambda: requests.get(k.a.url + "/ready").status_code == 200, "readiness", 30.0)
    wait_until(lambda: k.a.token(pw_req, client=creds).status_code == 401, "password grants",
               30.0)
    late = k.create_client("z")
    wait_until(lambda: cc(k.b, late).status_code == 200, "a client made after the outage")


def test_code_issued_at_one_instance_is_redeemed_at_the_other(cluster):
    from code_helpers import REDIRECT, basic_user, pkce_pair, query_of
    k = Cluster(cluster)
    # Trusted: HTTP Basic sign-in issues a code to other clients only with a recorded consent.
    r = k.admin("POST", "/oauth2/client", json={
        "clientType": "trusted", "clientProfile": "webserver", "clientName": "web", "clientDesc": "d",
        "host": "h", "ownerId": "admin", "scope": "a", "redirectUris": [REDIRECT]})
    assert r.status_code == 200, r.text
    client = r.json()
    r = k.admin("POST", "/oauth2/user", json={
        "userId": "dave", "userType": "employee", "firstName": "D", "lastName": "E",
        "email": "dave@example.com", "password": "pw-dave-1234567", "passwordConfirm": "pw-dave-1234567"})
    assert r.status_code == 200, r.text
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client["clientId"], "redirect_uri": REDIRECT,
              "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}
    # The new client must have reached instance A's catalog first.
    got = {}

    def issue():
        resp = requests.get(k.a.url + "/oauth2/code", params=params, allow_redirects=False,
                            headers={"Authorization": basic_user("dave", "pw-dave-1234567")})
        got["r"] = resp
        return resp.status_code == 302

    wait_until(issue, "a code from instance A")
    _, q = query_of(got["r"].headers["Location"])
    creds = (client["clientId"], client["clientSecret"])
    r = k.b.token({"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
                   "code_verifier": verifier}, client=creds)
    assert r.status_code == 200, r.text
    # Single use across instances too.
    r = k.a.token({"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
                   "code_verifier": verifier}, client=creds)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
