"""DPoP with Pushed Authorization Requests (RFC 9449 §10.1) and DPoP-bound codes that a wrong
key cannot burn (§10), black-box, with jwcrypto-made proofs: a DPoP header at POST /oauth2/par is
checked as at the token endpoint (htm, htu = the PAR endpoint, replay, nonce) and binds the
pushed request's code to its key as dpop_jkt does; a dpop_jkt naming another key is refused; a
code bound to a key and presented with another key, or without a proof, stays unspent for the
client that holds the key."""
import http.client
import json
from urllib.parse import urlencode, urlparse

import requests

from code_helpers import (PASSWORD, REDIRECT, USER, authorize, code_params, make_client,
                          make_user, pkce_pair, query_of)
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401
from test_dpop import DpopKey, claims_of, htu, refused


def par_url(server):
    return server.url + "/oauth2/par"


def push(oauth, client, proof=None, **extra):
    """POSTs a code request (PKCE S256) to /oauth2/par; returns (response, code_verifier)."""
    verifier, challenge = pkce_pair()
    data = {"response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
            "state": "st-1", "code_challenge": challenge, "code_challenge_method": "S256",
            "scope": "petstore.r"}
    data.update(extra)
    headers = {"Authorization": basic(client[0], client[1])}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.post(par_url(oauth), data=data, headers=headers, timeout=10), verifier


def code_by_reference(oauth, client, request_uri):
    r = authorize(oauth, {"client_id": client[0], "request_uri": request_uri}, USER, PASSWORD)
    assert r.status_code == 302, r.text
    _, q = query_of(r.headers["Location"])
    assert "code" in q, q
    return q["code"]


def redeem(oauth, code, client, key=None, verifier=None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        data["code_verifier"] = verifier
    headers = {"DPoP": key.proof(htu(oauth))} if key else {}
    return oauth.token(data, client=client, headers=headers)


def test_proof_at_par_binds_the_code_to_its_key(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    key, other = DpopKey(), DpopKey("EdDSA")
    r, verifier = push(oauth, client, key.proof(par_url(oauth)))
    assert r.status_code == 201, r.text
    code = code_by_reference(oauth, client, r.json()["request_uri"])
    # Another key, or no proof: refused, and the code is not spent by it.
    refused(redeem(oauth, code, client, other, verifier), "invalid_grant")
    refused(redeem(oauth, code, client, None, verifier), "invalid_grant")
    r = redeem(oauth, code, client, key, verifier)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt()
    # Single use all the same.
    refused(redeem(oauth, code, client, key, verifier), "invalid_grant")


def test_proof_and_dpop_jkt_must_name_the_same_key(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    key, other = DpopKey(), DpopKey()
    r, _ = push(oauth, client, key.proof(par_url(oauth)), dpop_jkt=other.jkt())
    refused(r, "invalid_request")
    # Both naming the same key: accepted, bound to it.
    r, verifier = push(oauth, client, key.proof(par_url(oauth)), dpop_jkt=key.jkt())
    assert r.status_code == 201, r.text
    code = code_by_reference(oauth, client, r.json()["request_uri"])
    refused(redeem(oauth, code, client, other, verifier), "invalid_grant")
    assert redeem(oauth, code, client, key, verifier).status_code == 200
    # dpop_jkt alone at PAR still binds (no proof needed there).
    r, verifier = push(oauth, client, dpop_jkt=key.jkt())
    assert r.status_code == 201, r.text
    code = code_by_reference(oauth, client, r.json()["request_uri"])
    refused(redeem(oauth, code, client, other, verifier), "invalid_grant")
    assert redeem(oauth, code, client, key, verifier).status_code == 200


def test_bad_or_replayed_proofs_at_par_are_refused(oauth):
    client = make_client(oauth, "trusted")
    key = DpopKey()
    proof = key.proof(par_url(oauth))
    r, _ = push(oauth, client, proof)
    assert r.status_code == 201, r.text
    refused(push(oauth, client, proof)[0], "invalid_dpop_proof")  # replayed
    # A proof for the token endpoint, for GET, stale, signed by another key, or not a JWT.
    refused(push(oauth, client, key.proof(htu(oauth)))[0], "invalid_dpop_proof")
    refused(push(oauth, client, key.proof(par_url(oauth), htm="GET"))[0], "invalid_dpop_proof")
    refused(push(oauth, client, key.proof(par_url(oauth), iat=1))[0], "invalid_dpop_proof")
    refused(push(oauth, client, key.proof(par_url(oauth), signing_key=DpopKey().key))[0],
            "invalid_dpop_proof")
    refused(push(oauth, client, "not.a.proof")[0], "invalid_dpop_proof")
    # Two DPoP header fields (RFC 9449 §4.3 check 1): one is a proof, the other is not.
    _, challenge = pkce_pair()
    data = {"response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
            "code_challenge": challenge, "code_challenge_method": "S256"}
    u = urlparse(oauth.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.putrequest("POST", "/oauth2/par")
    body = urlencode(data).encode()
    for name, value in (("Authorization", basic(client[0], client[1])),
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        ("Content-Length", str(len(body))),
                        ("DPoP", key.proof(par_url(oauth))), ("DPoP", key.proof(par_url(oauth)))):
        conn.putheader(name, value)
    conn.endheaders(body)
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["error"] == "invalid_dpop_proof"
    # A PAR proof is no good at the token endpoint either (its htu names PAR).
    r = oauth.token({"grant_type": "client_credentials"}, client=client,
                    headers={"DPoP": key.proof(par_url(oauth))})
    refused(r, "invalid_dpop_proof")


def test_nonces_at_par_when_required(start):
    s = start(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                   "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                   "PORTCULLIS_DPOP_REQUIRE_NONCE": "true"})
    oauth = OAuthServer(s)
    client = make_client(oauth, "trusted")
    key = DpopKey()
    r = refused(push(oauth, client, key.proof(par_url(oauth)))[0], "use_dpop_nonce")
    nonce = r.headers["DPoP-Nonce"]
    assert nonce
    r, _ = push(oauth, client, key.proof(par_url(oauth), nonce=nonce))
    assert r.status_code == 201, r.text
    assert r.headers["DPoP-Nonce"]


def test_a_bound_code_is_not_burnt_by_a_wrong_key_or_none(oauth):
    """RFC 9449 §10: the binding is checked before the code is spent, so whoever stole the code
    cannot burn it for the client that holds the key, not even with a wrong code_verifier."""
    make_user(oauth)
    client = make_client(oauth, "trusted")
    key, other = DpopKey(), DpopKey()
    verifier, challenge = pkce_pair()
    r = authorize(oauth, code_params(client[0], dpop_jkt=key.jkt(), code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD)
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1]["code"]
    for _ in range(3):
        refused(redeem(oauth, code, client, other, verifier), "invalid_grant")
        refused(redeem(oauth, code, client, None, verifier), "invalid_grant")
        refused(redeem(oauth, code, client, other, "wrong-" + verifier), "invalid_grant")
        refused(redeem(oauth, code, client, None, None), "invalid_grant")
    r = redeem(oauth, code, client, key, verifier)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt()
    # Spent now: a replay, even with the key, is refused (and revokes what it issued).
    refused(redeem(oauth, code, client, key, verifier), "invalid_grant")
    refresh = r.json()["refresh_token"]
    refused(oauth.token({"grant_type": "refresh_token", "refresh_token": refresh}, client=client,
                        headers={"DPoP": key.proof(htu(oauth))}), "invalid_grant")

    # An unbound code is spent by its first redemption as before, proof or not (PKCE unchanged).
    verifier, challenge = pkce_pair()
    r = authorize(oauth, code_params(client[0], code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD)
    code = query_of(r.headers["Location"])[1]["code"]
    refused(redeem(oauth, code, client, other, "wrong-" + verifier), "invalid_grant")
    refused(redeem(oauth, code, client, other, verifier), "invalid_grant")
