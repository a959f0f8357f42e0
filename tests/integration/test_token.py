"""The token service, porting light-oauth2's token tests (reference §16.1) and adding the cases
upstream lacks: single-use codes, client binding, refresh rotation with reuse detection,
concurrent refresh, hostile bodies."""
import base64
import json
import threading

import pytest
import requests

from oauth_fixtures import BOOT_ID, BOOT_SECRET, basic, oauth  # noqa: F401


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(jwt):
    h = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))


def err(r, status, code=None, error=None):
    assert r.status_code == status, r.text
    body = r.json()
    if code:
        assert body["code"] == code, body
    if error:
        assert body["error"] == error, body
    return body


CC = {"grant_type": "client_credentials"}


def test_client_credentials_basic_gives_an_rfc9068_jwt(oauth):
    cid, secret = oauth.create_client("trusted")
    r = oauth.token(CC, client=(cid, secret))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] == 600
    assert "refresh_token" not in body
    c = claims(body["access_token"])
    assert c["client_id"] == cid and c["sub"] == cid
    assert c["scope"] == "petstore.r petstore.w"
    assert c["exp"] - c["iat"] == 600 and c["iss"] == oauth.url and c["jti"]
    assert header(body["access_token"])["typ"] == "at+jwt"


def test_light4j_profile_claims(oauth):
    # Reserved claim names are refused at registration (reference §18.6).
    r = oauth.admin("POST", "/oauth2/client", json={
        "clientType": "trusted", "clientProfile": "service", "clientName": "x", "clientDesc": "x",
        "host": "h", "ownerId": "admin", "scope": "a", "customClaim": '{"scope": "evil"}'})
    assert r.status_code == 400 and "customClaim" in r.json()["error_description"]
    cid, secret = oauth.create_client("trusted", tokenProfile="light-4j",
                                      customClaim='{"c1": "361", "c2": "67"}')
    r = oauth.token(CC, client=(cid, secret))
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["scope"] == ["petstore.r", "petstore.w"]  # an array in this profile
    assert c["version"] == "1.0" and c["nbf"] == c["iat"] - 120
    assert c["c1"] == "361" and c["c2"] == "67"
    assert "sub" not in c
    assert header(r.json()["access_token"])["typ"] == "JWT"


def test_client_credentials_via_form_and_unencoded_basic(oauth):
    cid, secret = oauth.create_client("confidential")
    r = oauth.token({**CC, "client_id": cid, "client_secret": secret})
    assert r.status_code == 200, r.text
    r = oauth.token(CC, auth=f"Basic {cid}:{secret}")
    assert r.status_code == 200, r.text


def test_scope_subset_and_set_membership(oauth):
    cid, secret = oauth.create_client("trusted")
    r = oauth.token({**CC, "scope": "petstore.r"}, client=(cid, secret))
    assert claims(r.json()["access_token"])["scope"] == "petstore.r"
    # light-oauth2 matched substrings: "pet" passed. Not here.
    err(oauth.token({**CC, "scope": "pet"}, client=(cid, secret)), 400, "ERR12027", "invalid_scope")
    err(oauth.token({**CC, "scope": "overwrite.r"}, client=(cid, secret)), 400, "ERR12027")


def test_error_codes_of_the_token_endpoint(oauth):
    cid, secret = oauth.create_client("trusted")
    r = requests.post(oauth.url + "/oauth2/token", data="test",
                      headers={"Content-Type": "text/plain", "Authorization": basic(cid, secret)})
    err(r, 400, "ERR12000")
    err(oauth.token({"grant_type": "fake"}, client=(cid, secret)), 400, "ERR12001",
        "unsupported_grant_type")
    err(oauth.token({}, client=(cid, secret)), 400, "ERR12001")
    r = oauth.token(CC)
    err(r, 401, "ERR12002", "invalid_client")
    assert "Basic" in r.headers["WWW-Authenticate"]
    # RFC 6749 §5.2: an unknown client is 401 invalid_client; light-oauth2's code stays.
    err(oauth.token(CC, client=("fake", secret)), 401, "ERR12014", "invalid_client")
    r = oauth.token(CC, client=(cid, "wrong"))
    err(r, 401, "ERR12007", "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    err(oauth.token(CC, auth="Basic abc"), 401, "ERR12004")
    err(oauth.token(CC, auth="Bearer abc"), 401, "ERR12003")
    err(oauth.token(CC, auth="B"), 401, "ERR12003")


def test_public_client_cannot_use_client_credentials(oauth):
    cid, secret = oauth.create_client("public")
    r = oauth.token({**CC, "client_id": cid})
    assert r.status_code in (400, 401), r.text


def test_external_client_gets_reference_token_and_deref(oauth):
    bff, bff_secret = oauth.create_client("confidential")
    ext, ext_secret = oauth.create_client("external", derefClientId=bff)
    r = oauth.token(CC, client=(ext, ext_secret))
    assert r.status_code == 200, r.text
    ref = r.json()["access_token"]
    assert "." not in ref
    d = requests.get(oauth.url + "/oauth2/deref/" + ref, headers={"Authorization": basic(bff, bff_secret)})
    assert d.status_code == 200 and not d.text.startswith("{")
    assert claims(d.text)["client_id"] == ext
    # deref errors (reference §16.1)
    other, other_secret = oauth.create_client("confidential")
    err(requests.get(oauth.url + "/oauth2/deref/" + ref, headers={"Authorization": basic(other, other_secret)}), 400, "ERR12044")
    err(requests.get(oauth.url + "/oauth2/deref/fake", headers={"Authorization": basic(bff, bff_secret)}), 400, "ERR12045")
    err(requests.get(oauth.url + "/oauth2/deref/" + ref, headers={"Authorization": basic("nobody", "x")}), 404, "ERR12014")
    err(requests.get(oauth.url + "/oauth2/deref/" + ref, headers={"Authorization": basic(bff, "wrong")}), 401, "ERR12007")
    err(requests.get(oauth.url + "/oauth2/deref/" + ref), 401, "ERR12002")
    err(requests.get(oauth.url + "/oauth2/deref/" + ref, headers={"Authorization": "Bearer x"}), 401, "ERR12003")


def test_password_grant(oauth):
    cid, secret = oauth.create_client("trusted")
    user, pw = oauth.create_user()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw, "scope": "petstore.r"},
                    client=(cid, secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"]
    c = claims(body["access_token"])
    assert c["user_id"] == user and c["user_type"] == "employee" and c["roles"] == "user admin"
    assert c["sub"] == user
    err(oauth.token({"grant_type": "password", "username": user, "password": pw, "scope": "overwrite.r"},
                    client=(cid, secret)), 400, "ERR12027")
    err(oauth.token({"grant_type": "password", "password": pw}, client=(cid, secret)), 400, "ERR12022")
    err(oauth.token({"grant_type": "password", "username": user}, client=(cid, secret)), 400, "ERR12023")
    r = oauth.token({"grant_type": "password", "username": user, "password": "wrong"}, client=(cid, secret))
    err(r, 401, "ERR12016")
    r2 = oauth.token({"grant_type": "password", "username": "nobody", "password": "wrong"}, client=(cid, secret))
    assert r2.json()["error_description"] == r.json()["error_description"]  # reveals nothing
    pub, pub_secret = oauth.create_client("confidential")
    err(oauth.token({"grant_type": "password", "username": user, "password": pw}, client=(pub, pub_secret)),
        400, "ERR12024")


def password_tokens(oauth, cid, secret):
    user, pw = oauth.create_user()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw}, client=(cid, secret))
    assert r.status_code == 200, r.text
    return r.json()


def test_refresh_rotation_and_reuse_detection(oauth):
    cid, secret = oauth.create_client("trusted")
    first = password_tokens(oauth, cid, secret)
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    client=(cid, secret))
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["remember"] == "N"
    assert claims(second["access_token"])["user_id"] == "alice"
    # Reusing the rotated token revokes the whole family: the new one dies too.
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    client=(cid, secret)), 400, error="invalid_grant")
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
                    client=(cid, secret)), 400, error="invalid_grant")


def test_refresh_by_another_client_is_refused_and_does_not_burn_the_token(oauth):
    cid, secret = oauth.create_client("trusted")
    other, other_secret = oauth.create_client("trusted")
    t = password_tokens(oauth, cid, secret)
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                    client=(other, other_secret)), 400, "ERR12028")
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]}, client=(cid, secret))
    assert r.status_code == 200, r.text
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": "fake"}, client=(cid, secret)),
        400, "ERR12029", "invalid_grant")
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"],
                     "scope": "petstore.r admin.w"}, client=(cid, secret)), 400, "ERR12027")


def test_concurrent_refresh_has_exactly_one_winner(oauth):
    cid, secret = oauth.create_client("trusted")
    t = password_tokens(oauth, cid, secret)
    results = []
    barrier = threading.Barrier(8)

    def attempt():
        barrier.wait()
        r = oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                        client=(cid, secret))
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(200) == 1, results
    assert all(s == 400 for s in results if s != 200), results


def test_client_authenticated_user(oauth):
    cid, secret = oauth.create_client("trusted")
    r = oauth.token({"grant_type": "client_authenticated_user", "userId": "bob", "userType": "customer",
                     "transit": "12345", "iss": "forged"}, client=(cid, secret))
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["user_id"] == "bob" and c["transit"] == "12345" and c["iss"] == oauth.url
    assert r.json()["refresh_token"]
    err(oauth.token({"grant_type": "client_authenticated_user", "userType": "customer"}, client=(cid, secret)),
        400, "ERR12031")
    err(oauth.token({"grant_type": "client_authenticated_user", "userId": "bob"}, client=(cid, secret)),
        400, "ERR12032")
    conf, conf_secret = oauth.create_client("confidential")
    err(oauth.token({"grant_type": "client_authenticated_user", "userId": "bob", "userType": "c"},
                    client=(conf, conf_secret)), 400, "ERR12024")


def test_bootstrap_token(oauth):
    r = oauth.token({"grant_type": "bootstrap_token", "sid": "com.networknt.petstore-1.0.0"},
                    client=(BOOT_ID, BOOT_SECRET))
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["sid"] == "com.networknt.petstore-1.0.0" and c["scope"] == "portal.w"
    assert r.json()["expires_in"] == 86400
    r = oauth.token({"grant_type": "bootstrap_token", "client_id": BOOT_ID, "client_secret": BOOT_SECRET,
                     "sid": "x"})
    assert r.status_code == 200, r.text
    err(oauth.token({"grant_type": "bootstrap_token", "scope": "wrong.w"}, client=(BOOT_ID, BOOT_SECRET)),
        400, "ERR12027")
    err(oauth.token({"grant_type": "bootstrap_token"}, client=(BOOT_ID, "wrong")), 401, "ERR12007")
    cid, secret = oauth.create_client("trusted")
    err(oauth.token({"grant_type": "bootstrap_token"}, client=(cid, secret)), 401, "ERR12007")


def test_signing(oauth):
    cid, secret = oauth.create_client("confidential")
    body = {"expires": 300, "payload": {"order": 42, "nested": {"a": [1, 2]}, "exp": 1}}
    r = requests.post(oauth.url + "/oauth2/signing", json=body, headers={"Authorization": basic(cid, secret)})
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["order"] == 42 and c["nested"] == {"a": [1, 2]} and c["client_id"] == cid
    assert c["exp"] - c["iat"] == 300  # the payload cannot set exp
    err(requests.post(oauth.url + "/oauth2/signing", json=body), 400, "ERR11017")
    err(requests.post(oauth.url + "/oauth2/signing", json=body, headers={"Authorization": basic("x", "y")}),
        404, "ERR12014")
    err(requests.post(oauth.url + "/oauth2/signing", json=body, headers={"Authorization": basic(cid, "y")}),
        401, "ERR12007")
    err(requests.post(oauth.url + "/oauth2/signing", data="{", headers={"Authorization": basic(cid, secret)}),
        400, "ERR11004")


def test_introspection_and_revocation(oauth):
    cid, secret = oauth.create_client("trusted")
    rs, rs_secret = oauth.create_client("confidential")
    at = oauth.token(CC, client=(cid, secret)).json()["access_token"]
    i = requests.post(oauth.url + "/oauth2/introspect", data={"token": at}, auth=(rs, rs_secret)).json()
    assert i["active"] is True and i["client_id"] == cid and i["scope"] == "petstore.r petstore.w"
    assert requests.post(oauth.url + "/oauth2/introspect", data={"token": at}).status_code == 401
    assert requests.post(oauth.url + "/oauth2/introspect", data={"token": "nonsense"},
                         auth=(rs, rs_secret)).json() == {"active": False}
    # Only the owner can revoke; a foreign revocation is silently ignored (RFC 7009 §2.2).
    assert requests.post(oauth.url + "/oauth2/revoke", data={"token": at}, auth=(rs, rs_secret)).status_code == 200
    assert requests.post(oauth.url + "/oauth2/introspect", data={"token": at}, auth=(rs, rs_secret)).json()["active"]
    assert requests.post(oauth.url + "/oauth2/revoke", data={"token": at}, auth=(cid, secret)).status_code == 200
    assert requests.post(oauth.url + "/oauth2/introspect", data={"token": at},
                         auth=(rs, rs_secret)).json() == {"active": False}
    # Refresh tokens: introspectable by their client, revocation kills the family.
    t = password_tokens(oauth, cid, secret)
    i = requests.post(oauth.url + "/oauth2/introspect", data={"token": t["refresh_token"]}, auth=(cid, secret)).json()
    assert i["active"] is True and i["token_type"] == "refresh_token"
    assert requests.post(oauth.url + "/oauth2/introspect", data={"token": t["refresh_token"]},
                         auth=(rs, rs_secret)).json() == {"active": False}
    assert requests.post(oauth.url + "/oauth2/revoke", data={"token": t["refresh_token"]},
                         auth=(cid, secret)).status_code == 200
    err(oauth.token({"grant_type": "refresh_token", "refresh_token": t["refresh_token"]}, client=(cid, secret)),
        400, error="invalid_grant")


def test_discovery_metadata(oauth):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        m = requests.get(oauth.url + path).json()
        assert m["issuer"] == oauth.url
        assert m["token_endpoint"] == oauth.url + "/oauth2/token"
        assert m["jwks_uri"] == oauth.url + "/oauth2/keys"
        assert "client_credentials" in m["grant_types_supported"]
        assert m["code_challenge_methods_supported"] == ["S256"]
        assert "private_key_jwt" in m["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("body", [
    "grant_type=client_credentials&grant_type=password",
    "grant_type=client_credentials&scope=" + "a" * 9000,
    "grant_type=%ZZ",
    "\x00\x01\x02binary=\xff",
    "grant_type=client_credentials&client_id=' OR 1=1 --&client_secret=x",
    "grant_type=client_credentials&client_id=%E2%80%AE%F0%9F%92%A9&client_secret=x",
])
def test_hostile_form_bodies_get_clear_4xx(oauth, body):
    r = requests.post(oauth.url + "/oauth2/token", data=body.encode("latin-1"),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]


def test_private_key_jwt_client_authentication_with_replay_cache(oauth):
    import time
    import uuid
    from jwcrypto import jwk, jwt as jwcrypto_jwt
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="a1")
    jwks = json.dumps({"keys": [json.loads(key.export_public())]})
    cid, _ = oauth.create_client("confidential", authMethod="private_key_jwt", jwks=jwks)

    def assertion(aud=oauth.url + "/oauth2/token", sub=None, jti=None):
        now = int(time.time())
        t = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": "a1"},
                             claims={"iss": cid, "sub": sub or cid, "aud": aud, "iat": now,
                                     "exp": now + 60, "jti": jti or uuid.uuid4().hex})
        t.make_signed_token(key)
        return t.serialize()

    form = {**CC, "client_id": cid,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    a = assertion()
    r = oauth.token({**form, "client_assertion": a})
    assert r.status_code == 200, r.text
    err(oauth.token({**form, "client_assertion": a}), 401, "ERR12007")  # replayed jti
    err(oauth.token({**form, "client_assertion": assertion(aud="https://elsewhere")}), 401, "ERR12007")
    err(oauth.token({**form, "client_assertion": assertion(sub="someone-else")}), 401, "ERR12007")
    # A secret is not accepted for a private_key_jwt client.
    other = jwk.JWK.generate(kty="EC", crv="P-256", kid="a1")
    now = int(time.time())
    forged = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": "a1"},
                              claims={"iss": cid, "sub": cid, "aud": oauth.url, "exp": now + 60,
                                      "jti": "x"})
    forged.make_signed_token(other)
    err(oauth.token({**form, "client_assertion": forged.serialize()}), 401, "ERR12007")


def test_token_exchange_narrows_scope_records_the_chain_and_obeys_policy(oauth):
    # Services B and C, a user-facing client A, and B's delegation policy toward C.
    for sid in ("svc-b", "svc-c"):
        r = oauth.admin("POST", "/oauth2/service", json={
            "serviceId": sid, "serviceType": "openapi", "serviceName": sid, "serviceDesc": "x",
            "host": "lightapi.net", "ownerId": "admin", "scope": "x"})
        assert r.status_code == 200, r.text
    a, a_secret = oauth.create_client("trusted", scope="orders.read orders.write profile")
    b, b_secret = oauth.create_client("confidential", scope="x")
    user, pw = oauth.create_user()
    user_token = oauth.token({"grant_type": "password", "username": user, "password": pw},
                             client=(a, a_secret)).json()["access_token"]
    XCHG = "urn:ietf:params:oauth:grant-type:token-exchange"
    AT = "urn:ietf:params:oauth:token-type:access_token"
    req = {"grant_type": XCHG, "subject_token": user_token, "subject_token_type": AT,
           "audience": "svc-c", "scope": "orders.read"}
    # No policy yet: refused.
    err(oauth.token(req, client=(b, b_secret)), 400, error="unauthorized_client")
    r = oauth.admin("PUT", f"/oauth2/client/{b}/delegation",
                    json=[{"audience": "svc-c", "scope": "orders.read", "maxDepth": 2}])
    assert r.status_code == 200, r.text
    assert oauth.admin("GET", f"/oauth2/client/{b}/delegation").json()[0]["audience"] == "svc-c"
    r = oauth.token(req, client=(b, b_secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issued_token_type"] == AT
    c = claims(body["access_token"])
    assert c["sub"] == user and c["user_id"] == user and c["aud"] == "svc-c"
    assert c["scope"] == "orders.read" and c["client_id"] == b
    assert c["act"] == {"sub": b}
    # Wider than the policy, another audience, an unknown audience: refused.
    err(oauth.token({**req, "scope": "orders.write"}, client=(b, b_secret)), 400, error="invalid_scope")
    err(oauth.token({**req, "audience": "svc-b"}, client=(b, b_secret)), 400, error="unauthorized_client")
    # The chain grows with each hop and stops at maxDepth.
    c_client, c_secret = oauth.create_client("confidential", scope="x")
    oauth.admin("PUT", f"/oauth2/client/{c_client}/delegation",
                json=[{"audience": "svc-c", "scope": "orders.read", "maxDepth": 2}])
    hop2 = oauth.token({**req, "subject_token": body["access_token"]}, client=(c_client, c_secret))
    assert hop2.status_code == 200, hop2.text
    assert claims(hop2.json()["access_token"])["act"] == {"sub": c_client, "act": {"sub": b}}
    err(oauth.token({**req, "subject_token": hop2.json()["access_token"]}, client=(b, b_secret)),
        400, error="invalid_request")
    # A forged or revoked subject token is refused.
    err(oauth.token({**req, "subject_token": user_token[:-4] + "AAAA"}, client=(b, b_secret)),
        400, error="invalid_grant")
    bad = oauth.admin("PUT", f"/oauth2/client/{b}/delegation", json=[{"audience": "nope", "scope": "a"}])
    assert bad.status_code == 404 and bad.json()["code"] == "ERR12015"
