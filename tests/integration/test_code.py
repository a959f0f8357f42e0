"""The code service as light-oauth2's clients use it (reference §5, §12, §16.2): HTTP Basic user
credentials on GET /oauth2/code (and its alias /oauth2/authorize), 302 with the code, 401 with
WWW-Authenticate, JSON errors with light-oauth2's codes; then the code at the token endpoint.

Deliberate differences from upstream, each tested here:
  * redirect_uri must be registered for the client, exactly (upstream: any URI, reference §18.1);
  * public clients must use PKCE with S256 (upstream: never required, plain allowed);
  * a form POST needs the CSRF token of the sign-in page, and answers 303 (RFC 9700 §4.12)
    on success and the page again, with a message, on a wrong password (upstream: 307 /error);
  * HTTP Basic sign-in needs the user's recorded consent for clients that are not trusted
    (upstream: none). These servers run with code.basic_auth_implicit_consent=true, the
    migration setting that restores upstream's behaviour; test_trust_revoke.py covers the default.
"""
import json
import sqlite3

import pytest
import requests

from code_helpers import (BROWSER, OTHER_REDIRECT, PASSWORD, REDIRECT, USER, authorize,
                          browser_login, code_params, make_client, make_user, pkce_pair,
                          query_of, redeem)
from conftest import Portcullis, new_pg_database
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic  # noqa: F401

PATHS = ["/oauth2/code", "/oauth2/authorize"]
# light-oauth2's behaviour: HTTP Basic sign-in issues codes to any client.
LIGHT_ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
             "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
             "PORTCULLIS_CODE_BASIC_AUTH_IMPLICIT_CONSENT": "true"}


@pytest.fixture
def oauth():
    s = Portcullis(env=LIGHT_ENV)
    yield OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def claims(jwt):
    import base64
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def err(r, status, code=None, error=None):
    assert r.status_code == status, r.text
    assert "Location" not in r.headers
    body = r.json()
    if code:
        assert body["code"] == code, body
    if error:
        assert body["error"] == error, body
    return body


@pytest.fixture
def env(oauth):
    client = make_client(oauth, "confidential")
    make_user(oauth)
    return oauth, client


# ---- reference §16.2, Oauth2CodeGetHandlerTest, for /oauth2/code and /oauth2/authorize

@pytest.mark.parametrize("path", PATHS)
def test_basic_credentials_get_a_302_with_a_code_that_redeems(env, path):
    oauth, client = env
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD, path=path)
    assert r.status_code == 302, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    assert q["state"] == "st-1" and q["iss"] == oauth.url
    assert len(q["code"]) >= 22  # at least 128 bits, base64url
    assert r.headers["Cache-Control"] == "no-store"
    t = redeem(oauth, q["code"], client)
    assert t.status_code == 200, t.text
    body = t.json()
    c = claims(body["access_token"])
    assert c["user_id"] == USER and c["client_id"] == client[0]
    assert c["scope"] == "petstore.r petstore.w"
    assert body["refresh_token"]


@pytest.mark.parametrize("path", PATHS)
def test_missing_response_type_or_client_id_is_err11000(env, path):
    oauth, client = env
    p = code_params(client[0])
    del p["response_type"]
    err(authorize(oauth, p, USER, PASSWORD, path=path), 400, "ERR11000")
    p = code_params(client[0])
    del p["client_id"]
    err(authorize(oauth, p, USER, PASSWORD, path=path), 400, "ERR11000")


@pytest.mark.parametrize("path", PATHS)
def test_wrong_or_missing_password_is_401_with_www_authenticate(env, path):
    oauth, client = env
    for user, password in [(USER, "wrong"), ("nobody", "wrong"), (USER, "")]:
        r = authorize(oauth, code_params(client[0]), user, password, path=path)
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"].startswith('Basic realm="OAuth"')
        assert "Location" not in r.headers
    r = authorize(oauth, code_params(client[0]), path=path)
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    r = authorize(oauth, code_params(client[0]), path=path, headers={"Authorization": "Bearer x"})
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]


def test_wrong_user_and_wrong_password_answer_alike(env):
    oauth, client = env
    a = authorize(oauth, code_params(client[0]), USER, "wrong")
    b = authorize(oauth, code_params(client[0]), "nobody", "wrong")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert USER not in a.text and "nobody" not in b.text


@pytest.mark.parametrize("path", PATHS)
def test_response_type_wrong_is_err11004(env, path):
    oauth, client = env
    err(authorize(oauth, code_params(client[0], response_type="wrong"), USER, PASSWORD, path=path),
        400, "ERR11004")


@pytest.mark.parametrize("path", PATHS)
def test_unknown_client_is_err12014(env, path):
    oauth, _ = env
    err(authorize(oauth, code_params("fake"), USER, PASSWORD, path=path), 404, "ERR12014")


@pytest.mark.parametrize("path", PATHS)
def test_pkce_s256_round_trip(env, path):
    oauth, client = env
    verifier, challenge = pkce_pair()
    r = authorize(oauth, code_params(client[0], code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD, path=path)
    assert r.status_code == 302, r.text
    code = query_of(r.headers["Location"])[1]["code"]
    assert redeem(oauth, code, client, verifier=verifier).status_code == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("challenge,method,code", [
    ("GIDiZShhVObyvaTrpkPM8VPmtMkj_qnBWlDwE7uz90s", "ABC", "ERR12033"),
    ("GIDiZShhVObyvaTrpkPM8VPmtMkj_qnBWlDwE7uz90s", "plain", "ERR12033"),
    ("abc", "S256", "ERR12034"),
    ("a" * 129, "S256", "ERR12035"),
    ("GIDiZShhVObyvaTrpkPM8VPmtMkj_qnBWlDwE7uz9$$", "S256", "ERR12036"),
])
def test_pkce_errors_keep_light_oauth2_codes(env, path, challenge, method, code):
    oauth, client = env
    r = authorize(oauth, code_params(client[0], code_challenge=challenge,
                                     code_challenge_method=method), USER, PASSWORD, path=path)
    err(r, 400, code, "invalid_request")


@pytest.mark.parametrize("path", PATHS)
def test_form_post_with_good_credentials_redirects_with_a_code(env, path):
    oauth, _ = env
    trusted = make_client(oauth, "trusted")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(trusted[0]), path=path)
    assert r.status_code == 303, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q["state"] == "st-1"
    assert redeem(oauth, q["code"], trusted).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_form_post_with_wrong_password_shows_the_form_again(env, path):
    oauth, client = env
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]), password="wrong", path=path)
    assert r.status_code == 200
    assert "Location" not in r.headers
    assert "The user name or password is incorrect." in r.text
    assert "portcullis_sso" not in s.cookies


def test_health_of_the_code_service(oauth):
    r = requests.get(oauth.url + "/health/com.networknt.oauth2-code-1.0.0", timeout=10)
    assert r.status_code == 200 and r.text == "OK"


# ---- Beyond upstream: what the token endpoint receives from the code

def test_code_is_bound_to_client_redirect_scope_user_and_nonce(env):
    oauth, client = env
    other = make_client(oauth, "confidential")
    p = code_params(client[0], scope="petstore.r", nonce="n-0S6_WzA2Mj")
    code = query_of(authorize(oauth, p, USER, PASSWORD).headers["Location"])[1]["code"]
    # Another client can neither redeem nor burn it.
    r = redeem(oauth, code, other)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # redirect_uri was in the request, so the token request must repeat it (RFC 6749 §4.1.3).
    r = redeem(oauth, code, client, redirect_uri=None)
    assert r.json()["code"] == "ERR12025"
    code = query_of(authorize(oauth, p, USER, PASSWORD).headers["Location"])[1]["code"]
    r = redeem(oauth, code, client)
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["scope"] == "petstore.r" and c["user_id"] == USER and c["nonce"] == "n-0S6_WzA2Mj"
    # Once only.
    again = redeem(oauth, code, client)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_omitted_redirect_uri_uses_the_only_registered_one(env):
    oauth, client = env
    p = code_params(client[0])
    del p["redirect_uri"]
    r = authorize(oauth, p, USER, PASSWORD)
    assert r.status_code == 302
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    # Not sent, so not required at the token endpoint.
    assert redeem(oauth, q["code"], client, redirect_uri=None).status_code == 200


def test_several_registered_uris_need_redirect_uri(oauth):
    make_user(oauth)
    client = make_client(oauth, redirects=(REDIRECT, OTHER_REDIRECT))
    p = code_params(client[0])
    del p["redirect_uri"]
    err(authorize(oauth, p, USER, PASSWORD), 400, "ERR12025")
    r = authorize(oauth, code_params(client[0], redirect_uri=OTHER_REDIRECT), USER, PASSWORD)
    assert r.status_code == 302
    # The registered query is kept; ours is appended, encoded.
    assert r.headers["Location"].startswith("http://127.0.0.1:9/other?tenant=a%20b&code=")


def test_scope_must_be_a_subset_of_the_client_scope(env):
    oauth, client = env
    err(authorize(oauth, code_params(client[0], scope="petstore.r admin"), USER, PASSWORD), 400,
        "ERR12027", "invalid_scope")
    err(authorize(oauth, code_params(client[0], scope="pet"), USER, PASSWORD), 400, "ERR12027")


def test_remember_travels_with_the_code(env):
    oauth, client = env
    r = authorize(oauth, code_params(client[0], remember="Y"), USER, PASSWORD)
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.json()["remember"] == "Y"


def test_unknown_authenticate_class_is_err10043(oauth):
    make_user(oauth)
    client = make_client(oauth, authenticateClass="com.networknt.oauth.auth.MarketPlaceAuth")
    err(authorize(oauth, code_params(client[0]), USER, PASSWORD), 400, "ERR10043")
    ok = make_client(oauth, authenticateClass="com.networknt.oauth.auth.DefaultAuth")
    assert authorize(oauth, code_params(ok[0]), USER, PASSWORD).status_code == 302


def test_login_attempts_are_throttled(env):
    oauth, client = env
    for _ in range(5):
        assert authorize(oauth, code_params(client[0]), USER, "wrong").status_code == 401
    # Locked: even the right password is refused for a while, and nothing is redirected.
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
    assert r.status_code == 429, r.text
    assert "Retry-After" in r.headers and "Location" not in r.headers


def test_code_is_stored_hashed_with_the_configured_ttl(tmp_path):
    s = Portcullis(args=["--set", "token.code_ttl_s=90"], env=LIGHT_ENV)
    try:
        oauth = OAuthServer(s)
        make_user(oauth)
        client = make_client(oauth)
        r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
        code = query_of(r.headers["Location"])[1]["code"]
        db = sqlite3.connect(s.tmp + "/portcullis.db")
        rows = db.execute("SELECT code_hash, expires_at - created_at FROM auth_codes").fetchall()
        db.close()
        assert len(rows) == 1
        assert rows[0][0] != code and code not in rows[0][0]
        assert rows[0][1] == 90
    finally:
        assert s.stop() == 0, s.read_log()


def test_code_ttl_outside_60_to_600_is_refused_at_start():
    with pytest.raises(RuntimeError):
        Portcullis(args=["--set", "token.code_ttl_s=3600"])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_code_issued_by_one_instance_redeems_on_another(tmp_path, backend):
    store = ("sqlite:" + str(tmp_path / "shared.db")) if backend == "sqlite" \
        else new_pg_database()
    env = LIGHT_ENV
    a = Portcullis(args=["--services", "code,client,user,token"], env=env, store=store)
    b = None
    try:
        oa = OAuthServer(a)
        make_user(oa)
        client = make_client(oa)
        b = Portcullis(args=["--services", "token"], env=env, store=store)
        r = authorize(oa, code_params(client[0]), USER, PASSWORD)
        code = query_of(r.headers["Location"])[1]["code"]
        t = redeem(OAuthServer(b), code, client)
        assert t.status_code == 200, t.text
        assert claims(t.json()["access_token"])["user_id"] == USER
        # And the code is now used up for both.
        assert redeem(oa, code, client).status_code == 400
    finally:
        if b:
            b.stop()
        a.stop()


def test_non_browser_callers_never_get_html(env):
    oauth, client = env
    r = authorize(oauth, code_params(client[0], redirect_uri="http://127.0.0.1:9/evil"))
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/json")
    r = authorize(oauth, code_params(client[0]), headers={"Accept": "application/json"})
    assert r.status_code == 401


def test_browser_without_credentials_gets_the_sign_in_page(env):
    oauth, client = env
    r = authorize(oauth, code_params(client[0]), headers=BROWSER)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "WWW-Authenticate" not in r.headers  # no browser password pop-up
    assert 'name="j_username"' in r.text and 'name="j_password"' in r.text
