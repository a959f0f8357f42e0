"""Token exchange (RFC 8693) keeps sender binding (RFC 9449, RFC 8705): a DPoP-bound subject
token is exchanged only by its key holder (a DPoP proof of the bound key on the exchange
request) or by a client named in its aud (the resource server it was sent to; unit-tested in
src/oauth/token/grants_test.cc, since client ids cannot be service ids here). A stolen bound
token replayed by another client with a delegation policy is refused. Black-box."""
from oauth_fixtures import oauth  # noqa: F401
from test_dpop import DpopKey, claims_of, htu

XCHG = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"


def service(oauth, sid):
    r = oauth.admin("POST", "/oauth2/service", json={
        "serviceId": sid, "serviceType": "openapi", "serviceName": sid, "serviceDesc": "x",
        "host": "lightapi.net", "ownerId": "admin", "scope": "x"})
    assert r.status_code == 200, r.text


def delegate(oauth, client_id, audience):
    r = oauth.admin("PUT", f"/oauth2/client/{client_id}/delegation",
                    json=[{"audience": audience, "scope": "orders.read", "maxDepth": 3}])
    assert r.status_code == 200, r.text


def test_stolen_dpop_bound_subject_token_cannot_be_exchanged(oauth):  # noqa: F811
    service(oauth, "svc-c")
    holder = oauth.create_client("trusted", scope="orders.read orders.write")
    thief = oauth.create_client("confidential", scope="x")
    for c in (holder, thief):
        delegate(oauth, c[0], "svc-c")
    user, pw = oauth.create_user()
    key = DpopKey()
    r = oauth.token({"grant_type": "password", "username": user, "password": pw},
                    client=holder, headers={"DPoP": key.proof(htu(oauth))})
    assert r.status_code == 200, r.text
    bound = r.json()["access_token"]
    assert claims_of(bound)["cnf"] == {"jkt": key.jkt()}
    req = {"grant_type": XCHG, "subject_token": bound, "subject_token_type": AT,
           "audience": "svc-c", "scope": "orders.read"}

    # The thief: without a proof, and with a proof of its own key. Neither strips the binding.
    r = oauth.token(req, client=thief)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert "sender-constrained" in r.json()["error_description"], r.text
    r = oauth.token(req, client=thief, headers={"DPoP": DpopKey().proof(htu(oauth))})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # Even the token's own client needs the key.
    r = oauth.token(req, client=holder)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text

    # The key holder proves possession: the exchanged token stays bound to the same key.
    r = oauth.token(req, client=holder, headers={"DPoP": key.proof(htu(oauth))})
    assert r.status_code == 200, r.text
    exchanged = claims_of(r.json()["access_token"])
    assert exchanged["cnf"] == {"jkt": key.jkt()} and exchanged["act"] == {"sub": holder[0]}

    # An unbound subject token is exchanged as before.
    plain = oauth.token({"grant_type": "password", "username": user, "password": pw},
                        client=holder).json()["access_token"]
    assert "cnf" not in claims_of(plain)
    r = oauth.token({**req, "subject_token": plain}, client=thief)
    assert r.status_code == 200, r.text
