"""Attacks on the authorization endpoint (RFC 6749 §10, RFC 9700 §4): open redirects and code
leakage through redirect_uri, state round-trips, PKCE downgrade for public clients, CSRF on the
sign-in and consent forms, injection into pages, framing, caching, parameter repetition."""
import re
import urllib.parse

import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, browser_login,
                          code_params, make_client, make_user, pkce_pair, query_of,
                          record_consent, redeem, submit)
from oauth_fixtures import oauth  # noqa: F401

# Variations of REDIRECT (http://127.0.0.1:9/cb) that must never receive a redirect.
HOSTILE_REDIRECTS = [
    "https://evil.example/cb",               # unregistered
    "http://127.0.0.1:9/cb/evil",            # added path
    "http://127.0.0.1:9/cb/../evil",         # dot segments
    "http://127.0.0.1:9/cb?next=https://evil.example",  # added query
    "http://127.0.0.1:9/cb#frag",            # fragment
    "https://127.0.0.1:9/cb",                # other scheme
    "http://127.0.0.1:10/cb",                # other port
    "http://127.0.0.1/cb",                   # no port
    "http://127.0.0.1:9/cb/",                # trailing slash
    "http://127.0.0.1:9/CB",                 # case
    "http://evil.example@127.0.0.1:9/cb",    # userinfo
    "http://127.0.0.1:9.evil.example/cb",    # host suffix
    "http://127.0.0.1:9/cb%2F..%2Fevil",     # encoded traversal
    "//evil.example/cb",                     # scheme-relative
    "javascript:alert(1)//",                 # script
    "",                                      # empty
]


@pytest.fixture
def env(oauth):
    make_user(oauth)
    return oauth, make_client(oauth, "confidential")


def no_redirect(r):
    assert not (300 <= r.status_code < 400), (r.status_code, r.headers.get("Location"))
    assert "Location" not in r.headers


@pytest.mark.parametrize("uri", HOSTILE_REDIRECTS)
def test_hostile_redirect_uris_never_redirect(env, uri):
    oauth, client = env
    p = code_params(client[0], redirect_uri=uri)
    # API caller with valid credentials: JSON error, no code issued.
    r = authorize(oauth, p, USER, PASSWORD)
    no_redirect(r)
    assert r.status_code == 400 and r.json()["code"] == "ERR12026"
    # Browser, signed in or not: an error page.
    r = authorize(oauth, p, headers=BROWSER)
    no_redirect(r)
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("text/html")
    assert "will not send you there" in r.text


def test_hostile_redirect_never_redirects_even_with_other_errors_or_a_session(env):
    oauth, client = env
    trusted = make_client(oauth, "trusted")
    s = requests.Session()
    assert browser_login(oauth, s, code_params(trusted[0])).status_code == 303
    for extra in ({}, {"scope": "nope"}, {"response_type": "token"},
                  {"code_challenge": "x", "code_challenge_method": "S256"}, {"prompt": "none"}):
        p = code_params(trusted[0], redirect_uri="https://evil.example/cb", **extra)
        no_redirect(authorize(oauth, p, headers=BROWSER, session=s))
    # A client without registered redirect URIs cannot be used at all.
    bare = make_client(oauth, "trusted", redirects=())
    for uri in (None, "https://evil.example/cb"):
        p = code_params(bare[0], redirect_uri=uri) if uri else {
            "response_type": "code", "client_id": bare[0]}
        no_redirect(authorize(oauth, p, headers=BROWSER, session=s))
        no_redirect(authorize(oauth, p, USER, PASSWORD))
    # Unknown client: no redirect either.
    no_redirect(authorize(oauth, code_params("fake", redirect_uri="https://evil.example/"),
                          headers=BROWSER, session=s))


def test_hostile_redirect_on_the_form_posts_never_redirects(env):
    oauth, client = env
    s = requests.Session()
    page = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    r = submit(s, page, {"j_username": USER, "j_password": PASSWORD,
                         "redirect_uri": "https://evil.example/cb"})
    no_redirect(r)
    consent = browser_login(oauth, s, code_params(client[0]))
    r = submit(s, consent, {"redirect_uri": "https://evil.example/cb"},
               button=("decision", "allow"))
    no_redirect(r)


@pytest.mark.parametrize("state", ["st-1", "a b&c=d#e?f/g+h%", "é✓", "x" * 500])
def test_state_is_echoed_exactly(env, state):
    oauth, client = env
    # API success
    r = authorize(oauth, code_params(client[0], state=state), USER, PASSWORD)
    assert query_of(r.headers["Location"])[1]["state"] == state
    # Browser error redirect
    r = authorize(oauth, code_params(client[0], state=state, scope="nope"), headers=BROWSER)
    assert r.status_code == 302
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q["state"] == state and q["error"] == "invalid_scope"
    assert "ERR12027" in q["error_description"] and q["iss"] == oauth.url
    # Browser success through the form
    trusted = make_client(oauth, "trusted")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(trusted[0], state=state))
    assert query_of(r.headers["Location"])[1]["state"] == state


def test_no_state_means_no_state_in_the_answer(env):
    oauth, client = env
    record_consent(oauth, client[0])  # HTTP Basic sign-in needs a recorded consent
    p = code_params(client[0])
    del p["state"]
    q = query_of(authorize(oauth, p, USER, PASSWORD).headers["Location"])[1]
    assert "state" not in q and "code" in q


def test_public_client_without_pkce_is_refused(oauth):
    make_user(oauth)
    public = make_client(oauth, "public")
    r = authorize(oauth, code_params(public[0]), USER, PASSWORD)
    no_redirect(r)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert "PKCE" in r.json()["error_description"]
    r = authorize(oauth, code_params(public[0], state="s9"), headers=BROWSER)
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q["error"] == "invalid_request" and q["state"] == "s9"
    # plain is a downgrade too.
    verifier, challenge = pkce_pair()
    r = authorize(oauth, code_params(public[0], code_challenge=verifier,
                                     code_challenge_method="plain"), USER, PASSWORD)
    assert r.status_code == 400 and r.json()["code"] == "ERR12033"
    # With S256 it works, without any secret, and the verifier is checked (once the user has
    # consented: HTTP Basic sign-in is not taken as consent).
    record_consent(oauth, public[0], code_challenge=challenge, code_challenge_method="S256")
    r = authorize(oauth, code_params(public[0], code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD)
    assert r.status_code == 302
    code = query_of(r.headers["Location"])[1]["code"]
    assert redeem(oauth, code, public, verifier=verifier + "x").status_code == 400
    r = authorize(oauth, code_params(public[0], code_challenge=challenge,
                                     code_challenge_method="S256"), USER, PASSWORD)
    code = query_of(r.headers["Location"])[1]["code"]
    assert redeem(oauth, code, public, verifier=verifier).status_code == 200


def test_pkce_errors_redirect_for_browsers_with_the_err_code(env):
    oauth, client = env
    r = authorize(oauth, code_params(client[0], code_challenge="abc", code_challenge_method="S256"),
                  headers=BROWSER)
    assert r.status_code == 302
    q = query_of(r.headers["Location"])[1]
    assert q["error"] == "invalid_request" and "ERR12034" in q["error_description"]
    assert q["state"] == "st-1"


def test_sign_in_without_or_with_a_bad_csrf_token_is_refused(env):
    oauth, client = env
    trusted = make_client(oauth, "trusted")
    creds = {"j_username": USER, "j_password": PASSWORD}
    s = requests.Session()
    page = authorize(oauth, code_params(trusted[0]), headers=BROWSER, session=s)
    assert page.status_code == 200
    for fields, drop in (({}, ("csrf",)), ({"csrf": "1.AAAA"}, ()), ({"csrf": ""}, ())):
        r = submit(s, page, dict(creds, **fields), drop=drop)
        assert r.status_code == 403, r.text
        no_redirect(r)
        assert "portcullis_sso" not in s.cookies
    # The token of one browser is worthless in another (it is bound to the login cookie).
    other = requests.Session()
    r = submit(other, page, creds)
    assert r.status_code == 403
    # A plain cross-site form post (no cookie, no token) never authenticates.
    r = requests.post(oauth.url + "/oauth2/code", data=dict(code_params(trusted[0]), **creds),
                      headers=BROWSER, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "Location" not in r.headers
    # The page itself still works.
    assert submit(s, page, creds).status_code == 303


def test_consent_without_a_valid_csrf_token_is_refused(env):
    oauth, client = env
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(client[0]))
    assert consent.status_code == 200
    for fields, drop in (({}, ("csrf",)), ({"csrf": "1.AAAA"}, ())):
        r = submit(s, consent, fields, drop=drop, button=("decision", "allow"))
        assert r.status_code == 403
        no_redirect(r)
    # The login form's token does not work for consent (tokens are per form).
    page = authorize(oauth, code_params(client[0], prompt="login"), headers=BROWSER, session=s)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = submit(s, consent, {"csrf": token}, button=("decision", "allow"))
    assert r.status_code == 403
    # A session cookie alone (as a cross-site post would carry) is not enough.
    r = requests.post(oauth.url + "/oauth2/consent",
                      data=dict(code_params(client[0]), decision="allow"),
                      cookies={"portcullis_sso": s.cookies["portcullis_sso"]}, headers=BROWSER,
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert submit(s, consent, button=("decision", "allow")).status_code == 303


def test_pages_are_escaped(oauth):
    make_user(oauth)
    evil = make_client(oauth, "confidential", clientName="<script>x</script>")
    s = requests.Session()
    state = '"><script>alert(1)</script>'
    page = authorize(oauth, code_params(evil[0], state=state), headers=BROWSER, session=s)
    assert "<script>" not in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    r = submit(s, page, {"j_username": '<img src=x onerror=alert(1)>', "j_password": "x"})
    assert "<img" not in r.text and "&lt;img src=x" in r.text
    consent = browser_login(oauth, s, code_params(evil[0], state=state))
    assert "<script>" not in consent.text
    r = submit(s, consent, button=("decision", "allow"))
    assert query_of(r.headers["Location"])[1]["state"] == state


def test_pages_forbid_framing_caching_scripts_and_referrers(env):
    oauth, client = env
    r = authorize(oauth, code_params(client[0]), headers=BROWSER)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert "form-action 'self' http://127.0.0.1:9;" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in r.text
    cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("portcullis_login=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Strict" in cookie[0]
    # Error pages too.
    e = authorize(oauth, code_params("fake"), headers=BROWSER)
    assert e.status_code == 404 and e.headers["X-Frame-Options"] == "DENY"


def test_cookies_are_secure_when_the_issuer_is_https(start):
    from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
    s = start("--issuer", "https://login.example", env={
        "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    oauth = OAuthServer(s)
    make_user(oauth)
    client = make_client(oauth, "trusted")
    session = requests.Session()
    page = authorize(oauth, code_params(client[0]), headers=BROWSER, session=session)
    assert all("; Secure" in c for c in page.raw.headers.getlist("Set-Cookie"))
    # requests will not send Secure cookies over http: hand the login cookie over explicitly.
    login = re.search(r"portcullis_login=([^;]+)", page.headers["Set-Cookie"]).group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = requests.post(oauth.url + "/oauth2/code",
                      data=dict(code_params(client[0]), csrf=token, j_username=USER,
                                j_password=PASSWORD),
                      cookies={"portcullis_login": login}, headers=BROWSER,
                      allow_redirects=False, timeout=10)
    assert r.status_code == 303
    sso = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("portcullis_sso=")]
    assert sso and "; Secure" in sso[0] and "HttpOnly" in sso[0]
    assert query_of(r.headers["Location"])[1]["iss"] == "https://login.example"


@pytest.mark.parametrize("param", ["client_id", "redirect_uri", "state", "scope",
                                   "code_challenge"])
def test_repeated_parameters_are_refused_without_redirect(env, param):
    oauth, client = env
    q = urllib.parse.urlencode(code_params(client[0], code_challenge="a" * 43,
                                           code_challenge_method="S256", scope="petstore.r"))
    q += "&" + urllib.parse.urlencode({param: "https://evil.example/" if param == "redirect_uri"
                                       else "again"})
    for headers in ({"Authorization": "Basic YWxpY2U6eA=="}, BROWSER):
        r = requests.get(oauth.url + "/oauth2/code?" + q, headers=headers,
                         allow_redirects=False, timeout=10)
        no_redirect(r)
        assert r.status_code == 400


def test_wrong_password_on_the_form_says_nothing_about_the_user(env):
    oauth, client = env
    a = browser_login(oauth, requests.Session(), code_params(client[0]), password="wrong")
    b = browser_login(oauth, requests.Session(), code_params(client[0]), user="nobody",
                      password="wrong")
    norm = lambda r, u: re.sub(r'name="csrf" value="[^"]+"', "", r.text).replace(u, "U")  # noqa
    assert a.status_code == b.status_code == 200
    assert norm(a, USER) == norm(b, "nobody")


def test_form_login_is_throttled(env):
    oauth, client = env
    s = requests.Session()
    for _ in range(5):
        r = browser_login(oauth, s, code_params(client[0]), password="wrong")
        assert r.status_code == 200
    r = browser_login(oauth, s, code_params(client[0]))
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    no_redirect(r)
    assert "portcullis_sso" not in s.cookies
