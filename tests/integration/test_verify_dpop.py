"""Sender-constrained tokens at GET /oauth2/verify (README "Sender-constrained tokens at the
resource"): the DPoP scheme and proofs (RFC 9449 §7) made by a jwcrypto client, against the real
binary and through the nginx gateway example."""
import base64
import hashlib
import secrets
import time

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from oauth_fixtures import oauth  # noqa: F401
from test_verify import Petstore, pets, verify  # noqa: F401
from test_verify_nginx import gateway  # noqa: F401

ORIGIN = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}
HTU = "https://api.example.com/v1/pets"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_proof(key, htm, htu, token=None, iat=None, jti=None, typ="dpop+jwt", alg="ES256"):
    """A DPoP proof (RFC 9449 §4.2) made with jwcrypto, independent of Portcullis' code."""
    claims = {"htm": htm, "htu": htu, "iat": int(time.time()) if iat is None else iat,
              "jti": jti or secrets.token_urlsafe(16)}
    if token is not None:
        claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    # A symmetric key has no public part: put the key itself in, as an attacker would.
    member = key.export(as_dict=True) if key["kty"] == "oct" else key.export_public(as_dict=True)
    s = jws.JWS(json_encode(claims))
    s.add_signature(key, alg=alg, protected=json_encode({"typ": typ, "alg": alg, "jwk": member}))
    return s.serialize(compact=True)


def ec_key():
    return jwk.JWK.generate(kty="EC", crv="P-256")


def dpop_verify(oauth, token, proof, uri="/v1/pets", method="GET", origin=ORIGIN,  # noqa: F811
                extra=None):
    h = {"Authorization": "DPoP " + token, **origin, **(extra or {})}
    if proof is not None:
        h["DPoP"] = proof
    return verify(oauth, method=method, uri=uri, headers=h)


def challenge(r):
    return r.headers.get("WWW-Authenticate", "")


def test_unbound_token_with_the_dpop_scheme_is_refused(oauth, pets):  # noqa: F811
    # RFC 9449 §7.2, decided: there is no binding to check the proof's key against.
    token = pets.token(pets.reader)
    r = dpop_verify(oauth, token, make_proof(ec_key(), "GET", HTU, token))
    assert r.status_code == 401, r.text
    assert challenge(r).startswith('DPoP algs="ES256 PS256 EdDSA RS256"'), challenge(r)
    assert 'error="invalid_token"' in challenge(r)
    assert r.json()["error"] == "invalid_token"
    # The same token as Bearer still passes: unbound tokens keep the old path.
    assert verify(oauth, token).status_code == 204


def test_dpop_request_without_the_public_origin_is_a_gateway_config_error(oauth, pets):  # noqa: F811,E501
    token = pets.token(pets.reader)
    proof = make_proof(ec_key(), "GET", HTU, token)
    for origin in ({}, {"X-Forwarded-Proto": "https"}, {"X-Forwarded-Host": "api.example.com"}):
        r = dpop_verify(oauth, token, proof, origin=origin)
        assert r.status_code == 400, (origin, r.text)
        assert "X-Forwarded-Host" in r.json()["error_description"]
    # An absolute X-Original-URI carries the origin itself.
    r = verify(oauth, uri=HTU, headers={"Authorization": "DPoP " + token, "DPoP": proof})
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text


def test_dpop_scheme_through_the_nginx_gateway(oauth, gateway):  # noqa: F811
    # The example config forwards the DPoP header and the public origin: without them the
    # check would answer 400 and nginx 500. Here the refusal and its DPoP challenge come back.
    pets = Petstore(oauth)
    token = pets.token(pets.reader)
    htu = gateway.url + "/v1/pets"
    r = gateway.get("/v1/pets", **{"Authorization": "DPoP " + token,
                                   "DPoP": make_proof(ec_key(), "GET", htu, token)})
    assert r.status_code == 401, r.text + gateway.logs()
    assert challenge(r).startswith("DPoP algs="), challenge(r)
    assert gateway.get("/v1/pets", token).status_code == 200
