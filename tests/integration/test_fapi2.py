"""The per-client FAPI 2.0 profile (`profile: fapi2`, README "FAPI 2.0 profile"), black-box.

A Python client built on jwcrypto makes its own private_key_jwt assertions and DPoP proofs.
Checked: registration (API and CLI round trip, and each static refusal: secret methods, RS256,
password grants, public clients, an RS256-only server), a plain authorization request, client
secrets at the token and PAR endpoints, a token request that is neither DPoP- nor mTLS-bound,
PKCE missing or plain, a pushed request without redirect_uri, an assertion whose aud is not the
issuer as a string or whose iat/nbf lies more than 60 s ahead, a mTLS-bound fapi2 client at the
token, PAR and device authorization endpoints, a code redeemed
after its 60 s lifetime (the server runs under libfaketime, whose clock the test moves), and the
whole happy path: PAR + private_key_jwt + PKCE + DPoP code flow, then refreshes that keep the
refresh token (no rotation for fapi2 clients), on SQLite and on PostgreSQL.
"""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import time
import uuid

import pytest
import requests
from jwcrypto import jwk, jws, jwt as jwcrypto_jwt

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, make_client, make_user,
                          pkce_pair, query_of)
from conftest import BIN, Portcullis, new_pg_database
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PREFIX = "urn:ietf:params:oauth:request_uri:"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
GRANTS = ["authorization_code", "refresh_token", "client_credentials"]
SCOPE = "openid petstore.r petstore.w"


def start(algorithm="ES256", env=None, **kw):
    e = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
         "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
         "PORTCULLIS_KEYS_ALGORITHM": algorithm}
    e.update(env or {})
    return OAuthServer(Portcullis(env=e, **kw))


@pytest.fixture
def oauth():
    o = start()
    yield o
    assert o.s.stop() == 0, o.s.read_log()


def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def header_of(token):
    return b64json(token.split(".")[0])


def claims_of(token):
    return b64json(token.split(".")[1])


class Fapi2Client:
    """A fapi2 client: its private_key_jwt key (registered inline), its DPoP key, and the
    assertions and proofs it signs. `skew` shifts every iat/exp it writes, for a server whose
    clock the test moved."""

    def __init__(self, oauth, client_type="trusted", rsa=False, profile="fapi2", **fields):
        self.oauth = oauth
        kid = "ck-" + uuid.uuid4().hex[:8]
        # rsa: RSA keys (no "alg" in the JWK), which sign PS256 or RS256 as the caller picks.
        self.key = (jwk.JWK.generate(kty="RSA", size=2048, kid=kid) if rsa
                    else jwk.JWK.generate(kty="EC", crv="P-256", kid=kid))
        self.dpop = (jwk.JWK.generate(kty="RSA", size=2048) if rsa
                     else jwk.JWK.generate(kty="EC", crv="P-256"))
        self.alg = self.dpop_alg = "PS256" if rsa else "ES256"
        self.skew = 0
        body = {"profile": profile, "authMethod": "private_key_jwt",
                "jwks": {"keys": [json.loads(self.key.export_public())]},
                "grantTypes": GRANTS}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        self.id, secret = make_client(oauth, client_type, scope=SCOPE, **body)
        assert secret is None  # private_key_jwt: no secret is made

    def now(self):
        return int(time.time()) + self.skew

    def assertion(self, aud=None, **overrides):
        now = self.now()
        claims = {"iss": self.id, "sub": self.id, "aud": aud or self.oauth.url, "iat": now,
                  "exp": now + 60, "jti": uuid.uuid4().hex}
        claims.update(overrides)
        t = jwcrypto_jwt.JWT(header={"alg": self.alg, "kid": self.key.get("kid")}, claims=claims)
        t.make_signed_token(self.key)
        return t.serialize()

    def auth(self, **overrides):
        return {"client_id": self.id, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(**overrides)}

    def jkt(self):
        return self.dpop.thumbprint()

    def proof(self, htu=None, htm="POST", token=None):
        claims = {"jti": str(uuid.uuid4()), "htm": htm,
                  "htu": htu or self.oauth.url + "/oauth2/token", "iat": self.now()}
        if token is not None:  # RFC 9449 4.2: ath, at a resource
            digest = hashlib.sha256(token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        h = {"typ": "dpop+jwt", "alg": self.dpop_alg,
             "jwk": json.loads(self.dpop.export_public())}
        s = jws.JWS(json.dumps(claims))
        s.add_signature(self.dpop, alg=self.dpop_alg, protected=json.dumps(h))
        return s.serialize(compact=True)

    def token(self, data, dpop=True, **auth_overrides):
        headers = {"DPoP": self.proof()} if dpop else {}
        return requests.post(self.oauth.url + "/oauth2/token",
                             data={**data, **self.auth(**auth_overrides)}, headers=headers,
                             timeout=10)

    def push(self, challenge, method="S256", dpop=False, **extra):
        data = {"response_type": "code", "client_id": self.id, "redirect_uri": REDIRECT,
                "state": "st-fapi", "scope": SCOPE}
        if challenge is not None:
            data["code_challenge"] = challenge
        if method is not None:
            data["code_challenge_method"] = method
        data.update(extra)
        data = {k: v for k, v in data.items() if v is not None}
        url = self.oauth.url + "/oauth2/par"
        headers = {"DPoP": self.proof(htu=url)} if dpop else {}
        return requests.post(url, data={**data, **self.auth()}, headers=headers, timeout=10)

    def code(self):
        """A code by PAR and the HTTP Basic sign-in (a trusted client needs no consent)."""
        verifier, challenge = pkce_pair()
        r = self.push(challenge)
        assert r.status_code == 201, r.text
        r = authorize(self.oauth, {"client_id": self.id, "request_uri": r.json()["request_uri"]},
                      user=USER, password=PASSWORD)
        assert r.status_code == 302, r.text
        base, q = query_of(r.headers["Location"])
        assert base == REDIRECT and "code" in q, r.headers["Location"]
        return q, verifier


def refused(r, status, error):
    assert r.status_code == status, r.text
    assert r.json()["error"] == error, r.text
    return r.json()


def test_registration_round_trip_and_static_refusals(oauth):
    c = Fapi2Client(oauth)
    got = oauth.admin("GET", "/oauth2/client/" + c.id).json()
    assert got["profile"] == "fapi2"
    assert got["authMethod"] == "private_key_jwt"
    # No idTokenSignedResponseAlg named: the server's keys.algorithm, never RS256.
    assert got["idTokenSignedResponseAlg"] == "ES256"
    # An update that does not name it keeps the profile; null takes it off.
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": c.id, "clientDesc": "edited"})
    assert r.status_code == 200, r.text
    assert oauth.admin("GET", "/oauth2/client/" + c.id).json()["profile"] == "fapi2"
    plain = make_client(oauth, "trusted")
    assert oauth.admin("GET", "/oauth2/client/" + plain[0]).json()["profile"] is None

    def bad(field, client_type="trusted", **fields):
        body = {"clientType": client_type, "clientProfile": "webserver", "clientName": "fapi",
                "host": "lightapi.net", "ownerId": "admin", "scope": SCOPE,
                "redirectUris": [REDIRECT], "profile": "fapi2", "authMethod": "private_key_jwt",
                "jwks": {"keys": [json.loads(c.key.export_public())]}, "grantTypes": GRANTS}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        r = oauth.admin("POST", "/oauth2/client", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["description"].startswith(field), r.text

    # Client authentication by a secret (FAPI 2.0 5.3.2.1).
    bad("authMethod:", authMethod="client_secret_basic", jwks=None)
    bad("authMethod:", authMethod="client_secret_post", jwks=None)
    # A public client.
    bad("profile:", client_type="public", authMethod="none", jwks=None,
        grantTypes=["authorization_code"])
    # RS256 ID tokens (FAPI 2.0 5.4.1).
    bad("idTokenSignedResponseAlg:", idTokenSignedResponseAlg="RS256")
    # The resource owner password grant.
    bad("grantTypes[1]:", grantTypes=["authorization_code", "password"])
    # An unknown profile.
    bad("profile:", profile="fapi1")
    # Inline keys usable with RS256 only (FAPI 2.0 5.4.1): its assertions could never pass; the
    # same RSA key marked PS256, or with no alg, is fine.
    rsa = json.loads(jwk.JWK.generate(kty="RSA", size=2048, kid="r1").export_public())
    bad("jwks:", jwks={"keys": [{**rsa, "alg": "RS256"}]})
    Fapi2Client(oauth, jwks={"keys": [{**rsa, "alg": "PS256"}]})
    both = Fapi2Client(oauth, jwks={"keys": [{**rsa, "alg": "RS256", "kid": "r2"},
                                             {**rsa, "alg": "PS256"}]})
    r = oauth.admin("PUT", "/oauth2/client",
                    json={"clientId": both.id, "jwks": {"keys": [{**rsa, "alg": "RS256"}]}})
    assert r.status_code == 400 and r.json()["description"].startswith("jwks:"), r.text
    # Without the profile, RS256-only keys are still taken.
    make_client(oauth, "trusted", authMethod="private_key_jwt",
                jwks={"keys": [{**rsa, "alg": "RS256"}]})
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": plain[0], "profile": "fapi2"})
    assert r.status_code == 400 and r.json()["description"].startswith("authMethod:"), r.text


def test_a_server_that_signs_with_rs256_takes_no_fapi2_client():
    o = start("RS256")
    try:
        key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k")
        r = o.admin("POST", "/oauth2/client", json={
            "clientType": "trusted", "clientProfile": "webserver", "clientName": "fapi",
            "host": "lightapi.net", "ownerId": "admin", "scope": SCOPE,
            "redirectUris": [REDIRECT], "profile": "fapi2", "authMethod": "private_key_jwt",
            "jwks": {"keys": [json.loads(key.export_public())]}, "grantTypes": GRANTS})
        assert r.status_code == 400, r.text
        assert r.json()["description"].startswith("profile:") and "RS256" in r.text
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_cli_round_trip():
    tmp = tempfile.mkdtemp(prefix="portcullis-fapi2-cli-")
    store = "sqlite:" + os.path.join(tmp, "portcullis.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env.update({"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64, "PORTCULLIS_KEYS_ALGORITHM": "PS256"})

    def cli(*args):
        return subprocess.run([BIN, *args, "--store", store], capture_output=True, text=True,
                              env=env, timeout=60)

    assert cli("migrate").returncode == 0
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k")
    data = {"clientType": "confidential", "clientProfile": "webserver", "clientName": "fapi cli",
            "host": "lightapi.net", "ownerId": "admin", "scope": SCOPE,
            "redirectUris": [REDIRECT], "profile": "fapi2", "authMethod": "private_key_jwt",
            "jwks": {"keys": [json.loads(key.export_public())]}, "grantTypes": GRANTS}
    r = cli("client", "create", "--data", json.dumps(data), "--json")
    assert r.returncode == 0, r.stderr
    cid = json.loads(r.stdout)["clientId"]
    got = json.loads(cli("client", "get", cid, "--json").stdout)
    assert got["profile"] == "fapi2" and got["idTokenSignedResponseAlg"] == "PS256"
    r = cli("client", "create", "--data", json.dumps({**data, "authMethod": "client_secret_basic",
                                                      "jwks": None}))
    assert r.returncode == 1 and "authMethod:" in r.stderr, r.stderr


def test_a_plain_authorization_request_is_refused(oauth):
    make_user(oauth)
    c = Fapi2Client(oauth)
    _, challenge = pkce_pair()
    plain = {"response_type": "code", "client_id": c.id, "redirect_uri": REDIRECT,
             "state": "st-1", "code_challenge": challenge, "code_challenge_method": "S256",
             "scope": "petstore.r"}
    r = authorize(oauth, plain, headers=BROWSER)
    assert r.status_code == 302, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    assert q["error"] == "invalid_request" and "code" not in q
    assert "fapi2" in q["error_description"] and q["iss"] == oauth.url and q["state"] == "st-1"
    # An API caller with HTTP Basic (light-oauth2's way) gets no code either.
    r = authorize(oauth, plain, user=USER, password=PASSWORD)
    assert r.status_code == 400 and "Location" not in r.headers, r.text


def test_client_secrets_are_refused_at_token_and_par(oauth):
    c = Fapi2Client(oauth)
    _, challenge = pkce_pair()
    par = {"response_type": "code", "client_id": c.id, "redirect_uri": REDIRECT,
           "code_challenge": challenge, "code_challenge_method": "S256"}
    for url, data in ((oauth.url + "/oauth2/token", {"grant_type": "client_credentials"}),
                      (oauth.url + "/oauth2/par", par)):
        # client_secret_basic.
        r = requests.post(url, data=data, headers={"Authorization": basic(c.id, "guess"),
                                                   "DPoP": c.proof(htu=url)}, timeout=10)
        refused(r, 401, "invalid_client")
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        # client_secret_post, and client_id alone.
        r = requests.post(url, data={**data, "client_id": c.id, "client_secret": "guess"},
                          headers={"DPoP": c.proof(htu=url)}, timeout=10)
        refused(r, 401, "invalid_client")
        r = requests.post(url, data={**data, "client_id": c.id},
                          headers={"DPoP": c.proof(htu=url)}, timeout=10)
        refused(r, 401, "invalid_client")


def test_a_token_request_without_dpop_or_mtls_is_refused(oauth):
    c = Fapi2Client(oauth)
    body = refused(c.token({"grant_type": "client_credentials"}, dpop=False), 400,
                   "invalid_request")
    assert "sender-constrained" in body["error_description"]
    r = c.token({"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims_of(r.json()["access_token"])["cnf"] == {"jkt": c.jkt()}


def test_rs256_client_assertions_and_dpop_proofs_are_refused(oauth):
    """FAPI 2.0 5.4.1 holds for what the client signs too: its private_key_jwt assertions and
    DPoP proofs, at the token and PAR endpoints. The same RSA keys signing PS256 pass, and a
    client without the profile may still use RS256 for both."""
    c = Fapi2Client(oauth, rsa=True)
    _, challenge = pkce_pair()
    cc = {"grant_type": "client_credentials"}
    # The assertion: 401 invalid_client, whatever the proof.
    c.alg = "RS256"
    body = refused(c.token(cc), 401, "invalid_client")
    assert "PS256, ES256 or EdDSA" in body["error_description"], body
    refused(c.push(challenge), 401, "invalid_client")
    c.alg = "PS256"
    # The DPoP proof: 400 invalid_dpop_proof, and no token or pushed request.
    c.dpop_alg = "RS256"
    body = refused(c.token(cc), 400, "invalid_dpop_proof")
    assert "PS256, ES256 or EdDSA" in body["error_description"], body
    refused(c.push(challenge, dpop=True), 400, "invalid_dpop_proof")
    c.dpop_alg = "PS256"
    r = c.token(cc)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims_of(r.json()["access_token"])["cnf"] == {"jkt": c.jkt()}
    assert c.push(challenge, dpop=True).status_code == 201

    plain = Fapi2Client(oauth, rsa=True, profile=None)
    plain.alg = plain.dpop_alg = "RS256"
    r = plain.token(cc)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"


def test_rs256_dpop_proofs_are_refused_at_userinfo_and_verify(oauth):
    """FAPI 2.0 5.4.1 at the resource too: a fapi2 client's token is accepted at /oauth2/userinfo
    and /oauth2/verify only with a PS256, ES256 or EdDSA proof, although the server-wide list
    takes RS256. The token's client_id names the client; a client without the profile may still
    prove with RS256 there."""
    from test_verify import SERVICE, Petstore
    make_user(oauth)
    Petstore(oauth)
    userinfo = oauth.url + "/oauth2/userinfo"
    origin = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}
    htu = "https://api.example.com/v1/pets"
    for profile in ("fapi2", None):
        c = Fapi2Client(oauth, rsa=True, profile=profile)
        q, verifier = c.code()
        r = c.token({"grant_type": "authorization_code", "code": q["code"],
                     "redirect_uri": REDIRECT, "code_verifier": verifier})
        assert r.status_code == 200, r.text
        user_token = r.json()["access_token"]
        # Linked to the service afterwards: its scopes then come from the endpoints.
        r = oauth.admin("POST", f"/oauth2/client/{c.id}/service/{SERVICE}", json=["/v1/pets@get"])
        assert r.status_code == 200, r.text
        r = c.token({"grant_type": "client_credentials"})
        assert r.status_code == 200, r.text
        service_token = r.json()["access_token"]

        def at_userinfo(alg):
            c.dpop_alg = alg
            return requests.get(userinfo, headers={
                "Authorization": "DPoP " + user_token,
                "DPoP": c.proof(htu=userinfo, htm="GET", token=user_token)}, timeout=10)

        def at_verify(alg):
            c.dpop_alg = alg
            return requests.get(oauth.url + "/oauth2/verify", headers={
                "X-Original-Method": "GET", "X-Original-URI": "/v1/pets", "X-Service-Id": SERVICE,
                "Authorization": "DPoP " + service_token, **origin,
                "DPoP": c.proof(htu=htu, htm="GET", token=service_token)}, timeout=10)

        for call, ok in ((at_userinfo, 200), (at_verify, 204)):
            r = call("RS256")
            if profile == "fapi2":
                assert r.status_code == 401, (call.__name__, r.text)
                assert r.json()["error"] == "invalid_dpop_proof", (call.__name__, r.text)
                # The challenge names what this token's proofs may use.
                assert r.headers["WWW-Authenticate"].startswith(
                    'DPoP algs="ES256 PS256 EdDSA"'), r.headers["WWW-Authenticate"]
            else:
                assert r.status_code == ok, (call.__name__, r.text)
            assert call("PS256").status_code == ok, call.__name__


def test_pkce_missing_or_plain_is_refused_at_par(oauth):
    c = Fapi2Client(oauth)
    verifier, challenge = pkce_pair()
    for ch, method in ((None, None), (verifier, None), (verifier, "plain"), (challenge, None)):
        body = refused(c.push(ch, method), 400, "invalid_request")
        assert "S256" in body["error_description"], body
    assert c.push(challenge).status_code == 201


def test_redirect_uri_is_required_in_the_pushed_request(oauth):
    c = Fapi2Client(oauth)  # one redirect URI registered: others may leave it out, not fapi2
    _, challenge = pkce_pair()
    body = refused(c.push(challenge, redirect_uri=None), 400, "invalid_request")
    assert "redirect_uri" in body["error_description"], body


def test_assertion_audience_is_the_issuer_as_a_string(oauth):
    c = Fapi2Client(oauth)
    for aud in (oauth.url + "/oauth2/token", oauth.url + "/oauth2/par", [oauth.url],
                [oauth.url, oauth.url + "/oauth2/token"], "https://elsewhere.example"):
        body = refused(c.token({"grant_type": "client_credentials"}, aud=aud), 401,
                       "invalid_client")
        assert "aud" in body["error_description"], (aud, body)
    assert c.token({"grant_type": "client_credentials"}, aud=oauth.url).status_code == 200


def test_assertions_more_than_60_seconds_ahead_are_refused(oauth):
    c = Fapi2Client(oauth)
    now = int(time.time())
    for claim in ("iat", "nbf"):
        body = refused(c.token({"grant_type": "client_credentials"}, **{claim: now + 120}), 401,
                       "invalid_client")
        # iat: the FAPI rule; nbf: the verifier's own check already refuses it.
        assert ("future" in body["error_description"]
                or "not_yet_valid" in body["error_description"]), body
    # A few seconds of clock offset are fine (FAPI 2.0 5.3.2.1: up to 10 s must be accepted).
    r = c.token({"grant_type": "client_credentials"}, iat=now + 5, nbf=now + 5)
    assert r.status_code == 200, r.text


def test_a_code_redeemed_after_its_60_second_lifetime_is_refused(tmp_path):
    """The server's clock is libfaketime's, read from a file the test rewrites."""
    assert os.path.exists(FAKETIME_LIB), "libfaketime is missing (scripts/deps.sh test)"
    clock = tmp_path / "faketime"
    clock.write_text("+0\n")
    o = start(env={"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": str(clock),
                   "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    try:
        make_user(o)
        c = Fapi2Client(o)
        q, verifier = c.code()
        late_q, late_verifier = c.code()
        # Another client's code lives token.code_ttl_s (300 s by default).
        other = make_client(o, "trusted")
        other_verifier, other_challenge = pkce_pair()
        r = authorize(o, {"response_type": "code", "client_id": other[0],
                          "redirect_uri": REDIRECT, "code_challenge": other_challenge,
                          "code_challenge_method": "S256"}, user=USER, password=PASSWORD)
        assert r.status_code == 302, r.text
        other_code = query_of(r.headers["Location"])[1]["code"]

        # 45 s later (the margin absorbs a slow machine), a fapi2 code still works.
        clock.write_text("+45\n")
        c.skew = 45
        r = c.token({"grant_type": "authorization_code", "code": q["code"],
                     "redirect_uri": REDIRECT, "code_verifier": verifier})
        assert r.status_code == 200, r.text
        # 61 s after it was issued, it no longer does.
        clock.write_text("+61\n")
        c.skew = 61
        body = refused(c.token({"grant_type": "authorization_code", "code": late_q["code"],
                                "redirect_uri": REDIRECT, "code_verifier": late_verifier}),
                       400, "invalid_grant")
        assert body["error"] == "invalid_grant"
        r = o.token({"grant_type": "authorization_code", "code": other_code,
                     "redirect_uri": REDIRECT, "code_verifier": other_verifier}, client=other)
        assert r.status_code == 200, r.text
    finally:
        assert o.s.stop() == 0, o.s.read_log()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request):
    """A server on SQLite, and one on PostgreSQL (PORTCULLIS_TEST_PG_URL)."""
    o = start(store=new_pg_database()) if request.param == "postgres" else start()
    yield o
    assert o.s.stop() == 0, o.s.read_log()


def test_happy_path_par_private_key_jwt_dpop_code_flow_and_refresh(any_store):
    oauth = any_store
    make_user(oauth)
    c = Fapi2Client(oauth)
    meta = oauth.s.get("/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "S256" in meta["code_challenge_methods_supported"]

    q, verifier = c.code()
    # RFC 9207: iss in the authorization response.
    assert q["iss"] == oauth.url and q["state"] == "st-fapi"
    r = c.token({"grant_type": "authorization_code", "code": q["code"],
                 "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["token_type"] == "DPoP"
    access = claims_of(t["access_token"])
    assert access["cnf"] == {"jkt": c.jkt()} and access["client_id"] == c.id
    # FAPI 2.0 5.4.1: ES256 here (keys.algorithm), never RS256, for access and ID tokens.
    assert header_of(t["access_token"])["alg"] == "ES256"
    assert header_of(t["id_token"])["alg"] == "ES256"
    assert claims_of(t["id_token"])["aud"] == c.id
    refresh = t["refresh_token"]

    # No rotation: the same refresh token comes back and keeps working, each time DPoP-bound.
    for _ in range(3):
        r = c.token({"grant_type": "refresh_token", "refresh_token": refresh})
        assert r.status_code == 200, r.text
        again = r.json()
        assert again["refresh_token"] == refresh
        assert again["token_type"] == "DPoP"
        assert claims_of(again["access_token"])["cnf"] == {"jkt": c.jkt()}
    # A refresh without a proof is refused like any other token request.
    refused(c.token({"grant_type": "refresh_token", "refresh_token": refresh}, dpop=False), 400,
            "invalid_request")
    # The token works at introspection, bound, for the client itself.
    i = requests.post(oauth.url + "/oauth2/introspect",
                      data={"token": again["access_token"], **c.auth()}, timeout=10).json()
    assert i["active"] is True and i["token_type"] == "DPoP" and i["cnf"] == {"jkt": c.jkt()}
    # The code is single-use.
    refused(c.token({"grant_type": "authorization_code", "code": q["code"],
                     "redirect_uri": REDIRECT, "code_verifier": verifier}), 400, "invalid_grant")


def test_mtls_fapi2_client_at_token_par_and_device_authorization(tmp_path):
    """A tls_client_auth fapi2 client over Portcullis's own mTLS listener: certificate-bound
    tokens without DPoP, and the PAR and device authorization endpoints authenticate it by the
    connection's certificate as the token endpoint does."""
    from test_mtls import Api, Pki, claims, start_server
    pki = Pki(tmp_path)
    os.makedirs(tmp_path / "server", exist_ok=True)
    s = start_server(tmp_path, f"server.tls_cert={pki.path('server.pem')}",
                     f"server.tls_key={pki.path('server.key')}", "server.tls_client_certs=true",
                     f"server.tls_client_ca={pki.path('ca.pem')}", "keys.algorithm=ES256")
    try:
        api = Api(f"https://127.0.0.1:{s.port}", verify=pki.path("server.pem"))
        cert = pki.issued("fapi", "/O=Example/CN=fapi")
        other = pki.issued("other", "/O=Example/CN=other")
        c = api.register(clientType="trusted", profile="fapi2", authMethod="tls_client_auth",
                         tlsClientAuthSubjectDn="CN=fapi,O=Example", grantTypes=GRANTS + [
                             "urn:ietf:params:oauth:grant-type:device_code"],
                         redirectUris=[REDIRECT], scope="petstore.r")
        cid = c["clientId"]
        assert c["profile"] == "fapi2"
        r = api.token({"grant_type": "client_credentials", "client_id": cid}, cert=cert)
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["cnf"] == {"x5t#S256": pki.thumbprint(cert[0])}
        assert header_of(r.json()["access_token"])["alg"] == "ES256"

        _, challenge = pkce_pair()
        par = {"response_type": "code", "client_id": cid, "redirect_uri": REDIRECT,
               "code_challenge": challenge, "code_challenge_method": "S256"}
        device = {"client_id": cid, "scope": "petstore.r"}
        for path, data, ok in (("/oauth2/par", par, 201),
                               ("/oauth2/device_authorization", device, 200)):
            r = requests.post(api.url + path, data=data, cert=cert, verify=api.verify, timeout=10)
            assert r.status_code == ok, (path, r.text)
            for wrong in (other, None):
                r = requests.post(api.url + path, data=data, cert=wrong, verify=api.verify,
                                  timeout=10)
                assert r.status_code == 401 and r.json()["error"] == "invalid_client", (path,
                                                                                        r.text)
    finally:
        assert s.stop() == 0, s.read_log()


def test_refresh_without_rotation_keeps_the_narrowed_scope(oauth):
    """The kept refresh token's row is cut down with the client: widening the client again does
    not bring back a scope taken away in between."""
    make_user(oauth)
    c = Fapi2Client(oauth)
    q, verifier = c.code()
    r = c.token({"grant_type": "authorization_code", "code": q["code"],
                 "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    assert "petstore.w" in r.json()["scope"].split()

    def set_scope(scope):
        r = oauth.admin("PUT", "/oauth2/client", json={"clientId": c.id, "scope": scope})
        assert r.status_code == 200, r.text

    set_scope("openid petstore.r")
    r = c.token({"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] == refresh
    assert set(r.json()["scope"].split()) == {"openid", "petstore.r"}
    set_scope(SCOPE)
    r = c.token({"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200, r.text
    assert "petstore.w" not in r.json()["scope"].split(), r.json()
    assert "petstore.w" not in claims_of(r.json()["access_token"])["scope"].split()
