"""Trust I, token side: the holes reproduced against 2f08f83, one test each, named after it.

  * public clients get nothing without PKCE (no client_credentials or other grants that rest on
    client authentication; no secret by default; no introspection);
  * signed payloads (POST /oauth2/signing) are not access tokens;
  * a named resource narrows the scope of the token issued for it (RFC 8707);
  * RFC 6749 answers that keep light-oauth2's codes (unknown client, reused code and refresh
    token), and a registered authMethod is the only one accepted (RFC 7591)."""
import base64
import json
import sqlite3

import requests

from code_helpers import (USER, PASSWORD, authorize, code_params, make_client, make_user,
                          pkce_pair, query_of, record_consent, redeem)
from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401

CC = {"grant_type": "client_credentials"}
XCHG = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
SIGNED_PAYLOAD_AUD = "urn:portcullis:signed-payload"


def part(jwt, i):
    p = jwt.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def claims(jwt):
    return part(jwt, 1)


def both_formats(r, status, error, code=None):
    """The body carries RFC 6749 §5.2 and light-oauth2's Status fields together."""
    assert r.status_code == status, r.text
    b = r.json()
    assert b["error"] == error, b
    assert b["error_description"], b
    assert b["statusCode"] == status and b["message"] and b["description"], b
    assert b["code"].startswith("ERR"), b
    if code:
        assert b["code"] == code, b
    return b


def introspect(oauth, token, auth=None, data=None):
    form = {"token": token, **(data or {})}
    headers = {"Authorization": auth} if auth else {}
    return requests.post(oauth.url + "/oauth2/introspect", data=form, headers=headers, timeout=10)


def public_tokens(oauth, client_id):
    """The code flow with PKCE for a secretless public client: its tokens."""
    verifier, challenge = pkce_pair()
    # HTTP Basic sign-in needs the user's recorded consent for a client that is not trusted.
    record_consent(oauth, client_id, code_challenge=challenge, code_challenge_method="S256")
    r = authorize(oauth, code_params(client_id, code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD)
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1]["code"]
    t = redeem(oauth, code, (client_id, None), verifier=verifier)
    assert t.status_code == 200, t.text
    return t.json()


# ---- public clients get nothing without PKCE -----------------------------------------------

def test_public_client_cannot_use_client_credentials(tmp_path):
    # A public client whose stored grant list holds client_credentials (as 2f08f83 let anyone
    # register): written into the store directly, so the token endpoint alone must refuse.
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
    store = "sqlite:" + str(tmp_path / "portcullis.db")
    s = Portcullis(env=env, store=store)
    try:
        cid, _ = OAuthServer(s).create_client(
            "confidential", grantTypes=["authorization_code", "client_credentials"])
    finally:
        assert s.stop() == 0, s.read_log()
    db = sqlite3.connect(str(tmp_path / "portcullis.db"))
    with db:
        n = db.execute("UPDATE clients SET client_type = 'public', secret_hash = NULL,"
                       " auth_method = 'none' WHERE client_id = ?", (cid,)).rowcount
    db.close()
    assert n == 1
    s = Portcullis(env=env, store=store)
    try:
        o = OAuthServer(s)
        r = o.token({**CC, "client_id": cid})
        both_formats(r, 400, "unauthorized_client", "ERR12024")
        assert "access_token" not in r.text
        # client_credentials through the form with scope, and with a resource: refused too.
        r = o.token({**CC, "client_id": cid, "scope": "petstore.r"})
        assert r.status_code == 400 and "access_token" not in r.text, r.text
    finally:
        assert s.stop() == 0, s.read_log()


def test_public_client_registration_refuses_client_credentials(oauth):
    body = {"clientType": "public", "clientProfile": "browser", "clientName": "spa",
            "host": "lightapi.net", "scope": "petstore.r", "redirectUris": ["http://127.0.0.1:9/cb"]}
    for grant in ("client_credentials", XCHG, "bootstrap_token", "password",
                  "client_authenticated_user"):
        r = oauth.admin("POST", "/oauth2/client",
                        json={**body, "grantTypes": ["authorization_code", grant]})
        b = both_formats(r, 400, "invalid_request", "ERR11004")
        assert b["description"].startswith("grantTypes[1]:"), b
    # Nor by turning a confidential client with client_credentials into a public one.
    cid, _ = oauth.create_client("confidential", grantTypes=["client_credentials"])
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": cid, "clientType": "public",
                                                  "authMethod": "none"})
    assert r.status_code == 400 and r.json()["description"].startswith("grantTypes[0]:"), r.text
    # A public client's defaults are the code flow.
    r = oauth.admin("POST", "/oauth2/client", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["grantTypes"] == ["authorization_code", "refresh_token"]


def test_light_oauth2_public_client_gets_no_secret(oauth):
    # light-oauth2's own client JSON (reference §16.3): public, no authMethod.
    r = oauth.admin("POST", "/oauth2/client", json={
        "clientType": "public", "clientProfile": "mobile", "clientName": "PetStore Web Server",
        "clientDesc": "PetStore Web Server that calls PetStore API", "scope": "petstore.r",
        "ownerId": "admin", "redirectUri": "http://127.0.0.1:9/cb", "host": "lightapi.net"})
    assert r.status_code == 200, r.text
    c = r.json()
    assert "clientSecret" not in c and c["authMethod"] == "none", c
    assert oauth.admin("GET", f"/oauth2/client/{c['clientId']}").json()["authMethod"] == "none"
    # PKCE without a secret now works end to end.
    make_user(oauth)
    t = public_tokens(oauth, c["clientId"])
    assert claims(t["access_token"])["client_id"] == c["clientId"] and t["refresh_token"]
    # The public client rotates its refresh token with its client_id alone...
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                     "client_id": c["clientId"]})
    assert r.status_code == 200, r.text
    # ...and may revoke its own tokens (RFC 7009 §2.1).
    r = requests.post(oauth.url + "/oauth2/revoke", timeout=10, data={
        "token": r.json()["refresh_token"], "client_id": c["clientId"]})
    assert r.status_code == 200, r.text


def test_discovery_lists_none(oauth):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        m = requests.get(oauth.url + path, timeout=10).json()
        assert "none" in m["token_endpoint_auth_methods_supported"], m
        assert "none" in m["revocation_endpoint_auth_methods_supported"], m
        assert "none" not in m["introspection_endpoint_auth_methods_supported"], m
        assert "client_secret_basic" in m["token_endpoint_auth_methods_supported"], m


def test_public_client_cannot_introspect_reference_token(oauth):
    bff, bff_secret = oauth.create_client("confidential")
    ext, ext_secret = oauth.create_client("external", derefClientId=bff)
    ref = oauth.token(CC, client=(ext, ext_secret)).json()["access_token"]
    assert "." not in ref
    spa, spa_secret = make_client(oauth, "public")
    assert spa_secret is None
    r = introspect(oauth, ref, data={"client_id": spa})
    b = both_formats(r, 401, "invalid_client", "ERR12007")
    assert "active" not in b and ext not in r.text
    # Reference tokens are described only to their client and to its derefClientId.
    other, other_secret = oauth.create_client("confidential")
    assert introspect(oauth, ref, basic(other, other_secret)).json() == {"active": False}
    for who in ((bff, bff_secret), (ext, ext_secret)):
        i = introspect(oauth, ref, basic(*who)).json()
        assert i["active"] is True and i["client_id"] == ext, i
    # JWT access tokens stay introspectable by any confidential client (resource servers).
    at = oauth.token(CC, client=(bff, bff_secret)).json()["access_token"]
    assert introspect(oauth, at, basic(other, other_secret)).json()["active"] is True
    assert introspect(oauth, at, data={"client_id": spa}).status_code == 401


# ---- signed payloads are not access tokens -------------------------------------------------

def test_signed_payload_is_not_active_at_introspection(oauth):
    cid, secret = oauth.create_client("confidential")
    r = requests.post(oauth.url + "/oauth2/signing", timeout=10,
                      json={"expires": 3600, "payload": {"order": 42, "aud": "urn:com.networknt"}},
                      headers={"Authorization": basic(cid, secret)})
    assert r.status_code == 200, r.text
    signed = r.json()["access_token"]
    assert part(signed, 0)["typ"] == "payload+jwt"
    c = claims(signed)
    assert c["aud"] == SIGNED_PAYLOAD_AUD and c["order"] == 42 and c["iss"] == oauth.url
    assert introspect(oauth, signed, basic(cid, secret)).json() == {"active": False}
    # Access tokens keep their own typ and audience.
    at = oauth.token(CC, client=(cid, secret)).json()["access_token"]
    assert part(at, 0)["typ"] == "at+jwt" and claims(at)["aud"] != SIGNED_PAYLOAD_AUD


def test_signed_payload_is_not_a_subject_token(oauth):
    r = oauth.admin("POST", "/oauth2/service", json={
        "serviceId": "svc-c", "serviceType": "openapi", "serviceName": "c", "serviceDesc": "x",
        "host": "lightapi.net", "ownerId": "admin", "scope": "x"})
    assert r.status_code == 200, r.text
    b, b_secret = oauth.create_client("confidential", scope="x")
    assert oauth.admin("PUT", f"/oauth2/client/{b}/delegation",
                       json=[{"audience": "svc-c", "scope": "orders.read"}]).status_code == 200
    signed = requests.post(oauth.url + "/oauth2/signing", timeout=10,
                           json={"expires": 600, "payload": {"user_id": "alice"}},
                           headers={"Authorization": basic(b, b_secret)}).json()["access_token"]
    r = oauth.token({"grant_type": XCHG, "subject_token": signed, "subject_token_type": AT,
                     "audience": "svc-c"}, client=(b, b_secret))
    both_formats(r, 400, "invalid_grant", "ERR10000")


# ---- tokens are for their audience ---------------------------------------------------------

def test_resource_narrows_scope(oauth):
    r = oauth.admin("POST", "/oauth2/service", json={
        "serviceId": "data-svc", "serviceType": "openapi", "serviceName": "data",
        "serviceDesc": "x", "host": "lightapi.net", "ownerId": "admin", "scope": "data.r"})
    assert r.status_code == 200, r.text
    r = oauth.admin("POST", "/oauth2/service/data-svc/endpoint", json=[
        {"endpoint": "/v1/data@get", "operation": "getData", "scope": "data.r"},
        {"endpoint": "/v1/data@post", "operation": "postData", "scope": "data.w"}])
    assert r.status_code == 200, r.text
    cid, secret = oauth.create_client("trusted", scope="data.r petstore.r petstore.w")
    r = oauth.token({**CC, "resource": "data-svc"}, client=(cid, secret))
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["aud"] == "data-svc" and c["scope"] == "data.r", c
    assert r.json()["scope"] == "data.r"
    # Requested scopes the resource does not define are dropped...
    r = oauth.token({**CC, "resource": "data-svc", "scope": "data.r petstore.r"},
                    client=(cid, secret))
    assert r.status_code == 200 and claims(r.json()["access_token"])["scope"] == "data.r", r.text
    # ...and when none remains, invalid_scope; with no scope asked for, invalid_target.
    both_formats(oauth.token({**CC, "resource": "data-svc", "scope": "petstore.r"},
                             client=(cid, secret)), 400, "invalid_scope", "ERR12027")
    other, other_secret = oauth.create_client("trusted", scope="petstore.r")
    both_formats(oauth.token({**CC, "audience": "data-svc"}, client=(other, other_secret)),
                 400, "invalid_target")
    both_formats(oauth.token({**CC, "resource": "nowhere"}, client=(cid, secret)),
                 400, "invalid_target")
    # The same for a user's token; the refresh token keeps the whole grant.
    user, pw = oauth.create_user()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw,
                     "resource": "data-svc"}, client=(cid, secret))
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["aud"] == "data-svc" and c["scope"] == "data.r" and "resource" not in c, c
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
                    client=(cid, secret))
    assert claims(r.json()["access_token"])["scope"] == "data.r petstore.r petstore.w", r.text


# ---- standard answers that keep light-oauth2's codes ---------------------------------------

def test_unknown_client_gets_401_invalid_client(oauth):
    cid, secret = oauth.create_client("confidential")
    at = oauth.token(CC, client=(cid, secret)).json()["access_token"]
    for path, data in (("/oauth2/token", CC), ("/oauth2/introspect", {"token": at}),
                       ("/oauth2/revoke", {"token": at})):
        for how in ("basic", "post"):
            if how == "basic":
                r = requests.post(oauth.url + path, data=data, timeout=10,
                                  headers={"Authorization": basic("no-such-client", secret)})
            else:
                r = requests.post(oauth.url + path, timeout=10,
                                  data={**data, "client_id": "no-such-client",
                                        "client_secret": secret})
            both_formats(r, 401, "invalid_client", "ERR12014")
            assert r.headers["WWW-Authenticate"].startswith("Basic"), path
    assert introspect(oauth, at, basic(cid, secret)).json()["active"] is True  # not revoked


def test_reused_refresh_token_code_err12029(oauth):
    cid, secret = oauth.create_client("trusted")
    user, pw = oauth.create_user()
    first = oauth.token({"grant_type": "password", "username": user, "password": pw},
                        client=(cid, secret)).json()
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    client=(cid, secret))
    assert r.status_code == 200, r.text
    both_formats(oauth.token({"grant_type": "refresh_token",
                              "refresh_token": first["refresh_token"]}, client=(cid, secret)),
                 400, "invalid_grant", "ERR12029")
    # The family is revoked: the rotated successor answers the same.
    both_formats(oauth.token({"grant_type": "refresh_token",
                              "refresh_token": r.json()["refresh_token"]}, client=(cid, secret)),
                 400, "invalid_grant", "ERR12029")
    # An unknown one: invalid_grant is 400 in RFC 6749 §5.2 (light-oauth2 answered 404).
    both_formats(oauth.token({"grant_type": "refresh_token", "refresh_token": "fake"},
                             client=(cid, secret)), 400, "invalid_grant", "ERR12029")


def test_reused_code_err12052(oauth):
    make_user(oauth)
    client = make_client(oauth, "confidential")
    record_consent(oauth, client[0])
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
    code = query_of(r.headers["Location"])[1]["code"]
    assert redeem(oauth, code, client).status_code == 200
    both_formats(redeem(oauth, code, client), 400, "invalid_grant", "ERR12052")
    both_formats(redeem(oauth, "never-issued", client), 400, "invalid_grant", "ERR12052")


def test_every_token_endpoint_error_carries_both_formats(oauth):
    cid, secret = oauth.create_client("trusted")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = requests.post(oauth.url + "/oauth2/token", data="grant_type=a&grant_type=b",
                      headers=form, timeout=10)
    both_formats(r, 400, "invalid_request")
    r = requests.post(oauth.url + "/oauth2/token", timeout=10, data={**CC, "client_secret": "x"},
                      headers={"Authorization": basic(cid, secret)})
    both_formats(r, 400, "invalid_request")
    both_formats(oauth.token({**CC, "client_id": cid, "client_assertion": "x",
                              "client_assertion_type": "nope"}), 400, "invalid_request")
    conf, conf_secret = oauth.create_client("confidential", grantTypes=["authorization_code"])
    both_formats(oauth.token(CC, client=(conf, conf_secret)), 400, "unauthorized_client",
                 "ERR12024")
    both_formats(oauth.token({"grant_type": XCHG}, client=(cid, secret)), 400, "invalid_request")
    both_formats(oauth.token({"grant_type": XCHG, "subject_token": "a.b.c",
                              "subject_token_type": AT}, client=(cid, secret)),
                 400, "invalid_target")
    both_formats(oauth.token({"grant_type": XCHG, "subject_token": "a.b.c",
                              "subject_token_type": AT, "audience": "x"}, client=(cid, secret)),
                 400, "invalid_grant")
    both_formats(requests.post(oauth.url + "/oauth2/introspect", data={},
                               headers={"Authorization": basic(cid, secret)}, timeout=10),
                 400, "invalid_request")
    both_formats(requests.post(oauth.url + "/oauth2/revoke", data={},
                               headers={"Authorization": basic(cid, secret)}, timeout=10),
                 400, "invalid_request")


def test_explicit_auth_method_is_enforced(oauth):
    def post(cid, secret):
        return oauth.token({**CC, "client_id": cid, "client_secret": secret})

    b_id, b_secret = oauth.create_client("confidential", authMethod="client_secret_basic")
    assert oauth.token(CC, client=(b_id, b_secret)).status_code == 200
    both_formats(post(b_id, b_secret), 401, "invalid_client", "ERR12007")
    p_id, p_secret = oauth.create_client("confidential", authMethod="client_secret_post")
    assert post(p_id, p_secret).status_code == 200
    both_formats(oauth.token(CC, client=(p_id, p_secret)), 401, "invalid_client", "ERR12007")
    # The same at introspection.
    at = oauth.token(CC, client=(b_id, b_secret)).json()["access_token"]
    assert introspect(oauth, at, data={"client_id": b_id, "client_secret": b_secret}
                      ).status_code == 401
    # Without one, a client accepts both, as light-oauth2 clients do; GET shows null.
    u_id, u_secret = oauth.create_client("confidential")
    assert oauth.token(CC, client=(u_id, u_secret)).status_code == 200
    assert post(u_id, u_secret).status_code == 200
    assert oauth.admin("GET", f"/oauth2/client/{u_id}").json()["authMethod"] is None
    assert oauth.admin("GET", f"/oauth2/client/{b_id}").json()["authMethod"] == \
        "client_secret_basic"
    # Naming one later holds the client to it; clearing it (null) lets both in again.
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": u_id,
                                                  "authMethod": "client_secret_post"})
    assert r.status_code == 200 and "clientSecret" not in r.json(), r.text
    assert oauth.token(CC, client=(u_id, u_secret)).status_code == 401
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": u_id, "authMethod": None})
    assert r.status_code == 200, r.text
    assert oauth.token(CC, client=(u_id, u_secret)).status_code == 200
