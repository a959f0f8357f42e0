"""Client registry over HTTP: light-oauth2's client tests (reference §16.3) with their expected
codes, then what Portcullis adds: redirect-URI lists and rules, grant types, token profile and
lifetime, auth methods, reserved custom claims, secret rotation, links whose scope reaches
tokens at once (light-oauth2 issues #80/#111), and deletion of links and refresh tokens."""
import base64
import json

import pytest
import requests

from test_registry_common import err, reg  # noqa: F401

PETSTORE = {
    "clientType": "public", "clientProfile": "mobile", "clientName": "PetStore Web Server",
    "clientDesc": "PetStore Web Server that calls PetStore API", "scope": "petstore.r petstore.w",
    "customClaim": "{\"c1\": \"361\", \"c2\": \"67\"}", "ownerId": "admin",
    "redirectUri": "http://localhost:8080/authorization", "host": "lightapi.net"}
DATA_ENDPOINTS = [
    {"endpoint": "/v1/data@get", "operation": "getData", "scope": "data.w data.r"},
    {"endpoint": "/v1/data@post", "operation": "postData", "scope": "data.w"},
    {"endpoint": "/v1/data@put", "operation": "putData", "scope": "data.w"},
    {"endpoint": "/v1/data@delete", "operation": "deleteData", "scope": "data.w"},
]


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture(scope="module")
def services(reg):  # noqa: F811
    for sid in ("AACT0001", "AACT0002"):
        r = reg.post("/oauth2/service", json={
            "serviceId": sid, "serviceType": "openapi", "serviceName": "Account Service",
            "serviceDesc": "A microservice that serves account information", "scope": "a.r b.r",
            "ownerId": "admin", "host": "lightapi.net"})
        assert r.status_code == 200, r.text
        r = reg.post(f"/oauth2/service/{sid}/endpoint", json=DATA_ENDPOINTS)
        assert r.status_code == 200, r.text
    return ("AACT0001", "AACT0002")


def create(reg, **fields):  # noqa: F811
    body = {"clientType": "confidential", "clientProfile": "service", "clientName": "test",
            "host": "lightapi.net", "scope": "petstore.r"}
    body.update(fields)
    r = reg.post("/oauth2/client", json=body)
    assert r.status_code == 200, r.text
    return r.json()


# ---- reference §16.3 -------------------------------------------------------------------------

def test_post_public_client_with_custom_claim(reg):  # noqa: F811
    r = reg.post("/oauth2/client", json=PETSTORE)
    assert r.status_code == 200, r.text
    c = r.json()
    # A public client without authMethod uses PKCE and gets no secret (auth method none).
    assert len(c["clientId"]) == 36 and "clientSecret" not in c
    assert c["customClaim"] == PETSTORE["customClaim"]
    assert c["redirectUri"] == "http://localhost:8080/authorization"
    assert c["redirectUris"] == ["http://localhost:8080/authorization"]
    assert c["tokenProfile"] == "rfc9068" and c["authMethod"] == "none"
    r = reg.post("/oauth2/client", json=dict(PETSTORE, clientType="confidential"))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    c = r.json()
    assert len(c["clientSecret"]) >= 43  # >= 256 bits
    assert c["authMethod"] is None  # none named: Basic and post both accepted


def test_post_external_client_with_authenticate_class_and_deref(reg):  # noqa: F811
    r = reg.post("/oauth2/client", json={
        "clientType": "external", "clientProfile": "service", "clientName": "External",
        "clientDesc": "d", "scope": "a.r", "host": "lightapi.net",
        "authenticateClass": "com.networknt.oauth.auth.MarketPlaceAuth",
        "derefClientId": "841c7d50-7690-11e8-adc0-fa7ae01bbebc"})
    assert r.status_code == 200, r.text
    assert r.json()["derefClientId"] == "841c7d50-7690-11e8-adc0-fa7ae01bbebc"


def test_post_public_client_with_deref_is_refused(reg):  # noqa: F811
    err(reg.post("/oauth2/client", json=dict(PETSTORE, derefClientId="x")), 400, "ERR12043")


@pytest.mark.parametrize("field", ["clientType", "clientProfile"])
def test_post_fake_enum(reg, field):  # noqa: F811
    body = err(reg.post("/oauth2/client", json=dict(PETSTORE, **{field: "fake"})), 400, "ERR11004")
    assert body["description"].startswith(field + ":")


def test_put_existing_client(reg):  # noqa: F811
    c = create(reg, clientType="public", clientProfile="mobile")
    r = reg.put("/oauth2/client", json={"clientId": c["clientId"], "clientType": "trusted",
                                         "clientProfile": "webserver", "clientName": "renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["clientType"] == "trusted" and r.json()["clientProfile"] == "webserver"
    # The public client had no secret (auth method none by default); as a trusted one it gets
    # one, returned once.
    assert len(r.json()["clientSecret"]) >= 43 and r.json()["authMethod"] is None
    r = reg.put("/oauth2/client", json={"clientId": c["clientId"], "clientName": "again"})
    assert r.status_code == 200 and "clientSecret" not in r.json(), r.text
    err(reg.put("/oauth2/client", json={"clientId": c["clientId"], "clientType": "public",
                                        "derefClientId": "x"}), 400, "ERR12043")
    err(reg.put("/oauth2/client", json={"clientId": "fake", "clientName": "x"}), 404, "ERR12014")


def test_put_client_linked_to_a_service(reg, services):  # noqa: F811
    c = create(reg, clientName="Test80")
    r = reg.post(f"/oauth2/client/{c['clientId']}/service/AACT0001", json=["/v1/data@get"])
    assert r.status_code == 200, r.text
    r = reg.put("/oauth2/client", json={"clientId": c["clientId"], "clientDesc": "linked"})
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "data.w data.r"  # the derived scope stays


def test_list_clients(reg):  # noqa: F811
    for i in range(5):
        create(reg, clientName=f"zz list {i}")
    r = reg.get("/oauth2/client?page=0")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] >= 5 and 1 <= len(body["clients"]) <= 10
    assert all("clientSecret" not in c for c in body["clients"])
    names = [c["clientName"] for c in body["clients"]]
    assert names == sorted(names, key=lambda n: n.encode())  # by clientName
    assert reg.get("/oauth2/client?page=0&pageSize=25").status_code == 200
    err(reg.get("/oauth2/client"), 400, "ERR11000")
    err(reg.get("/oauth2/client?page=-1"), 400, "ERR11004")
    err(reg.get("/oauth2/client?page=0&pageSize=0"), 400, "ERR11004")
    page = reg.get("/oauth2/client?page=0&pageSize=2&host=lightapi").json()
    assert len(page["clients"]) == 2 and page["total"] >= 5


def test_get_and_delete_client(reg):  # noqa: F811
    c = create(reg)
    r = reg.get(f"/oauth2/client/{c['clientId']}")
    assert r.status_code == 200 and "clientSecret" not in r.json()
    assert "hs256" not in r.text
    err(reg.get("/oauth2/client/fake"), 404, "ERR12014")
    r = reg.delete(f"/oauth2/client/{c['clientId']}")
    assert r.status_code == 200 and r.json()["clientId"] == c["clientId"]
    err(reg.delete(f"/oauth2/client/{c['clientId']}"), 404, "ERR12014")
    err(reg.delete("/oauth2/client/fake"), 404, "ERR12014")


def test_client_service_links(reg, services):  # noqa: F811
    c = create(reg, scope="petstore.r petstore.w")
    cid = c["clientId"]
    r = reg.post(f"/oauth2/client/{cid}/service/AACT0001", json=["/v1/data@get"])
    assert r.status_code == 200, r.text
    assert r.json() == {"old_scope": "petstore.r petstore.w", "new_scope": "data.w data.r"}
    assert reg.post(f"/oauth2/client/{cid}/service/AACT0001", json=[]).json() == {}
    r = reg.get(f"/oauth2/client/{cid}/service/AACT0001")
    assert r.status_code == 200 and r.json() == ["/v1/data@get"]
    r = reg.post(f"/oauth2/client/{cid}/service/AACT0002", json=["/v1/data@put"])
    assert r.json()["new_scope"] == "data.w data.r"
    r = reg.get(f"/oauth2/client/{cid}/service")
    assert r.json() == {"AACT0001": ["/v1/data@get"], "AACT0002": ["/v1/data@put"]}
    r = reg.delete(f"/oauth2/client/{cid}/service/AACT0001")
    assert r.status_code == 200 and r.json() == {"old_scope": "data.w data.r", "new_scope": "data.w"}
    r = reg.delete(f"/oauth2/client/{cid}/service")
    assert r.status_code == 200 and r.json() == {"old_scope": "data.w", "new_scope": ""}
    for method, path in [("GET", "/oauth2/client/fake/service"),
                         ("DELETE", "/oauth2/client/fake/service"),
                         ("GET", "/oauth2/client/fake/service/AACT0001"),
                         ("DELETE", "/oauth2/client/fake/service/AACT0001")]:
        err(reg.call(method, path), 404, "ERR12014")
    err(reg.post("/oauth2/client/fake/service/AACT0001", json=["/v1/data@get"]), 404, "ERR12014")
    for method in ("GET", "DELETE"):
        err(reg.call(method, f"/oauth2/client/{cid}/service/fake"), 404, "ERR12015")
    err(reg.post(f"/oauth2/client/{cid}/service/fake", json=["/v1/data@get"]), 404, "ERR12015")
    err(reg.post(f"/oauth2/client/{cid}/service/AACT0001", json=["/v9/none@get"]), 404,
        "ERR12042")
    err(reg.post(f"/oauth2/client/{cid}/service/AACT0001",
                 json=["/v1/data@get", "/v1/data@get"]), 400, "ERR11004")


# ---- beyond light-oauth2 ---------------------------------------------------------------------

def test_link_scope_reaches_tokens_at_once(reg, services):  # noqa: F811
    """light-oauth2 #80/#111: after linking, tokens did not carry the new scope."""
    c = create(reg, clientType="trusted", scope="petstore.r")
    cid, secret = c["clientId"], c["clientSecret"]
    r = reg.client_token(cid, secret)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["scope"] == "petstore.r"
    reg.post(f"/oauth2/client/{cid}/service/AACT0001", json=["/v1/data@post"])
    r = reg.client_token(cid, secret)
    assert claims(r.json()["access_token"])["scope"] == "data.w"
    reg.delete(f"/oauth2/client/{cid}/service")
    r = reg.client_token(cid, secret, scope="data.w")
    err(r, 400)  # the scope is gone at once
    # Replacing the service's endpoints recomputes linked clients too.
    reg.post(f"/oauth2/client/{cid}/service/AACT0002", json=["/v1/data@get"])
    eps = [dict(e) for e in DATA_ENDPOINTS]
    eps[0]["scope"] = "data.read"
    assert reg.post("/oauth2/service/AACT0002/endpoint", json=eps).status_code == 200
    assert reg.get(f"/oauth2/client/{cid}").json()["scope"] == "data.read"
    r = reg.client_token(cid, secret)
    assert claims(r.json()["access_token"])["scope"] == "data.read"


def test_secret_rotation_returns_the_new_secret_once(reg):  # noqa: F811
    c = create(reg, clientType="trusted")
    cid, old = c["clientId"], c["clientSecret"]
    assert reg.client_token(cid, old).status_code == 200
    r = reg.post(f"/oauth2/client/{cid}/secret")
    assert r.status_code == 200, r.text
    new = r.json()["clientSecret"]
    assert new != old and len(new) >= 43 and r.headers["Cache-Control"] == "no-store"
    assert reg.client_token(cid, new).status_code == 200
    err(reg.client_token(cid, old), 401, "ERR12007")
    assert "clientSecret" not in reg.get(f"/oauth2/client/{cid}").json()
    err(reg.post("/oauth2/client/fake/secret"), 404, "ERR12014")


def test_redirect_uris_are_checked_as_urls(reg):  # noqa: F811
    ok = create(reg, redirectUris=["https://app.example.com/cb", "http://127.0.0.1:5000/cb",
                                   "http://[::1]/cb", "com.example.app:/oauth2redirect"])
    assert len(ok["redirectUris"]) == 4 and ok["redirectUri"] == "https://app.example.com/cb"
    for uri, problem in [
            ("http://app.example.com/cb", "must use https unless the host is loopback"),
            ("https://app.example.com/cb#top", "must not contain a fragment"),
            ("javascript:alert(1)", "scheme 'javascript'"),
            ("https://*.example.com/cb", "must not contain wildcards"),
            ("/relative", "is not an absolute URI"),
            ("https://user:pw@example.com/cb", "must not contain userinfo")]:
        body = err(reg.post("/oauth2/client", json={
            "clientType": "confidential", "clientProfile": "service", "clientName": "r",
            "host": "h", "redirectUris": ["https://fine.example.com/cb", uri]}), 400, "ERR11004")
        assert body["description"].startswith("redirectUris[1]:"), body
        assert problem in body["description"], body


def test_grant_types_profile_ttl_and_auth_method(reg):  # noqa: F811
    c = create(reg, clientType="trusted", grantTypes=["client_credentials"],
               tokenProfile="light-4j", accessTokenTtl=120, authMethod="client_secret_post")
    assert c["grantTypes"] == ["client_credentials"] and c["accessTokenTtl"] == 120
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": c["clientId"],
        "client_secret": c["clientSecret"]}, timeout=10)
    assert r.status_code == 200, r.text
    t = claims(r.json()["access_token"])
    assert t["exp"] - t["iat"] == 120 and isinstance(t["scope"], list)  # light-4j
    for body, field in [
            ({"grantTypes": ["implicit"]}, "grantTypes[0]"),
            ({"grantTypes": ["password"]}, "grantTypes[0]"),  # trusted clients only
            ({"tokenProfile": "jwt"}, "tokenProfile"),
            ({"accessTokenTtl": 0}, "accessTokenTtl"),
            ({"accessTokenTtl": "600"}, "accessTokenTtl"),
            ({"authMethod": "tls_client_auth"}, "authMethod"),
            ({"authMethod": "private_key_jwt"}, "jwks"),
            ({"authMethod": "private_key_jwt", "jwksUri": "http://keys.example.com/jwks"},
             "jwksUri")]:
        full = {"clientType": "confidential", "clientProfile": "service", "clientName": "g",
                "host": "h"}
        full.update(body)
        b = err(reg.post("/oauth2/client", json=full), 400, "ERR11004")
        assert b["description"].startswith(field + ":"), b
    pk = create(reg, authMethod="private_key_jwt", jwksUri="https://keys.example.com/jwks.json")
    assert "clientSecret" not in pk  # no secret for private_key_jwt


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "scope", "client_id", "cnf"])
def test_reserved_custom_claims_are_refused(reg, claim):  # noqa: F811
    body = err(reg.post("/oauth2/client", json=dict(PETSTORE, customClaim={claim: "x"})), 400,
               "ERR11004")
    assert body["description"] == f"customClaim: '{claim}' is a reserved claim name and cannot " \
                                  "be overridden"


def test_delete_removes_links_and_refresh_tokens(reg, services):  # noqa: F811
    c = create(reg, clientType="trusted", grantTypes=["password", "refresh_token",
                                                       "client_credentials"])
    cid, secret = c["clientId"], c["clientSecret"]
    reg.post(f"/oauth2/client/{cid}/service/AACT0001", json=["/v1/data@get"])
    user = {"userId": "deleter", "userType": "employee", "email": "deleter@example.com",
            "password": "correct horse battery", "passwordConfirm": "correct horse battery"}
    assert reg.post("/oauth2/user", json=user).status_code == 200
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "password", "username": "deleter", "password": "correct horse battery"},
        headers={"Authorization": __import__("test_registry_common").basic(cid, secret)},
        timeout=10)
    assert r.status_code == 200 and "refresh_token" in r.json(), \
        "the password grant must issue a refresh token: " + r.text
    listed = reg.get("/oauth2/refresh_token?page=1&userId=deleter").json()
    assert [t["clientId"] for t in listed] == [cid]
    assert reg.delete(f"/oauth2/client/{cid}").status_code == 200
    assert reg.get("/oauth2/refresh_token?page=1&userId=deleter").json() == []
    err(reg.get(f"/oauth2/client/{cid}/service"), 404, "ERR12014")
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
        headers={"Authorization": __import__("test_registry_common").basic(cid, secret)},
        timeout=10)
    assert r.status_code in (400, 401, 404), r.text
