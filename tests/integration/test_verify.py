"""GET /oauth2/verify (the gateway check behind nginx auth_request) and GET /oauth2/revoked
(the deny-list resource servers pull), against the real binary.

The set-up helpers here are shared by test_verify_nginx.py and test_verify_example.py."""
import base64
import json

import pytest
import requests

from oauth_fixtures import BOOT_ID, BOOT_SECRET, basic, oauth  # noqa: F401

SERVICE = "petstore"
ENDPOINTS = [
    {"endpoint": "/v1/pets@get", "operation": "listPets", "scope": "pets.r"},
    {"endpoint": "/v1/pets/{petId}@get", "operation": "showPet", "scope": "pets.r"},
    {"endpoint": "/v1/pets@post", "operation": "createPet", "scope": "pets.w"},
    {"endpoint": "/v1/pets/{petId}@delete", "operation": "deletePet",
     "scope": "pets.admin pets.w"},
]


class Petstore:
    """A registered service with three clients: a reader (pets.r, RFC 9068 tokens), a light-4j
    reader (pets.r, light-4j tokens) and an outsider without any pets scope."""

    def __init__(self, oauth):  # noqa: F811
        self.oauth = oauth
        r = oauth.admin("POST", "/oauth2/service", json={
            "serviceId": SERVICE, "serviceType": "openapi", "serviceName": "Pet Store",
            "serviceDesc": "pets", "scope": "pets.r pets.w pets.admin", "ownerId": "admin",
            "host": "lightapi.net"})
        assert r.status_code == 200, r.text
        r = oauth.admin("POST", f"/oauth2/service/{SERVICE}/endpoint", json=ENDPOINTS)
        assert r.status_code == 200, r.text
        self.reader = self.linked_client(["/v1/pets@get", "/v1/pets/{petId}@get"])
        self.light = self.linked_client(["/v1/pets@get", "/v1/pets/{petId}@get"],
                                        tokenProfile="light-4j")
        self.outsider = oauth.create_client("trusted", scope="other.r")

    def linked_client(self, endpoints, **fields):
        cid, secret = self.oauth.create_client("trusted", scope="other.r", **fields)
        r = self.oauth.admin("POST", f"/oauth2/client/{cid}/service/{SERVICE}", json=endpoints)
        assert r.status_code == 200, r.text
        return cid, secret

    def token(self, client, **extra):
        r = self.oauth.token({"grant_type": "client_credentials", **extra}, client=client)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def user_token(self, user="alice"):
        """A user's token (password grant) without any pets scope."""
        uid, pw = self.oauth.create_user(user)
        cid, secret = self.oauth.create_client("trusted", scope="profile.r")
        r = self.oauth.token({"grant_type": "password", "username": uid, "password": pw},
                             client=(cid, secret))
        assert r.status_code == 200, r.text
        return cid, r.json()["access_token"]


def claims(jwt):
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def tampered(jwt, **changes):
    """The token with changed claims and its original signature: a forgery."""
    h, p, s = jwt.split(".")
    c = claims(jwt)
    c.update(changes)
    p = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=").decode()
    return f"{h}.{p}.{s}"


def foreign(jwt):
    """The same header and claims signed with a key that is not the server's: a forgery."""
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
    return pyjwt.encode(claims(jwt), key, algorithm="RS256", headers={"kid": header["kid"]})


def verify(oauth, token=None, method="GET", uri="/v1/pets", service=SERVICE,  # noqa: F811
           scope_token=None, headers=None):
    h = {"X-Original-Method": method, "X-Original-URI": uri}
    if service:
        h["X-Service-Id"] = service
    if token:
        h["Authorization"] = "Bearer " + token
    if scope_token:
        h["X-Scope-Token"] = scope_token
    h.update(headers or {})
    return requests.get(oauth.url + "/oauth2/verify", headers=h, timeout=10)


def code(r):
    return r.json().get("code")


@pytest.fixture
def pets(oauth):  # noqa: F811
    return Petstore(oauth)


def test_allowed_call_answers_204_with_identity(oauth, pets):  # noqa: F811
    t = pets.token(pets.reader)
    r = verify(oauth, t)
    assert r.status_code == 204, r.text
    assert r.headers["X-Client-Id"] == pets.reader[0]
    assert r.headers["X-User-Id"] == ""
    assert r.headers["X-Scope"] == "pets.r"
    assert r.headers["X-Subject"] == pets.reader[0]
    assert r.text == ""
    for uri in ("/v1/pets/42", "/v1/pets/42?fields=name", "/v1/pets/"):
        assert verify(oauth, t, uri=uri).status_code == 204, uri
    # Not canonical: refused rather than merged (test_gateway_rules.py has the full list).
    assert verify(oauth, t, uri="//v1/pets").status_code == 403


def test_light4j_and_rfc9068_tokens_are_both_accepted(oauth, pets):  # noqa: F811
    light = pets.token(pets.light)
    assert claims(light)["scope"] == ["pets.r"]  # light-4j: an array
    assert claims(pets.token(pets.reader))["scope"] == "pets.r"  # RFC 9068: a string
    r = verify(oauth, light, uri="/v1/pets/7")
    assert r.status_code == 204, r.text
    assert r.headers["X-Client-Id"] == pets.light[0] and r.headers["X-Scope"] == "pets.r"


def test_missing_scope_is_403(oauth, pets):  # noqa: F811
    t = pets.token(pets.reader)
    r = verify(oauth, t, method="DELETE", uri="/v1/pets/1")
    assert r.status_code == 403, r.text
    assert code(r) == "ERR10005"
    assert r.headers["WWW-Authenticate"] == \
        'Bearer error="insufficient_scope", scope="pets.admin pets.w"'
    r = verify(oauth, pets.token(pets.outsider))
    assert r.status_code == 403 and code(r) == "ERR10005"
    # No endpoint matches: refused too (a gateway must not let unknown paths through).
    for method, uri in [("GET", "/v1/pets/1/toys"), ("PUT", "/v1/pets"), ("GET", "/v2/pets"),
                        ("GET", "/v1/pets/a%2Fb")]:
        r = verify(oauth, t, method=method, uri=uri)
        assert r.status_code == 403 and code(r) == "ERR10007", (method, uri, r.text)
    # An unknown service.
    r = verify(oauth, t, service="nosuch")
    assert r.status_code == 403, r.text


def test_bad_or_missing_tokens_are_401(oauth, pets):  # noqa: F811
    good = pets.token(pets.reader)
    r = verify(oauth)
    assert r.status_code == 401 and code(r) == "ERR10002"
    assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    for bad in (tampered(good, scope="pets.r pets.w pets.admin"), foreign(good), "garbage",
                good[:-4], good.replace(".", "..", 1)):
        r = verify(oauth, bad)
        assert r.status_code == 401 and code(r) == "ERR10000", (bad, r.text)
        assert "invalid_token" in r.headers["WWW-Authenticate"]
    r = verify(oauth, headers={"Authorization": "Basic " + base64.b64encode(b"a:b").decode()})
    assert r.status_code == 401 and code(r) == "ERR10002"


def test_revoked_token_is_401(oauth, pets):  # noqa: F811
    t = pets.token(pets.reader)
    assert verify(oauth, t).status_code == 204
    r = requests.post(oauth.url + "/oauth2/revoke", data={"token": t}, auth=pets.reader, timeout=10)
    assert r.status_code == 200, r.text
    r = verify(oauth, t)
    assert r.status_code == 401 and "revoked" in r.json()["error_description"], r.text


def test_two_token_pattern(oauth, pets):  # noqa: F811
    user_client, user = pets.user_token()
    caller = pets.token(pets.reader)
    assert verify(oauth, user).status_code == 403  # the user's token alone lacks pets.r
    r = verify(oauth, user, scope_token=caller)
    assert r.status_code == 204, r.text
    assert r.headers["X-User-Id"] == "alice"  # identity from Authorization
    assert r.headers["X-Client-Id"] == user_client
    assert r.headers["X-Scope-Client-Id"] == pets.reader[0]
    assert verify(oauth, user, scope_token="Bearer " + caller).status_code == 204
    # The scope check is made on the scope token alone.
    r = verify(oauth, caller, method="DELETE", uri="/v1/pets/1", scope_token=user)
    assert r.status_code == 403 and "scope token" in r.json()["error_description"]
    # Both must be valid.
    r = verify(oauth, user, scope_token=tampered(caller, scope="pets.admin"))
    assert r.status_code == 401 and code(r) == "ERR10003", r.text
    r = verify(oauth, tampered(user, user_id="bob"), scope_token=caller)
    assert r.status_code == 401 and code(r) == "ERR10000"
    # Without a Bearer Authorization the scope token is the token (light-4j getScopeToken).
    r = verify(oauth, scope_token=caller, headers={"Authorization": basic("u", "p")})
    assert r.status_code == 204 and r.headers["X-Client-Id"] == pets.reader[0]


def test_without_service_id_nothing_passes(oauth, pets):  # noqa: F811
    # Fail closed (was: only the token checked): test_gateway_rules.py has the details.
    r = verify(oauth, pets.token(pets.outsider), service=None, method="DELETE", uri="/anything")
    assert r.status_code == 403 and code(r) == "ERR11017", r.text
    assert verify(oauth, "garbage", service=None).status_code == 403  # no service: no check
    # With a service, the original request is required: a gateway config error.
    r = requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
        "Authorization": "Bearer " + pets.token(pets.reader), "X-Service-Id": SERVICE})
    assert r.status_code == 400, r.text


def test_endpoint_changes_apply_at_once(oauth, pets):  # noqa: F811
    t = pets.token(pets.reader)
    assert verify(oauth, t, uri="/v1/pets/1").status_code == 204
    r = oauth.admin("POST", f"/oauth2/service/{SERVICE}/endpoint", json=[
        {"endpoint": "/v1/pets@get", "operation": "listPets", "scope": "pets.r"},
        {"endpoint": "/v1/pets/{petId}@get", "operation": "showPet", "scope": "pets.secret"}])
    assert r.status_code == 200, r.text
    assert verify(oauth, t, uri="/v1/pets/1").status_code == 403
    assert verify(oauth, t, uri="/v1/pets").status_code == 204


def test_revoked_list_for_resource_servers(oauth, pets):  # noqa: F811
    t = pets.token(pets.reader)
    jti = claims(t)["jti"]
    requests.post(oauth.url + "/oauth2/revoke", data={"token": t}, auth=pets.reader, timeout=10)
    assert requests.get(oauth.url + "/oauth2/revoked", timeout=10).status_code == 401
    r = requests.get(oauth.url + "/oauth2/revoked", timeout=10,
                     headers={"Authorization": "Bearer " + pets.token(pets.outsider)})
    assert r.status_code == 403, r.text
    admin = {"Authorization": "Bearer " + oauth.admin_token()}  # portal.r
    r = requests.get(oauth.url + "/oauth2/revoked", headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["jti"] for e in body["revoked"]] == [jti]
    assert body["revoked"][0]["exp"] == claims(t)["exp"]
    etag = r.headers["ETag"]
    r = requests.get(oauth.url + "/oauth2/revoked", timeout=10,
                     headers={**admin, "If-None-Match": etag})
    assert r.status_code == 304
    # Least privilege: a client holding only oauth.revoked.r.
    cid, secret = oauth.create_client("trusted", scope="oauth.revoked.r")
    r = requests.get(oauth.url + "/oauth2/revoked", timeout=10, headers={
        "Authorization": "Bearer " + pets.token((cid, secret))})
    assert r.status_code == 200 and r.headers["ETag"] == etag


def test_token_service_alone_serves_verify(start):
    s = start("--services", "token")
    r = requests.get(s.url + "/oauth2/verify", timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "ERR10002"
