"""Sender-constrained access tokens at the OpenID Connect userinfo endpoint (RFC 9449 §7,
RFC 8705 §3), black-box: a DPoP-bound token is refused as a Bearer token and accepted only with
a proof for this endpoint, token and key; a certificate-bound token only over a connection with
that certificate. The certificate half lives in test_mtls.py (it needs the TLS listener)."""
import base64
import hashlib
import http.client
import json

import requests

from code_helpers import REDIRECT, USER, PASSWORD, authorize, code_params, make_client, make_user
from code_helpers import query_of
from oauth_fixtures import oauth  # noqa: F401
from test_dpop import DpopKey, claims_of, htu

SCOPE = "openid profile petstore.r"


def ath(token):
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def userinfo_url(oauth):
    return oauth.url + "/oauth2/userinfo"


def bound_token(oauth, key):
    """A user's openid access token bound to `key` (the code redeemed with a DPoP proof)."""
    make_user(oauth)
    client = make_client(oauth, "trusted", scope=SCOPE)
    r = authorize(oauth, code_params(client[0], scope=SCOPE), USER, PASSWORD)
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1]["code"]
    r = oauth.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                    client=client, headers={"DPoP": key.proof(htu(oauth))})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims_of(token)["cnf"] == {"jkt": key.jkt()}
    return client, token


def get(oauth, scheme, token, proof=None, method="GET"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.request(method, userinfo_url(oauth), headers=headers, timeout=10)


def assert_refused(r, error, scheme):
    assert r.status_code == 401, r.text
    assert r.json()["error"] == error, r.text
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith(scheme), challenge
    assert f'error="{error}"' in challenge, challenge
    if scheme == "DPoP":
        assert 'algs="' in challenge and "ES256" in challenge, challenge


def test_dpop_bound_token_is_refused_as_bearer_and_accepted_with_a_proof(oauth):  # noqa: F811
    key = DpopKey()
    _, token = bound_token(oauth, key)
    url = userinfo_url(oauth)
    # RFC 9449 §7.2: never as a bearer token, in the header or in a form body.
    assert_refused(get(oauth, "Bearer", token), "invalid_token", "DPoP")
    r = requests.post(url, data={"access_token": token}, timeout=10)
    assert_refused(r, "invalid_token", "DPoP")
    # The DPoP scheme without a proof.
    assert_refused(get(oauth, "DPoP", token), "invalid_dpop_proof", "DPoP")
    # With a proof for this endpoint, this token and this key: the user's claims.
    r = get(oauth, "DPoP", token, key.proof(url, htm="GET", ath=ath(token)))
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == USER
    # POST, with its own proof (htm POST).
    r = get(oauth, "DPoP", token, key.proof(url, htm="POST", ath=ath(token)), method="POST")
    assert r.status_code == 200, r.text


def test_bad_proofs_are_refused(oauth):  # noqa: F811
    key, other = DpopKey(), DpopKey()
    _, token = bound_token(oauth, key)
    url = userinfo_url(oauth)
    bad = {
        "wrong ath": key.proof(url, htm="GET", ath=ath(token + "x")),
        "no ath": key.proof(url, htm="GET"),
        "wrong htu (the token endpoint)": key.proof(htu(oauth), htm="GET", ath=ath(token)),
        "wrong htm": key.proof(url, htm="POST", ath=ath(token)),
        "stale iat": key.proof(url, htm="GET", ath=ath(token), iat=1),
    }
    for why, proof in bad.items():
        r = get(oauth, "DPoP", token, proof)
        assert r.status_code == 401, (why, r.text)
        assert_refused(r, "invalid_dpop_proof", "DPoP")
    # Another key's proof, however valid: the token is not bound to it.
    assert_refused(get(oauth, "DPoP", token, other.proof(url, htm="GET", ath=ath(token))),
                   "invalid_token", "DPoP")
    # Two proofs at once.
    conn = http.client.HTTPConnection("127.0.0.1", oauth.s.port, timeout=10)
    conn.putrequest("GET", "/oauth2/userinfo")
    conn.putheader("Authorization", "DPoP " + token)
    conn.putheader("DPoP", key.proof(url, htm="GET", ath=ath(token)))
    conn.putheader("DPoP", key.proof(url, htm="GET", ath=ath(token)))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 401 and json.loads(resp.read())["error"] == "invalid_dpop_proof"
    assert resp.getheader("WWW-Authenticate").startswith("DPoP ")
    conn.close()
    # A proof is used once.
    proof = key.proof(url, htm="GET", ath=ath(token))
    assert get(oauth, "DPoP", token, proof).status_code == 200
    assert_refused(get(oauth, "DPoP", token, proof), "invalid_dpop_proof", "DPoP")


def test_unbound_token_with_the_dpop_scheme_is_refused(oauth):  # noqa: F811
    make_user(oauth)
    client = make_client(oauth, "trusted", scope=SCOPE)
    r = authorize(oauth, code_params(client[0], scope=SCOPE), USER, PASSWORD)
    code = query_of(r.headers["Location"])[1]["code"]
    r = oauth.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                    client=client)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert "cnf" not in claims_of(token)
    assert get(oauth, "Bearer", token).status_code == 200  # unchanged for bearer tokens
    key = DpopKey()
    r = get(oauth, "DPoP", token, key.proof(userinfo_url(oauth), htm="GET", ath=ath(token)))
    assert_refused(r, "invalid_token", "DPoP")


def test_the_mtls_alias_of_userinfo_is_a_proof_htu(tmp_path):
    """server.mtls_base_url publishes userinfo_endpoint among mtls_endpoint_aliases (RFC 8705
    §5): a client that calls it there signs that URL as htu (RFC 9449 §4.3), which is accepted
    as the ordinary URL is; other paths under the front are not."""
    from conftest import Portcullis
    from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
    front = "https://mtls.example.test:8443"
    s = Portcullis(args=["--set", "server.trusted_proxies=127.0.0.1", "--set",
                         "server.client_cert_header=X-Client-Cert", "--set",
                         f"server.mtls_base_url={front}"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    try:
        server = OAuthServer(s)
        meta = requests.get(server.url + "/.well-known/openid-configuration", timeout=10).json()
        alias = meta["mtls_endpoint_aliases"]["userinfo_endpoint"]
        assert alias == front + "/oauth2/userinfo"
        key = DpopKey()
        _, token = bound_token(server, key)
        for url in (alias, userinfo_url(server)):
            r = get(server, "DPoP", token, key.proof(url, htm="GET", ath=ath(token)))
            assert r.status_code == 200, (url, r.text)
        for url in (front + "/oauth2/token", "https://elsewhere.test:8443/oauth2/userinfo"):
            assert_refused(get(server, "DPoP", token, key.proof(url, htm="GET", ath=ath(token))),
                           "invalid_dpop_proof", "DPoP")
    finally:
        assert s.stop() == 0, s.read_log()
