"""examples/resource_server, the tiny C++ resource server built on libportcullis-verify, against
the real Portcullis: keys from /oauth2/keys, the endpoint table from the registry (with a
client_credentials token of its own), the deny-list from /oauth2/revoked. And offline, with a
static JWKS, for tokens only a test can sign (expired, other profiles)."""
import base64
import json
import os
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BIN, skip_unless_available
from oauth_fixtures import BOOT_ID, BOOT_SECRET, oauth  # noqa: F401
from test_verify import Petstore, foreign, tampered

EXAMPLE_BIN = os.path.join(os.path.dirname(BIN), "examples/resource_server/resource_server")


class ResourceServer:
    def __init__(self, *args):
        if not os.path.exists(EXAMPLE_BIN):
            skip_unless_available("example", "examples/resource_server is not built")
        self.tmp = tempfile.mkdtemp(prefix="portcullis-rs-")
        port_file = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "rs.log"), "wb")
        self.proc = subprocess.Popen([EXAMPLE_BIN, "--listen", "127.0.0.1:0",
                                      "--port-file", port_file, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("resource_server exited:\n" + self.logs())
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.url = "http://127.0.0.1:" + open(port_file).read().strip()
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("resource_server did not start:\n" + self.logs())

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.tmp, "rs.log")) as f:
            return f.read()

    def get(self, path, token=None, method="GET", **headers):
        if token:
            headers["Authorization"] = "Bearer " + token
        return requests.request(method, self.url + path, headers=headers, timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def rs_factory():
    started = []

    def make(*args):
        s = ResourceServer(*args)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def online(oauth, rs_factory, *extra):  # noqa: F811
    u = oauth.url
    return rs_factory("--issuer", u, "--jwks-url", u + "/oauth2/keys", "--registry-url", u,
                      "--service-id", "petstore", "--token-url", u + "/oauth2/token",
                      "--client-id", BOOT_ID, "--client-secret", BOOT_SECRET,
                      "--revoked-url", u + "/oauth2/revoked", *extra)


def test_library_against_the_real_server(oauth, rs_factory):  # noqa: F811
    pets = Petstore(oauth)
    rs = online(oauth, rs_factory)
    token = pets.token(pets.reader)
    r = rs.get("/v1/pets/42", token)
    assert r.status_code == 200, r.text + rs.logs()
    assert r.json()["clientId"] == pets.reader[0] and r.json()["scope"] == "pets.r"
    assert rs.get("/v1/pets", pets.token(pets.light)).status_code == 200  # light-4j profile

    r = rs.get("/v1/pets/42", token, method="DELETE")
    assert r.status_code == 403 and r.json()["code"] == "ERR10005"
    assert r.headers["WWW-Authenticate"] == \
        'Bearer error="insufficient_scope", scope="pets.admin pets.w"'
    assert rs.get("/v1/pets", pets.token(pets.outsider)).status_code == 403
    assert rs.get("/v2/other", token).json()["code"] == "ERR10007"

    for bad in (tampered(token, scope="pets.admin"), foreign(token), "garbage", None):
        r = rs.get("/v1/pets", bad)
        assert r.status_code == 401, (bad, r.text)
        assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'

    # Two tokens: the user's in Authorization, the calling service's in X-Scope-Token.
    _, user = pets.user_token()
    assert rs.get("/v1/pets", user).status_code == 403
    r = rs.get("/v1/pets", user, **{"X-Scope-Token": token})
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == "alice" and r.json()["callerClientId"] == pets.reader[0]


def test_deny_list_and_registry_changes_are_pulled(oauth, rs_factory):  # noqa: F811
    pets = Petstore(oauth)
    rs = online(oauth, rs_factory, "--refresh-s", "1")
    token = pets.token(pets.reader)
    assert rs.get("/v1/pets", token).status_code == 200
    requests.post(oauth.url + "/oauth2/revoke", data={"token": token}, auth=pets.reader,
                  timeout=10)
    deadline = time.time() + 10
    while rs.get("/v1/pets", token).status_code == 200 and time.time() < deadline:
        time.sleep(0.1)
    r = rs.get("/v1/pets", token)
    assert r.status_code == 401 and r.json()["reason"] == "revoked", r.text

    token = pets.token(pets.reader)
    oauth.admin("POST", "/oauth2/service/petstore/endpoint", json=[
        {"endpoint": "/v1/pets@get", "operation": "listPets", "scope": "pets.secret"}])
    deadline = time.time() + 10
    while rs.get("/v1/pets", token).status_code == 200 and time.time() < deadline:
        time.sleep(0.1)
    assert rs.get("/v1/pets", token).status_code == 403


def test_key_rotation_is_picked_up_without_restart(oauth, rs_factory):  # noqa: F811
    pets = Petstore(oauth)
    rs = online(oauth, rs_factory, "--refetch-interval-s", "1")
    old = pets.token(pets.reader)
    assert rs.get("/v1/pets", old).status_code == 200
    old_kid = json.loads(base64.urlsafe_b64decode(old.split(".")[0] + "=="))["kid"]
    # Emergency revocation of the signing key: the server signs with a new kid at once.
    r = oauth.admin("POST", f"/oauth2/keys/{old_kid}/revoke")
    assert r.status_code == 200, r.text
    new = pets.token(pets.reader)
    assert new.split(".")[0] != old.split(".")[0]
    deadline = time.time() + 10
    while rs.get("/v1/pets", new).status_code != 200 and time.time() < deadline:
        time.sleep(0.1)  # the first unknown-kid refetch may fall inside the rate limit
    assert rs.get("/v1/pets", new).status_code == 200, rs.logs()
    # The revoked key left the JWKS with that refetch.
    r = rs.get("/v1/pets", old)
    assert r.status_code == 401 and r.json()["reason"] == "unknown_kid", r.text


def test_offline_static_keys_both_profiles_and_expiry(rs_factory):
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks = {"keys": [dict(json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key())), kid="100"),
                     dict(json.loads(ECAlgorithm.to_jwk(ec_key.public_key())), kid="e1")]}
    tmp = tempfile.mkdtemp(prefix="portcullis-rs-keys-")
    with open(os.path.join(tmp, "jwks.json"), "w") as f:
        json.dump(jwks, f)
    iss = "urn:com:networknt:oauth2:v1"
    rs = rs_factory("--issuer", iss, "--jwks-file", os.path.join(tmp, "jwks.json"),
                    "--endpoints-json", json.dumps([{"endpoint": "/v1/pets@get", "scope": "pets.r"}]))
    now = int(time.time())
    light = {"iss": iss, "aud": "urn:com.networknt", "exp": now + 600, "jti": "a", "iat": now,
             "nbf": now - 120, "version": "1.0", "client_id": "c1", "scope": ["pets.r", "pets.w"]}
    rfc = {"iss": iss, "sub": "alice", "aud": "api", "exp": now + 600, "iat": now, "jti": "b",
           "client_id": "c2", "user_id": "alice", "scope": "pets.r"}
    t1 = pyjwt.encode(light, rsa_key, algorithm="RS256", headers={"kid": "100", "typ": "JWT"})
    t2 = pyjwt.encode(rfc, ec_key, algorithm="ES256", headers={"kid": "e1", "typ": "at+jwt"})
    assert rs.get("/v1/pets", t1).json()["clientId"] == "c1"
    assert rs.get("/v1/pets", t2).json()["userId"] == "alice"
    expired = pyjwt.encode({**light, "exp": now - 120}, rsa_key, algorithm="RS256",
                           headers={"kid": "100"})
    r = rs.get("/v1/pets", expired)
    assert r.status_code == 401 and r.json()["code"] == "ERR10001", r.text
    early = pyjwt.encode({**rfc, "nbf": now + 600}, ec_key, algorithm="ES256",
                         headers={"kid": "e1"})
    assert rs.get("/v1/pets", early).json()["reason"] == "not_yet_valid"
    other_iss = pyjwt.encode({**light, "iss": "https://evil"}, rsa_key, algorithm="RS256",
                             headers={"kid": "100"})
    assert rs.get("/v1/pets", other_iss).json()["reason"] == "wrong_issuer"
    hs = pyjwt.encode(light, "secret", algorithm="HS256", headers={"kid": "100"})
    assert rs.get("/v1/pets", hs).json()["reason"] == "alg_not_allowed"
