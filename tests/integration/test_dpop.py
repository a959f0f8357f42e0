"""DPoP (RFC 9449) at the token endpoint, black-box, with a client that makes its own proofs
with jwcrypto: bound tokens (token_type DPoP, cnf.jkt, introspection), every refusal with its
error, per-client dpopBoundAccessTokens, dpop_jkt-bound codes, bound refresh tokens of public
clients, server nonces, and a replay refused across two instances on one PostgreSQL (which also
accept each other's nonces)."""
import base64
import http.client
import json
import time
import uuid

import pytest
import requests
from jwcrypto import jwk, jws

from code_helpers import (PASSWORD, REDIRECT, USER, authorize, code_params, make_client,
                          make_user, pkce_pair, query_of, record_consent)
from conftest import PG_URL, new_pg_database, poll
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401


class DpopKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self, alg="ES256"):
        self.alg = alg
        if alg == "ES256":
            self.key = jwk.JWK.generate(kty="EC", crv="P-256")
        elif alg == "EdDSA":
            self.key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
        else:
            self.key = jwk.JWK.generate(kty="RSA", size=2048)

    def public(self):
        return json.loads(self.key.export_public())

    def jkt(self):
        return self.key.thumbprint()  # RFC 7638, SHA-256, base64url

    def proof(self, htu, htm="POST", iat=None, jti=None, nonce=None, ath=None, header=None,
              signing_key=None, alg=None):
        claims = {"jti": jti or str(uuid.uuid4()), "htm": htm, "htu": htu,
                  "iat": int(time.time()) if iat is None else iat}
        if nonce is not None:
            claims["nonce"] = nonce
        if ath is not None:
            claims["ath"] = ath
        h = {"typ": "dpop+jwt", "alg": alg or self.alg, "jwk": self.public()}
        h.update(header or {})
        s = jws.JWS(json.dumps(claims))
        s.add_signature(signing_key or self.key, alg=h["alg"], protected=json.dumps(h))
        return s.serialize(compact=True)


def claims_of(jwt):
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def htu(server):
    return server.url + "/oauth2/token"


def cc(oauth, client, proof=None, **kw):
    headers = {"DPoP": proof} if proof else {}
    return oauth.token({"grant_type": "client_credentials"}, client=client, headers=headers, **kw)


def refused(r, error, status=400):
    assert r.status_code == status, r.text
    assert r.json()["error"] == error, r.text
    return r


def test_client_credentials_issue_a_dpop_bound_token(oauth):
    client = oauth.create_client("confidential")
    key = DpopKey()
    r = cc(oauth, client, key.proof(htu(oauth)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt()}
    # Introspection says the same (RFC 9449 §6.2).
    i = requests.post(oauth.url + "/oauth2/introspect", data={"token": body["access_token"]},
                      headers={"Authorization": basic(*client)}, timeout=10).json()
    assert i["active"] is True and i["token_type"] == "DPoP" and i["cnf"] == {"jkt": key.jkt()}
    # Without a proof: a bearer token, as before.
    plain = cc(oauth, client).json()
    assert plain["token_type"].lower() == "bearer" and "cnf" not in claims_of(plain["access_token"])
    i = requests.post(oauth.url + "/oauth2/introspect", data={"token": plain["access_token"]},
                      headers={"Authorization": basic(*client)}, timeout=10).json()
    assert i["token_type"] == "Bearer" and "cnf" not in i
    # RSA (PS256, RS256) and Ed25519 keys work too.
    for alg in ("PS256", "RS256", "EdDSA"):
        k = DpopKey(alg)
        r = cc(oauth, client, k.proof(htu(oauth)))
        assert r.status_code == 200, (alg, r.text)
        assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == k.jkt()
    meta = oauth.s.get("/.well-known/oauth-authorization-server").json()
    assert set(meta["dpop_signing_alg_values_supported"]) == {"ES256", "PS256", "EdDSA", "RS256"}


def test_refusals_each_with_its_error(oauth):
    client = oauth.create_client("confidential")
    key = DpopKey()
    url = htu(oauth)
    # A replayed proof.
    proof = key.proof(url)
    assert cc(oauth, client, proof).status_code == 200
    refused(cc(oauth, client, proof), "invalid_dpop_proof")
    # A proof for another htu, or another htm.
    refused(cc(oauth, client, key.proof(oauth.url + "/oauth2/introspect")), "invalid_dpop_proof")
    refused(cc(oauth, client, key.proof("https://evil.example/oauth2/token")), "invalid_dpop_proof")
    refused(cc(oauth, client, key.proof(url, htm="GET")), "invalid_dpop_proof")
    # A stale iat, and one from the future.
    refused(cc(oauth, client, key.proof(url, iat=int(time.time()) - 3600)), "invalid_dpop_proof")
    refused(cc(oauth, client, key.proof(url, iat=int(time.time()) + 3600)), "invalid_dpop_proof")
    # A jwk holding the private key.
    private = json.loads(key.key.export_private())
    refused(cc(oauth, client, key.proof(url, header={"jwk": private})), "invalid_dpop_proof")
    # HS256 (keyed with a secret the attacker picks) and alg none.
    secret = jwk.JWK.generate(kty="oct", size=256)
    refused(cc(oauth, client, key.proof(url, alg="HS256", signing_key=secret)),
            "invalid_dpop_proof")
    header, payload, _ = key.proof(url).split(".")
    none_header = base64.urlsafe_b64encode(json.dumps(
        {"typ": "dpop+jwt", "alg": "none", "jwk": key.public()}).encode()).rstrip(b"=").decode()
    refused(cc(oauth, client, none_header + "." + payload + "."), "invalid_dpop_proof")
    # Another typ; a signature by another key than the jwk; ath at the token endpoint.
    refused(cc(oauth, client, key.proof(url, header={"typ": "JWT"})), "invalid_dpop_proof")
    other = DpopKey()
    refused(cc(oauth, client, key.proof(url, signing_key=other.key)), "invalid_dpop_proof")
    refused(cc(oauth, client, key.proof(url, ath="x")), "invalid_dpop_proof")
    refused(cc(oauth, client, "not-a-jwt"), "invalid_dpop_proof")
    # Two DPoP header fields (RFC 9449 §4.3 item 1).
    conn = http.client.HTTPConnection("127.0.0.1", oauth.s.port, timeout=10)
    conn.putrequest("POST", "/oauth2/token")
    conn.putheader("Authorization", basic(*client))
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("DPoP", key.proof(url))
    conn.putheader("DPoP", key.proof(url))
    body = b"grant_type=client_credentials"
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    assert resp.status == 400 and json.loads(resp.read())["error"] == "invalid_dpop_proof"
    conn.close()
    # A failed proof issued nothing, and a good one still works.
    assert cc(oauth, client, key.proof(url)).status_code == 200


def test_dpop_bound_access_tokens_client_needs_a_proof(oauth):
    r = oauth.admin("POST", "/oauth2/client", json={
        "clientType": "confidential", "clientProfile": "service", "clientName": "x",
        "host": "h", "ownerId": "admin", "scope": "a", "dpopBoundAccessTokens": "yes"})
    assert r.status_code == 400 and "dpopBoundAccessTokens" in r.text, r.text
    client = oauth.create_client("confidential", scope="a", dpopBoundAccessTokens=True)
    got = oauth.admin("GET", "/oauth2/client/" + client[0]).json()
    assert got["dpopBoundAccessTokens"] is True
    refused(cc(oauth, client), "invalid_request")
    key = DpopKey()
    r = cc(oauth, client, key.proof(htu(oauth)))
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


def redeem_with(oauth, code, client, key=None, verifier=None):
    """Redeems a code (code_helpers.redeem posts its extras as form fields, not headers)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier:
        data["code_verifier"] = verifier
    headers = {"DPoP": key.proof(htu(oauth))} if key else {}
    if client[1]:
        return oauth.token(data, client=client, headers=headers)
    data["client_id"] = client[0]
    return oauth.token(data, headers=headers)


def code_for(oauth, client, **params):
    r = authorize(oauth, code_params(client[0], **params), USER, PASSWORD)
    assert r.status_code == 302, r.text
    _, q = query_of(r.headers["Location"])
    assert "code" in q, q
    return q["code"]


def test_dpop_jkt_binds_the_code(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    key, other = DpopKey(), DpopKey()
    # A malformed dpop_jkt is refused at the authorization endpoint.
    r = authorize(oauth, code_params(client[0], dpop_jkt="not-a-thumbprint"), USER, PASSWORD)
    assert r.status_code in (302, 400)
    if r.status_code == 302:
        assert query_of(r.headers["Location"])[1]["error"] == "invalid_request"
    else:
        assert r.json()["error"] == "invalid_request"
    # Redeemed with another key, or with none: invalid_grant.
    code = code_for(oauth, client, dpop_jkt=key.jkt())
    refused(redeem_with(oauth, code, client, other), "invalid_grant")
    code = code_for(oauth, client, dpop_jkt=key.jkt())
    refused(redeem_with(oauth, code, client), "invalid_grant")
    # With the key named: a bound token.
    code = code_for(oauth, client, dpop_jkt=key.jkt())
    r = redeem_with(oauth, code, client, key)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == key.jkt()
    # A confidential client's refresh token is not bound (RFC 9449 §5): another key refreshes.
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
                    client=client, headers={"DPoP": other.proof(htu(oauth))})
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["cnf"]["jkt"] == other.jkt()


def test_public_clients_refresh_token_is_bound_to_the_key(oauth):
    make_user(oauth)
    public = make_client(oauth, "public")
    verifier, challenge = pkce_pair()
    record_consent(oauth, public[0], code_challenge=challenge, code_challenge_method="S256")
    code = code_for(oauth, public, code_challenge=challenge, code_challenge_method="S256")
    key, other = DpopKey(), DpopKey()
    r = redeem_with(oauth, code, public, key, verifier=verifier)
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]

    def refresh_with(proof_key, token):
        headers = {"DPoP": proof_key.proof(htu(oauth))} if proof_key else {}
        return oauth.token({"grant_type": "refresh_token", "refresh_token": token,
                            "client_id": public[0]}, headers=headers)

    refused(refresh_with(other, refresh), "invalid_grant")
    refused(refresh_with(None, refresh), "invalid_grant")
    # The refusals did not burn it: the key holder refreshes, and the new token is bound too.
    r = refresh_with(key, refresh)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    refused(refresh_with(other, r.json()["refresh_token"]), "invalid_grant")
    assert refresh_with(key, r.json()["refresh_token"]).status_code == 200


def test_nonces_when_required(start):
    s = start(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                   "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                   "PORTCULLIS_DPOP_REQUIRE_NONCE": "true"})
    oauth = OAuthServer(s)
    client = oauth.create_client("confidential")
    key = DpopKey()
    # No nonce: use_dpop_nonce, with one to use in DPoP-Nonce.
    r = refused(cc(oauth, client, key.proof(htu(oauth))), "use_dpop_nonce")
    nonce = r.headers["DPoP-Nonce"]
    assert nonce
    refused(cc(oauth, client, key.proof(htu(oauth), nonce="1." + "A" * 22)), "use_dpop_nonce")
    r = cc(oauth, client, key.proof(htu(oauth), nonce=nonce))
    assert r.status_code == 200, r.text
    assert r.headers["DPoP-Nonce"]
    # A bad proof is reported as such, not as a missing nonce.
    refused(cc(oauth, client, key.proof(htu(oauth), htm="GET")), "invalid_dpop_proof")


def test_replay_is_refused_across_instances(start):
    if not PG_URL:
        pytest.fail("PORTCULLIS_TEST_PG_URL is required for the cross-instance replay test")
    url = new_pg_database()
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_SERVER_ISSUER": "http://auth.cluster.test",
           "PORTCULLIS_DPOP_REQUIRE_NONCE": "true"}
    a = OAuthServer(start(store=url, env=env))
    b = OAuthServer(start(store=url, env=env))
    client = a.create_client("confidential")
    # B learns the new client (catalog notification or reload).
    poll(lambda: b.token({"grant_type": "client_credentials"}, client=client).status_code == 200,
         "instance B knows the client")
    key = DpopKey()
    # One issuer, so one htu for both instances (behind a load balancer).
    url = "http://auth.cluster.test/oauth2/token"
    nonce = refused(a.token({"grant_type": "client_credentials"}, client=client,
                            headers={"DPoP": key.proof(url)}), "use_dpop_nonce").headers["DPoP-Nonce"]
    proof = key.proof(url, nonce=nonce)
    r = a.token({"grant_type": "client_credentials"}, client=client, headers={"DPoP": proof})
    assert r.status_code == 200, r.text
    # The same proof at the other instance: its nonce is good there (stateless), its jti is not.
    refused(b.token({"grant_type": "client_credentials"}, client=client, headers={"DPoP": proof}),
            "invalid_dpop_proof")
    r = b.token({"grant_type": "client_credentials"}, client=client,
                headers={"DPoP": key.proof(url, nonce=nonce)})
    assert r.status_code == 200, r.text
