"""DPoP server nonces at the userinfo endpoint (RFC 9449 §8, §9): with dpop.require_nonce, a
DPoP-bound token presented with a proof that carries no valid nonce gets 401 with
WWW-Authenticate: DPoP error="use_dpop_nonce" and a DPoP-Nonce header, as the token endpoint
answers (there with 400); a proof with the nonce is accepted, and answers carry the next nonce."""
import pytest

from code_helpers import REDIRECT, USER, PASSWORD, authorize, code_params, make_client, make_user
from code_helpers import query_of
from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
from test_dpop import DpopKey, claims_of, htu
from test_userinfo_binding import ath, get, userinfo_url

SCOPE = "openid profile petstore.r"


@pytest.fixture
def nonces():
    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_DPOP_REQUIRE_NONCE": "true"})
    yield OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def bound_token(o, key):
    make_user(o)
    client = make_client(o, "trusted", scope=SCOPE)
    r = authorize(o, code_params(client[0], scope=SCOPE), USER, PASSWORD)
    code = query_of(r.headers["Location"])[1]["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    r = o.token(data, client=client, headers={"DPoP": key.proof(htu(o))})
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce", r.text
    nonce = r.headers["DPoP-Nonce"]
    r = o.token(data, client=client, headers={"DPoP": key.proof(htu(o), nonce=nonce)})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims_of(token)["cnf"] == {"jkt": key.jkt()}
    return token, nonce


def test_userinfo_asks_for_a_nonce_and_accepts_it(nonces):
    key = DpopKey()
    token, nonce = bound_token(nonces, key)
    url = userinfo_url(nonces)
    # A proof without a nonce: 401 use_dpop_nonce, with the nonce to use.
    r = get(nonces, "DPoP", token, key.proof(url, htm="GET", ath=ath(token)))
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "use_dpop_nonce", r.text
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("DPoP") and 'error="use_dpop_nonce"' in challenge, challenge
    fresh = r.headers.get("DPoP-Nonce")
    assert fresh
    # A made-up nonce is no better.
    r = get(nonces, "DPoP", token, key.proof(url, htm="GET", ath=ath(token), nonce="1." + "A" * 22))
    assert r.status_code == 401 and r.json()["error"] == "use_dpop_nonce", r.text
    # With the server's nonce: the claims, and the nonce for next time.
    r = get(nonces, "DPoP", token, key.proof(url, htm="GET", ath=ath(token), nonce=fresh))
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == USER
    assert r.headers.get("DPoP-Nonce")
    # The token endpoint's nonce is good here too (one stateless nonce per installation).
    r = get(nonces, "DPoP", token, key.proof(url, htm="GET", ath=ath(token), nonce=nonce))
    assert r.status_code == 200, r.text
    # A bad proof is still reported as such, not as a missing nonce.
    r = get(nonces, "DPoP", token, key.proof(url, htm="POST", ath=ath(token), nonce=fresh))
    assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof", r.text
