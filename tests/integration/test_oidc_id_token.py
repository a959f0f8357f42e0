"""OpenID Connect ID tokens, claims and userinfo (issue 15; OpenID Connect Core 1.0 §2, §3.1.3,
§5.3, §5.4, §12.2; RFC 6750): black-box, against the real binary. Relying-party checks are made
with jwcrypto against the published JWKS and with Authlib's ID-token validation."""
import base64
import hashlib
import json

import pytest
import requests
from authlib.jose import JsonWebKey, jwt as authlib_jwt
from authlib.jose.errors import InvalidClaimError
from authlib.oidc.core import CodeIDToken
from jwcrypto import jwk, jwt as jwcrypto_jwt

from code_helpers import (PASSWORD, USER, authorize, code_params, make_client, make_user,
                          query_of, record_consent, redeem)
from conftest import Portcullis, new_pg_database
from test_registry_common import cli, new_cli_store, require_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
       "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
OIDC_SCOPE = "openid profile email petstore.r"
# Characters a sloppy implementation would re-encode, trim or decode.
NONCE = " n-0S6_WzA2Mj+/=%20é "


@pytest.fixture
def es256(tmp_path):
    s = Portcullis(args=["--set", "keys.algorithm=ES256"], env=ENV)
    yield OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def header(token):
    return b64json(token.split(".")[0])


def payload(token):
    return b64json(token.split(".")[1])


def at_hash(access_token, alg):
    h = hashlib.sha512 if alg == "EdDSA" else hashlib.sha256
    d = h(access_token.encode()).digest()
    return base64.urlsafe_b64encode(d[:len(d) // 2]).rstrip(b"=").decode()


def jwks(oauth):
    return requests.get(oauth.url + "/oauth2/keys", timeout=10).text


def verified(oauth, token, alg):
    keyset = jwk.JWKSet.from_json(jwks(oauth))
    t = jwcrypto_jwt.JWT(jwt=token, key=keyset, algs=[alg],
                         check_claims={"iss": oauth.url, "exp": None})
    return json.loads(t.claims)


def code_flow(oauth, client, scope=OIDC_SCOPE, **params):
    r = authorize(oauth, code_params(client[0], scope=scope, **params), user=USER,
                  password=PASSWORD)
    assert r.status_code == 302, r.text
    _, q = query_of(r.headers["Location"])
    assert "code" in q, r.headers["Location"]
    t = redeem(oauth, q["code"], client)
    assert t.status_code == 200, t.text
    return t.json()


def oidc_client(oauth, scope=OIDC_SCOPE, **fields):
    client = make_client(oauth, "trusted", scope=scope, **fields)
    make_user(oauth)
    return client


def userinfo(oauth, token=None, method="GET", in_body=False, **kw):
    headers = kw.pop("headers", {})
    data = kw.pop("data", None)
    if token is not None and not in_body:
        headers["Authorization"] = "Bearer " + token
    if token is not None and in_body:
        data = dict(data or {}, access_token=token)
    return requests.request(method, oauth.url + "/oauth2/userinfo", headers=headers, data=data,
                            timeout=10, **kw)


def challenge(r):
    return r.headers.get("WWW-Authenticate", "")


# --- ID tokens --------------------------------------------------------------------------------

def test_code_flow_issues_an_id_token_with_every_claim(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client, nonce=NONCE)
    idt = t["id_token"]
    h = header(idt)
    assert h["alg"] == "RS256" and h["typ"] == "JWT" and h["kid"]
    c = verified(oauth, idt, "RS256")
    assert c["iss"] == oauth.url
    assert c["sub"] == USER
    assert c["aud"] == client[0]
    assert "azp" not in c  # a single audience (Core §2)
    assert c["exp"] - c["iat"] == 3600
    assert isinstance(c["auth_time"], int) and c["auth_time"] <= c["iat"]
    assert c["nonce"] == NONCE  # echoed exactly
    assert c["at_hash"] == at_hash(t["access_token"], "RS256")
    assert "client_id" not in c and "scope" not in c
    # Scope claims go to userinfo (an access token is issued), not into the ID token.
    assert "email" not in c and "name" not in c
    # sub is the same in the access token and stable across sign-ins.
    assert payload(t["access_token"])["sub"] == c["sub"]
    again = code_flow(oauth, client)
    assert payload(again["id_token"])["sub"] == USER
    assert "nonce" not in payload(again["id_token"])  # only when the request had one


def test_a_relying_party_expecting_another_nonce_rejects_the_id_token(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client, nonce="the-nonce")
    keys = JsonWebKey.import_key_set(json.loads(jwks(oauth)))

    def parse(nonce):
        claims = authlib_jwt.decode(t["id_token"], keys, claims_cls=CodeIDToken,
                                    claims_options={"iss": {"values": [oauth.url]}},
                                    claims_params={"nonce": nonce, "client_id": client[0],
                                                   "access_token": t["access_token"]})
        claims.validate()
        return claims

    assert parse("the-nonce")["sub"] == USER  # at_hash checked by Authlib too
    with pytest.raises(InvalidClaimError):
        parse("another-nonce")
    with pytest.raises(InvalidClaimError):
        parse("the-nonc")


def test_no_openid_no_id_token(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client, scope="profile petstore.r")
    assert "id_token" not in t


def test_refresh_issues_a_new_id_token_with_the_original_sign_in(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client, nonce="n1")
    first = verified(oauth, t["id_token"], "RS256")
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                    client=client)
    assert r.status_code == 200, r.text
    second = verified(oauth, r.json()["id_token"], "RS256")
    for k in ("iss", "sub", "aud", "auth_time"):
        assert second[k] == first[k], k
    assert second["iat"] >= first["iat"]
    assert "nonce" not in second  # Core §12.2
    assert second["at_hash"] == at_hash(r.json()["access_token"], "RS256")
    # Twice more: the sign-in travels along every rotation.
    r2 = oauth.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
                     client=client)
    assert r2.status_code == 200, r2.text
    assert payload(r2.json()["id_token"])["auth_time"] == first["auth_time"]
    # Without openid in the refreshed scope: no ID token.
    r3 = oauth.token({"grant_type": "refresh_token", "scope": "petstore.r",
                      "refresh_token": r2.json()["refresh_token"]}, client=client)
    assert r3.status_code == 200, r3.text
    assert "id_token" not in r3.json()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_instances_share_the_sign_in_through_the_store(tmp_path, backend):
    """The sign-in rides in the refresh-token row (migration 0008): an instance that did not
    issue the first ID token issues the refreshed one with the same auth_time and sub."""
    store = ("sqlite:" + str(tmp_path / "shared.db")) if backend == "sqlite" \
        else new_pg_database()
    a = Portcullis(env=ENV, store=store)
    b = None
    try:
        oa = OAuthServer(a)
        client = oidc_client(oa)
        t = code_flow(oa, client, nonce="n")
        first = verified(oa, t["id_token"], "RS256")
        b = Portcullis(args=["--services", "token", "--issuer", a.url], env=ENV, store=store)
        ob = OAuthServer(b)
        r = ob.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                     client=client)
        assert r.status_code == 200, r.text
        second = verified(oa, r.json()["id_token"], "RS256")
        assert (second["sub"], second["auth_time"], second["aud"]) == \
            (first["sub"], first["auth_time"], first["aud"])
        u = userinfo(ob, r.json()["access_token"])
        assert u.status_code == 200 and u.json()["sub"] == USER, u.text
    finally:
        if b:
            assert b.stop() == 0, b.read_log()
        assert a.stop() == 0, a.read_log()


def test_rs256_id_tokens_when_access_tokens_use_es256(es256):
    oauth = es256
    meta = requests.get(oauth.url + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    keys = json.loads(jwks(oauth))["keys"]
    assert sorted(k["kty"] for k in keys) == ["EC", "RSA"]
    client = oidc_client(oauth)
    t = code_flow(oauth, client, nonce="n")
    assert header(t["access_token"])["alg"] == "ES256"
    assert header(t["id_token"])["alg"] == "RS256"
    c = verified(oauth, t["id_token"], "RS256")
    assert c["at_hash"] == at_hash(t["access_token"], "RS256")
    verified(oauth, t["access_token"], "ES256")
    # Rotation covers both algorithms: two next keys are published.
    assert oauth.admin("POST", "/oauth2/keys/rotate").status_code == 200
    assert len(json.loads(jwks(oauth))["keys"]) == 4


def test_an_id_token_is_never_an_access_token(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client)
    idt = t["id_token"]
    rs, rs_secret = oauth.create_client("confidential")
    intro = requests.post(oauth.url + "/oauth2/introspect", data={"token": idt},
                          auth=(rs, rs_secret), timeout=10).json()
    assert intro == {"active": False}
    v = requests.get(oauth.url + "/oauth2/verify", timeout=10, headers={
        "Authorization": "Bearer " + idt, "X-Service-Id": "any",
        "X-Original-Method": "GET", "X-Original-URI": "/"})
    assert v.status_code == 401, v.text
    admin = requests.get(oauth.url + "/oauth2/client", timeout=10,
                         headers={"Authorization": "Bearer " + idt})
    assert admin.status_code == 401, admin.text
    u = userinfo(oauth, idt)
    assert u.status_code == 401 and 'error="invalid_token"' in challenge(u), u.text
    # Nor is a token exchange's subject token.
    x = oauth.token({"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                     "subject_token": idt,
                     "subject_token_type": "urn:ietf:params:oauth:token-type:access_token"},
                    client=client)
    assert x.status_code in (400, 401), x.text


# --- userinfo ---------------------------------------------------------------------------------

def test_userinfo_get_and_post_with_the_token_in_the_header_or_the_body(oauth):  # noqa: F811
    client = oidc_client(oauth)
    at = code_flow(oauth, client)["access_token"]
    expected = {"sub": USER, "name": "A B", "given_name": "A", "family_name": "B",
                "preferred_username": USER, "email": USER + "@example.com",
                "email_verified": False}
    for r in (userinfo(oauth, at), userinfo(oauth, at, "POST"),
              userinfo(oauth, at, "POST", in_body=True)):
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.headers["Cache-Control"] == "no-store"
        body = r.json()
        assert isinstance(body.pop("updated_at"), int)
        assert body == expected


def test_external_clients_get_at_hash_of_the_reference_and_userinfo_takes_it(oauth):  # noqa: F811
    bff = oauth.create_client("confidential")
    client = make_client(oauth, "external", scope=OIDC_SCOPE, derefClientId=bff[0])
    make_user(oauth)
    record_consent(oauth, client[0], scope="openid profile")
    t = code_flow(oauth, client, scope="openid profile")
    assert "." not in t["access_token"]  # a reference, not the JWT
    c = verified(oauth, t["id_token"], "RS256")
    assert c["at_hash"] == at_hash(t["access_token"], "RS256")
    r = userinfo(oauth, t["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["given_name"] == "A" and r.json()["sub"] == USER
    r = userinfo(oauth, "unknown-reference-value")
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text


def test_userinfo_releases_only_what_the_scope_allows(oauth):  # noqa: F811
    client = oidc_client(oauth)
    email_only = code_flow(oauth, client, scope="openid email")["access_token"]
    assert userinfo(oauth, email_only).json() == {"sub": USER, "email": USER + "@example.com",
                                                  "email_verified": False}
    # The record has no phone or address yet: those scopes release nothing.
    client2 = make_client(oauth, "trusted", scope="openid phone address")
    none = code_flow(oauth, client2, scope="openid phone address")["access_token"]
    assert userinfo(oauth, none).json() == {"sub": USER}
    u = oauth.admin("GET", f"/oauth2/user/{USER}").json()
    u.update(emailVerified=True, phoneNumber="+47 555 0100", phoneNumberVerified=True,
             address={"street_address": "1 Main St", "locality": "Oslo", "country": "NO"})
    r = oauth.admin("PUT", "/oauth2/user", json=u)
    assert r.status_code == 200, r.text
    assert userinfo(oauth, none).json() == {
        "sub": USER, "phone_number": "+47 555 0100", "phone_number_verified": True,
        "address": {"street_address": "1 Main St", "locality": "Oslo", "country": "NO"}}
    assert userinfo(oauth, email_only).json()["email_verified"] is True
    # A new e-mail address is not verified until said so.
    u = oauth.admin("GET", f"/oauth2/user/{USER}").json()
    u["email"] = "other@example.com"
    del u["emailVerified"]
    assert oauth.admin("PUT", "/oauth2/user", json=u).status_code == 200
    assert userinfo(oauth, email_only).json() == {"sub": USER, "email": "other@example.com",
                                                  "email_verified": False}
    # Bad values are refused with the field named.
    for bad, field in (({"phoneNumber": "call me"}, "phoneNumber"),
                       ({"address": {"planet": "Mars"}}, "address"),
                       ({"address": "Oslo"}, "address")):
        r = oauth.admin("PUT", "/oauth2/user", json=dict(userId=USER, **bad))
        assert r.status_code == 400 and field in r.json()["description"], r.text
    bare = code_flow(oauth, client, scope="openid")["access_token"]
    assert userinfo(oauth, bare).json() == {"sub": USER}


def test_userinfo_refusals_follow_rfc_6750(oauth):  # noqa: F811
    client = oidc_client(oauth)
    at = code_flow(oauth, client)["access_token"]
    # No token: 401 with the bare challenge, no error code (§3.1).
    r = userinfo(oauth)
    assert r.status_code == 401 and challenge(r).startswith("Bearer")
    assert "error=" not in challenge(r)
    # In the query: refused, even when it is a good token.
    r = requests.get(oauth.url + "/oauth2/userinfo", params={"access_token": at}, timeout=10)
    assert r.status_code == 400 and 'error="invalid_request"' in challenge(r), r.text
    # In two places at once.
    r = userinfo(oauth, at, "POST", headers={"Authorization": "Bearer " + at},
                 in_body=True)
    assert r.status_code == 400 and 'error="invalid_request"' in challenge(r), r.text
    # A body that is not a form: refused, unless the header carries the token.
    r = requests.post(oauth.url + "/oauth2/userinfo", data=json.dumps({"access_token": at}),
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and 'error="invalid_request"' in challenge(r), r.text
    r = requests.post(oauth.url + "/oauth2/userinfo", data="{}", timeout=10, headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + at})
    assert r.status_code == 200, r.text
    # Garbage, a tampered token, another scheme.
    for bad in ("garbage", at[:-4] + ("AAAA" if not at.endswith("AAAA") else "BBBB")):
        r = userinfo(oauth, bad)
        assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text
        assert r.json()["error"] == "invalid_token"
    r = userinfo(oauth, headers={"Authorization": basic(*client)})
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r)


def test_userinfo_needs_openid(oauth):  # noqa: F811
    client = oidc_client(oauth)
    t = code_flow(oauth, client, scope="profile email")
    r = userinfo(oauth, t["access_token"])
    assert r.status_code == 403, r.text
    assert 'error="insufficient_scope"' in challenge(r) and 'scope="openid"' in challenge(r)
    assert r.json()["error"] == "insufficient_scope"


def test_userinfo_refuses_tokens_without_a_user_and_signed_payloads(oauth):  # noqa: F811
    cid, secret = oauth.create_client("trusted", scope="openid profile")
    cc = oauth.token({"grant_type": "client_credentials", "scope": "openid profile"},
                     client=(cid, secret))
    assert cc.status_code == 200, cc.text
    r = userinfo(oauth, cc.json()["access_token"])
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text
    # A signed payload dressed as a user's token.
    body = {"expires": 300, "payload": {"user_id": USER, "scope": "openid profile",
                                        "sub": USER}}
    s = requests.post(oauth.url + "/oauth2/signing", json=body,
                      headers={"Authorization": basic(cid, secret)}, timeout=10)
    assert s.status_code == 200, s.text
    r = userinfo(oauth, s.json()["access_token"])
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text


def test_userinfo_refuses_revoked_tokens_and_locked_or_deleted_users(oauth):  # noqa: F811
    client = oidc_client(oauth)
    at = code_flow(oauth, client)["access_token"]
    assert requests.post(oauth.url + "/oauth2/revoke", data={"token": at}, auth=client,
                         timeout=10).status_code == 200
    r = userinfo(oauth, at)
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text

    at = code_flow(oauth, client)["access_token"]
    assert userinfo(oauth, at).status_code == 200
    u = oauth.admin("GET", f"/oauth2/user/{USER}").json()
    u["locked"] = True
    assert oauth.admin("PUT", "/oauth2/user", json=u).status_code == 200
    r = userinfo(oauth, at)
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text

    u["locked"] = False
    assert oauth.admin("PUT", "/oauth2/user", json=u).status_code == 200
    at = code_flow(oauth, client)["access_token"]
    assert userinfo(oauth, at).status_code == 200
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}").status_code == 200
    r = userinfo(oauth, at)
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text


def test_discovery_lists_the_openid_connect_metadata(oauth):  # noqa: F811
    meta = requests.get(oauth.url + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["userinfo_endpoint"] == oauth.url + "/oauth2/userinfo"
    assert meta["subject_types_supported"] == ["public"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["scopes_supported"] == ["openid", "profile", "email", "address", "phone"]
    assert meta["claims_parameter_supported"] is True
    for c in ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
              "given_name", "family_name", "email", "email_verified", "address", "phone_number",
              "phone_number_verified"):
        assert c in meta["claims_supported"], c
    # Nothing unimplemented.
    for c in ("picture", "birthdate", "locale", "zoneinfo", "gender", "website"):
        assert c not in meta["claims_supported"], c


def test_cli_sets_the_openid_connect_user_fields(tmp_path):
    require_cli("user")
    tmp, url = new_cli_store()
    r = cli("user", "create", "--id", "bob", "--type", "customer", "--email", "bob@x.com",
            "--email-verified", "true", "--phone", "+1 555 0100", "--phone-verified", "false",
            "--address", '{"locality":"Oslo","country":"NO"}', "--password-stdin",
            store=url, stdin="correct horse battery\n")
    assert r.returncode == 0, r.stderr
    r = cli("user", "get", "bob", "--json", store=url)
    u = json.loads(r.stdout)
    assert u["emailVerified"] is True and u["phoneNumber"] == "+1 555 0100"
    assert u["phoneNumberVerified"] is False
    assert u["address"] == {"locality": "Oslo", "country": "NO"}
    r = cli("user", "update", "bob", "--phone-verified", "true", "--address", "null", store=url)
    assert r.returncode == 0, r.stderr
    u = json.loads(cli("user", "get", "bob", "--json", store=url).stdout)
    assert u["phoneNumberVerified"] is True and u["address"] is None
    r = cli("user", "update", "bob", "--email-verified", "maybe", store=url)
    assert r.returncode != 0
    r = cli("user", "update", "bob", "--address", "{", store=url)
    assert r.returncode == 1 and "address" in r.stderr
