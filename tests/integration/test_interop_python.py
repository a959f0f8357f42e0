"""Interoperability with independent Python libraries (Debian packages): Authlib drives the
protocol; jwcrypto and PyJWT verify our tokens against the published JWKS; tokens they sign
verify in Portcullis's own verifier (`portcullis jwt verify`)."""
import json
import os
import subprocess
import tempfile
import time

import jwt as pyjwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwk, jws, jwt as jwcrypto_jwt

from conftest import BIN, Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer

ALGS = ["RS256", "PS256", "ES256", "EdDSA"]


@pytest.fixture(params=ALGS)
def alg_server(request):
    s = Portcullis(args=["--set", f"keys.algorithm={request.param}"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    yield request.param, OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def test_authlib_flow_and_both_verifiers(alg_server):
    alg, oauth = alg_server
    meta = requests.get(oauth.url + "/.well-known/oauth-authorization-server").json()
    cid, secret = oauth.create_client("trusted", scope="orders.read orders.write")
    session = OAuth2Session(cid, secret, scope="orders.read",
                            token_endpoint_auth_method="client_secret_basic")
    token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    at = token["access_token"]

    jwks_json = requests.get(meta["jwks_uri"]).text
    keyset = jwk.JWKSet.from_json(jwks_json)
    verified = jwcrypto_jwt.JWT(jwt=at, key=keyset, algs=[alg],
                                check_claims={"iss": oauth.url, "exp": None})
    claims = json.loads(verified.claims)
    assert claims["client_id"] == cid and claims["scope"] == "orders.read"

    client = pyjwt.PyJWKClient(meta["jwks_uri"])
    signing_key = client.get_signing_key_from_jwt(at)
    decoded = pyjwt.decode(at, signing_key.key, algorithms=[alg], issuer=oauth.url,
                           options={"verify_aud": False})
    assert decoded["client_id"] == cid

    rs, rs_secret = oauth.create_client("confidential")
    rs_session = OAuth2Session(rs, rs_secret)
    intro = rs_session.introspect_token(meta["introspection_endpoint"], token=at).json()
    assert intro["active"] is True
    r = session.revoke_token(meta["revocation_endpoint"], token=at)
    assert r.status_code == 200
    assert rs_session.introspect_token(meta["introspection_endpoint"], token=at).json()["active"] is False


def test_authlib_password_and_refresh(alg_server):
    _, oauth = alg_server
    cid, secret = oauth.create_client("trusted")
    user, pw = oauth.create_user()
    session = OAuth2Session(cid, secret, token_endpoint_auth_method="client_secret_post")
    token = session.fetch_token(oauth.url + "/oauth2/token", username=user, password=pw)
    assert token["refresh_token"]
    new = session.refresh_token(oauth.url + "/oauth2/token", refresh_token=token["refresh_token"])
    assert new["refresh_token"] != token["refresh_token"]


def verify_with_portcullis(jwks_obj, token, issuer=None):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(jwks_obj)
        path = f.name
    args = [BIN, "jwt", "verify", "--jwks", path, token]
    if issuer:
        args += ["--issuer", issuer]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    os.unlink(path)
    return r


KEYGEN = {
    "RS256": lambda: jwk.JWK.generate(kty="RSA", size=2048),
    "PS256": lambda: jwk.JWK.generate(kty="RSA", size=2048),
    "ES256": lambda: jwk.JWK.generate(kty="EC", crv="P-256"),
    "EdDSA": lambda: jwk.JWK.generate(kty="OKP", crv="Ed25519"),
}


@pytest.mark.parametrize("alg", ALGS)
def test_tokens_signed_by_jwcrypto_verify_in_portcullis(alg):
    key = KEYGEN[alg]()
    key["kid"] = "k1"  # noqa: the JWK supports item assignment for members
    now = int(time.time())
    token = jwcrypto_jwt.JWT(header={"alg": alg, "kid": "k1"},
                             claims={"iss": "https://rs.example", "exp": now + 300, "iat": now, "sub": "x"})
    token.make_signed_token(key)
    public = jwk.JWKSet()
    public.add(jwk.JWK(**json.loads(key.export_public())))
    r = verify_with_portcullis(public.export(private_keys=False), token.serialize(), "https://rs.example")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sub"] == "x"
    # A token signed by another key with the same kid is refused.
    other = KEYGEN[alg]()
    forged = jwcrypto_jwt.JWT(header={"alg": alg, "kid": "k1"}, claims={"exp": now + 300})
    forged.make_signed_token(other)
    r = verify_with_portcullis(public.export(private_keys=False), forged.serialize())
    assert r.returncode == 1 and "bad_signature" in r.stderr


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_tokens_signed_by_pyjwt_verify_in_portcullis(alg):
    key = KEYGEN[alg]()
    pem = key.export_to_pem(private_key=True, password=None)
    now = int(time.time())
    token = pyjwt.encode({"exp": now + 300, "iat": now, "aud": "api"}, pem, algorithm=alg,
                         headers={"kid": "p1"})
    pub = json.loads(key.export_public())
    pub["kid"] = "p1"
    r = verify_with_portcullis(json.dumps({"keys": [pub]}), token)
    assert r.returncode == 0, r.stderr


def test_hs256_signed_with_our_public_key_is_refused():
    key = KEYGEN["RS256"]()
    pub = json.loads(key.export_public())
    pub["kid"] = "c1"
    pem = jwk.JWK(**pub).export_to_pem()
    # HS/RS confusion: the attacker uses the public key bytes as an HMAC secret.
    header = {"alg": "HS256", "kid": "c1"}
    t = jws.JWS(json.dumps({"exp": int(time.time()) + 60}))
    t.add_signature(jwk.JWK(kty="oct", k=jwk.base64url_encode(pem)), alg="HS256", protected=json.dumps(header))
    r = verify_with_portcullis(json.dumps({"keys": [pub]}), t.serialize(compact=True))
    assert r.returncode == 1 and "alg" in r.stderr


def test_authlib_authorization_code_with_pkce(alg_server):
    from code_helpers import basic_user
    _, oauth = alg_server
    meta = requests.get(oauth.url + "/.well-known/oauth-authorization-server").json()
    redirect = "http://127.0.0.1:9/authlib-cb"
    # Trusted: HTTP Basic sign-in issues a code to other clients only with a recorded consent.
    cid, secret = oauth.create_client("trusted", scope="orders.read profile",
                                      redirectUris=[redirect], clientProfile="webserver")
    user, pw = oauth.create_user("frank", "frank-password-123")
    session = OAuth2Session(cid, secret, scope="orders.read", redirect_uri=redirect,
                            code_challenge_method="S256")
    verifier = __import__("secrets").token_urlsafe(48)
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    r = requests.get(url, headers={"Authorization": basic_user(user, pw)}, allow_redirects=False)
    assert r.status_code == 302, r.text
    token = session.fetch_token(meta["token_endpoint"], authorization_response=r.headers["Location"],
                                code_verifier=verifier)
    assert token["scope"] == "orders.read" and token["refresh_token"]
    keyset = jwk.JWKSet.from_json(requests.get(meta["jwks_uri"]).text)
    claims = json.loads(jwcrypto_jwt.JWT(jwt=token["access_token"], key=keyset).claims)
    assert claims["sub"] == user and claims["client_id"] == cid
