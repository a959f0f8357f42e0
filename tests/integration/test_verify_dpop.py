"""Sender-constrained tokens at GET /oauth2/verify (README "Sender-constrained tokens at the
resource"): the DPoP scheme and proofs (RFC 9449 §7) made by a jwcrypto client, against the real
binary and through the nginx gateway example."""
import base64
import hashlib
import secrets
import time

import pytest

from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from oauth_fixtures import oauth  # noqa: F401
from test_verify import Petstore, pets, verify  # noqa: F401
from test_verify_example import rs_factory  # noqa: F401
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
    h = {"Authorization": "DPoP " + token, **origin}
    if proof is not None:
        h["DPoP"] = proof
    h.update(extra or {})
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


# --- DPoP-bound tokens issued by the token endpoint (the dpop slice) ---------------------------

def dpop_token(oauth, client, key):  # noqa: F811
    """A client_credentials token bound to `key` (RFC 9449 §5)."""
    r = oauth.token({"grant_type": "client_credentials"}, client=client,
                    headers={"DPoP": make_proof(key, "POST", oauth.url + "/oauth2/token")})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP", r.text
    return r.json()["access_token"]


def test_dpop_bound_token_as_bearer_is_refused(oauth, pets):  # noqa: F811
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    r = verify(oauth, token)  # Authorization: Bearer <token>
    assert r.status_code == 401, r.text
    assert challenge(r).startswith('DPoP algs="'), challenge(r)
    assert 'error="invalid_token"' in challenge(r)
    # Even with a valid proof alongside: the scheme must be DPoP (RFC 9449 §7.2).
    r = verify(oauth, token, headers={"DPoP": make_proof(key, "GET", HTU, token), **ORIGIN})
    assert r.status_code == 401 and 'error="invalid_token"' in challenge(r), r.text


def test_dpop_bound_token_with_its_proof_passes_once(oauth, pets):  # noqa: F811
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    proof = make_proof(key, "GET", HTU, token)
    r = dpop_verify(oauth, token, proof)
    assert r.status_code == 204, r.text
    assert r.headers["X-Client-Id"] == pets.reader[0]
    # The query is not part of htu; host case and the default port are normalised.
    r = dpop_verify(oauth, token, make_proof(key, "GET", "https://API.example.com:443/v1/pets",
                                              token), uri="/v1/pets?limit=2")
    assert r.status_code == 204, r.text
    # Replayed.
    r = dpop_verify(oauth, token, proof)
    assert r.status_code == 401, r.text
    assert 'error="invalid_dpop_proof"' in challenge(r), challenge(r)


@pytest.mark.parametrize("case", ["htu", "htm", "stale", "future", "ath", "key", "missing",
                                  "two", "typ", "hs256"])
def test_bad_proofs_are_refused(oauth, pets, case):  # noqa: F811
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    error = "invalid_dpop_proof"
    extra = None
    now = int(time.time())
    if case == "htu":
        proof = make_proof(key, "GET", "https://api.example.com/v1/pets/42", token)
    elif case == "htm":
        proof = make_proof(key, "DELETE", HTU, token)
    elif case == "stale":
        proof = make_proof(key, "GET", HTU, token, iat=now - 3600)
    elif case == "future":
        proof = make_proof(key, "GET", HTU, token, iat=now + 3600)
    elif case == "ath":
        proof = make_proof(key, "GET", HTU, token + "x")
    elif case == "key":  # a valid proof from a key the token is not bound to
        proof = make_proof(ec_key(), "GET", HTU, token)
        error = "invalid_token"
    elif case == "missing":
        proof = None
    elif case == "two":
        proof = make_proof(key, "GET", HTU, token)
        extra = {"DPoP": proof + "," + make_proof(key, "GET", HTU, token)}
    elif case == "typ":
        proof = make_proof(key, "GET", HTU, token, typ="JWT")
    else:
        hs = jwk.JWK.generate(kty="oct", size=256)
        proof = make_proof(hs, "GET", HTU, token, alg="HS256")
    r = dpop_verify(oauth, token, proof, extra=extra)
    assert r.status_code == 401, (case, r.text)
    assert f'error="{error}"' in challenge(r), (case, challenge(r))
    assert r.json()["error"] == error, r.text


def test_dpop_bound_token_through_the_nginx_gateway(oauth, gateway):  # noqa: F811
    pets = Petstore(oauth)
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    htu = gateway.url + "/v1/pets"
    r = gateway.get("/v1/pets", **{"Authorization": "DPoP " + token,
                                   "DPoP": make_proof(key, "GET", htu, token)})
    assert r.status_code == 200, r.text + gateway.logs()
    assert r.headers["X-Upstream-Client-Id"] == pets.reader[0]
    r = gateway.get("/v1/pets", token)  # as a bearer token
    assert r.status_code == 401, r.text
    assert challenge(r).startswith("DPoP algs="), challenge(r)
    # A proof for another path of the same gateway.
    r = gateway.get("/v1/pets", **{"Authorization": "DPoP " + token,
                                   "DPoP": make_proof(key, "GET", htu + "/42", token)})
    assert r.status_code == 401 and "invalid_dpop_proof" in challenge(r), r.text


def test_two_dpop_header_fields_are_refused(oauth, pets):  # noqa: F811
    # Two separate fields, as a client could send them (requests would merge them).
    import http.client
    import urllib.parse
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    u = urllib.parse.urlparse(oauth.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.putrequest("GET", "/oauth2/verify")
    for name, value in {"Authorization": "DPoP " + token, "X-Original-Method": "GET",
                        "X-Original-URI": "/v1/pets", "X-Service-Id": "petstore",
                        **ORIGIN}.items():
        c.putheader(name, value)
    c.putheader("DPoP", make_proof(key, "GET", HTU, token))
    c.putheader("DPoP", make_proof(key, "GET", HTU, token))
    c.endheaders()
    r = c.getresponse()
    assert r.status == 401, r.read()
    assert 'error="invalid_dpop_proof"' in r.getheader("WWW-Authenticate")
    assert b"Exactly one DPoP header" in r.read()
    c.close()


def test_library_checks_dpop_bound_tokens(oauth, rs_factory):  # noqa: F811
    # libportcullis-verify in the example resource server, against tokens the server issued.
    from test_verify_example import online
    pets = Petstore(oauth)
    rs = online(oauth, rs_factory)
    key = ec_key()
    token = dpop_token(oauth, pets.reader, key)
    htu = rs.url + "/v1/pets/42"
    proof = make_proof(key, "GET", htu, token)
    r = rs.get("/v1/pets/42", **{"Authorization": "DPoP " + token, "DPoP": proof})
    assert r.status_code == 200, r.text + rs.logs()
    assert r.json()["clientId"] == pets.reader[0]
    r = rs.get("/v1/pets/42", **{"Authorization": "DPoP " + token, "DPoP": proof})
    assert r.status_code == 401 and r.json()["reason"] == "dpop_replay", r.text
    assert 'error="invalid_dpop_proof"' in challenge(r)
    r = rs.get("/v1/pets/42", token)  # as a bearer token
    assert r.status_code == 401 and r.json()["reason"] == "dpop_bound_as_bearer", r.text
    assert challenge(r).startswith('DPoP algs="ES256 PS256 EdDSA RS256", error="invalid_token"')
    r = rs.get("/v1/pets/42", **{"Authorization": "DPoP " + token,
                                 "DPoP": make_proof(key, "GET", rs.url + "/v1/pets", token)})
    assert r.status_code == 401 and r.json()["reason"] == "dpop_htu_mismatch", r.text
