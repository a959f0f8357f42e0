"""GET /oauth2/verify cannot be walked around ("Trust I", "Trust II"): paths that an upstream
reads as another endpoint, letter case, a missing X-Service-Id, tokens for another service and
signed payloads. Each test is named after the hole it closes."""
import base64
import json

import pytest
import requests

from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
VAULT = "vault"
# The reproduction: a template that a reader may use, and a literal that needs admin.
ENDPOINTS = [
    {"endpoint": "/v1/{x}/secret@get", "operation": "anySecret", "scope": "pets.r"},
    {"endpoint": "/v1/admin/secret@get", "operation": "adminSecret", "scope": "pets.admin"},
]


def header(jwt):
    part = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def claims(jwt):
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Vault:
    def __init__(self, oauth, service_id=VAULT, **fields):  # noqa: F811
        self.oauth = oauth
        self.service_id = service_id
        body = {"serviceId": service_id, "serviceType": "openapi", "serviceName": service_id,
                "scope": "pets.r pets.admin", "ownerId": "admin", "host": "lightapi.net"}
        body.update(fields)
        r = oauth.admin("POST", "/oauth2/service", json=body)
        assert r.status_code == 200, r.text
        r = oauth.admin("POST", f"/oauth2/service/{service_id}/endpoint", json=ENDPOINTS)
        assert r.status_code == 200, r.text
        self.reader = oauth.create_client("trusted", scope="pets.r")
        self.admin = oauth.create_client("trusted", scope="pets.r pets.admin")

    def token(self, client, **extra):
        r = self.oauth.token({"grant_type": "client_credentials", **extra}, client=client)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


def verify(url, token, uri, method="GET", service=VAULT, headers=None):
    h = {"X-Original-Method": method, "X-Original-URI": uri}
    if service is not None:
        h["X-Service-Id"] = service
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return requests.get(url + "/oauth2/verify", headers=h, timeout=10)


@pytest.fixture
def vault(oauth):  # noqa: F811
    return Vault(oauth)


def test_verify_refuses_semicolon_path_params(oauth, vault):  # noqa: F811
    t = vault.token(vault.reader)
    assert verify(oauth.url, t, "/v1/pets/secret").status_code == 204
    assert verify(oauth.url, t, "/v1/admin/secret").status_code == 403
    # Tomcat and Spring drop ";x" (RFC 3986 §3.3 path parameters): this is /v1/admin/secret.
    for uri in ("/v1/admin;x/secret", "/v1/admin;/secret", "/v1/admin%3Bx/secret",
                "/v1/admin%3bx/secret", "/v1/pets/secret;jsessionid=1"):
        r = verify(oauth.url, t, uri)
        assert r.status_code == 403, (uri, r.text)
        assert r.json()["code"] == "ERR10007", (uri, r.text)
        assert "path parameters" in r.json()["error_description"], r.text


def test_verify_refuses_encoded_separators_dot_segments_and_nul(oauth, vault):  # noqa: F811
    t = vault.token(vault.reader)
    for uri in ("/v1/x/../admin/secret", "/v1/x/%2e%2e/admin/secret", "/v1/x/%2E./admin/secret",
                "/v1/./admin/secret", "/v1/%2e/admin/secret", "/v1//admin/secret",
                "//v1/admin/secret", "/v1/admin%2Fx/secret", "/v1/admin%2fsecret/secret",
                "/v1/a\\b/secret", "/v1/a%5Cb/secret", "/v1/a%00/secret", "/v1/a%0d%0a/secret",
                "/v1/%252e%252e/secret", "/v1/%zz/secret"):
        r = verify(oauth.url, t, uri)
        assert r.status_code == 403, (uri, r.text)
        assert r.json()["code"] == "ERR10007", (uri, r.text)
    # Percent-encoded ordinary characters are decoded the way the upstream will.
    assert verify(oauth.url, t, "/v1/%70ets/secret").status_code == 204
    r = verify(oauth.url, t, "/v1/%61dmin/secret")
    assert r.status_code == 403 and r.json()["code"] == "ERR10005", r.text


def test_verify_refuses_case_variant_of_declared_endpoint(oauth, vault):  # noqa: F811
    t = vault.token(vault.reader)
    r = oauth.admin("GET", f"/oauth2/service/{VAULT}")
    assert r.status_code == 200 and r.json()["pathCase"] == "exact", r.text
    # An upstream that routes without regard to case sends these to /v1/admin/secret.
    for uri in ("/v1/Admin/secret", "/v1/ADMIN/secret", "/V1/admin/secret", "/v1/admin/SECRET"):
        r = verify(oauth.url, t, uri)
        assert r.status_code == 403, (uri, r.text)
        assert r.json()["code"] == "ERR10007", (uri, r.text)
        assert "letter case" in r.json()["error_description"], r.text
    # Even the admin's token: the path is not one the service declares.
    assert verify(oauth.url, vault.token(vault.admin), "/v1/Admin/secret").status_code == 403


def test_verify_case_insensitive_service_checks_the_endpoint_the_upstream_routes_to(
        oauth):  # noqa: F811
    v = Vault(oauth, pathCase="insensitive")
    r = oauth.admin("GET", f"/oauth2/service/{VAULT}")
    assert r.json()["pathCase"] == "insensitive", r.text
    reader, admin = v.token(v.reader), v.token(v.admin)
    r = verify(oauth.url, reader, "/v1/Admin/secret")
    assert r.status_code == 403 and r.json()["code"] == "ERR10005", r.text
    assert verify(oauth.url, admin, "/v1/ADMIN/Secret").status_code == 204
    assert verify(oauth.url, reader, "/V1/other/SECRET").status_code == 204
    # Back to exact, through the registry; a bad value is refused.
    r = oauth.admin("PUT", "/oauth2/service", json={"serviceId": VAULT, "pathCase": "exact"})
    assert r.status_code == 200, r.text
    assert verify(oauth.url, admin, "/v1/ADMIN/Secret").status_code == 403
    r = oauth.admin("PUT", "/oauth2/service", json={"serviceId": VAULT, "pathCase": "loose"})
    assert r.status_code == 400 and "pathCase" in r.text, r.text


def test_verify_without_service_id_fails_closed(oauth, vault):  # noqa: F811
    t = vault.token(vault.admin)
    for headers in ({}, {"X-Service-Id": ""}):
        r = verify(oauth.url, t, "/v1/admin/secret", service=None, headers=headers)
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["code"] == "ERR11017" and body["statusCode"] == 403, body
        assert "X-Service-Id" in body["error_description"], body
    # Not even a method or path: the same.
    r = requests.get(oauth.url + "/oauth2/verify", headers={"Authorization": "Bearer " + t},
                     timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "ERR11017", r.text
    # No token still answers 401 first.
    assert verify(oauth.url, None, "/v1/admin/secret", service=None).status_code == 401


def test_verify_default_service_setting():
    s = Portcullis(args=["--set", f"verify.default_service={VAULT}"], env=ENV)
    try:
        o = OAuthServer(s)
        v = Vault(o)
        t = v.token(v.reader)
        # Without X-Service-Id the default service's table decides.
        assert verify(s.url, t, "/v1/pets/secret", service=None).status_code == 204
        r = verify(s.url, t, "/v1/admin/secret", service=None)
        assert r.status_code == 403 and r.json()["code"] == "ERR10005", r.text
        assert verify(s.url, t, "/v1/admin;x/secret", service=None).status_code == 403
        assert verify(s.url, t, "/v2/elsewhere", service=None).status_code == 403
        # X-Service-Id still wins.
        r = verify(s.url, t, "/v1/pets/secret", service="nosuch")
        assert r.status_code == 403 and "not registered" in r.text, r.text
    finally:
        assert s.stop() == 0


def test_verify_refuses_token_for_other_audience(oauth, vault):  # noqa: F811
    Vault(oauth, service_id="svcc")
    # Requested for svcc (RFC 8707 resource): aud is svcc only.
    for_svcc = vault.token(vault.reader, resource="svcc")
    assert claims(for_svcc)["aud"] == "svcc"
    r = verify(oauth.url, for_svcc, "/v1/pets/secret")
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "ERR10000" and "wrong_audience" in r.text, r.text
    assert "invalid_token" in r.headers["WWW-Authenticate"]
    # ... and accepted by svcc itself.
    assert verify(oauth.url, for_svcc, "/v1/pets/secret", service="svcc").status_code == 204
    # Requested for this service, or for no particular service (aud = the issuer): accepted.
    for_vault = vault.token(vault.reader, resource=VAULT)
    assert claims(for_vault)["aud"] == VAULT
    assert verify(oauth.url, for_vault, "/v1/pets/secret").status_code == 204
    general = vault.token(vault.reader)
    assert claims(general)["aud"] == oauth.url
    assert verify(oauth.url, general, "/v1/pets/secret").status_code == 204
    # The X-Scope-Token too: a user's token with a caller token for another service.
    r = verify(oauth.url, general, "/v1/pets/secret", headers={"X-Scope-Token": for_svcc})
    assert r.status_code == 401 and r.json()["code"] == "ERR10003", r.text


def test_verify_refuses_signed_payload(oauth, vault):  # noqa: F811
    # POST /oauth2/signing (light-oauth2 §6.3) signs whatever payload a client sends, with the
    # server's key and issuer. It is data, not an access token, whatever its claims say.
    cid, secret = vault.admin
    r = requests.post(oauth.url + "/oauth2/signing",
                      json={"expires": 300, "payload": {"scope": "pets.admin", "sub": cid,
                                                        "aud": VAULT}},
                      headers={"Authorization": basic(cid, secret)}, timeout=10)
    assert r.status_code == 200, r.text
    signed = r.json()["access_token"]
    assert header(signed)["typ"].lower() == "payload+jwt", header(signed)
    for uri in ("/v1/pets/secret", "/v1/admin/secret"):
        r = verify(oauth.url, signed, uri)
        assert r.status_code == 401, (uri, r.text)
        assert r.json()["code"] == "ERR10000", r.text
    r = verify(oauth.url, vault.token(vault.reader), "/v1/pets/secret",
               headers={"X-Scope-Token": signed})
    assert r.status_code == 401 and r.json()["code"] == "ERR10003", r.text
