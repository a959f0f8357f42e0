"""The code service as a browser sees it, driven with an HTTP client that keeps cookies: the
sign-in page, single sign-on, consent remembered per user and client, revocation, logout,
remember-me. (tests/browser/ runs the same journey in a real Chromium.)"""
import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, browser_login,
                          code_params, make_client, make_user, page_form, query_of, redeem,
                          submit)
from oauth_fixtures import oauth  # noqa: F401


def sso_cookie(resp):
    for c in resp.raw.headers.getlist("Set-Cookie"):
        if c.startswith("portcullis_sso="):
            return c
    return None


def prepare(oauth, client_type="confidential", **fields):
    make_user(oauth)
    return make_client(oauth, client_type, **fields)


def allow(session, consent_page):
    assert consent_page.status_code == 200, consent_page.text
    assert "wants access to your account" in consent_page.text
    return submit(session, consent_page, button=("decision", "allow"))


def test_login_consent_code_token_then_single_sign_on(oauth):
    client = prepare(oauth)
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(client[0], scope="petstore.r"))
    cookie = sso_cookie(consent)
    assert cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age" not in cookie  # a browser-session cookie without remember-me
    assert "Secure" not in cookie  # plain http in this test; see test_code_security for TLS
    assert "Read your petstore data" in consent.text and "petstore.r" in consent.text
    done = allow(s, consent)
    assert done.status_code == 303, done.text
    base, q = query_of(done.headers["Location"])
    assert base == REDIRECT and q["state"] == "st-1" and q["iss"] == oauth.url
    assert redeem(oauth, q["code"], client).status_code == 200

    # Same browser, second authorization: no sign-in, no consent, straight back with a code.
    again = authorize(oauth, code_params(client[0], scope="petstore.r", state="st-2"),
                      headers=BROWSER, session=s)
    assert again.status_code == 302, again.text
    base, q = query_of(again.headers["Location"])
    assert q["state"] == "st-2"
    assert redeem(oauth, q["code"], client).status_code == 200


def test_broader_scope_asks_again_and_widens_the_consent(oauth):
    client = prepare(oauth)
    s = requests.Session()
    done = allow(s, browser_login(oauth, s, code_params(client[0], scope="petstore.r")))
    assert done.status_code == 303
    wider = authorize(oauth, code_params(client[0], scope="petstore.r petstore.w"),
                      headers=BROWSER, session=s)
    assert wider.status_code == 200 and "Change your petstore data" in wider.text
    assert allow(s, wider).status_code == 303
    # Both are now remembered, and so is any subset.
    for scope in ("petstore.w", "petstore.r petstore.w"):
        r = authorize(oauth, code_params(client[0], scope=scope), headers=BROWSER, session=s)
        assert r.status_code == 302, scope


def test_trusted_clients_skip_consent(oauth):
    client = prepare(oauth, "trusted")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]))
    assert r.status_code == 303 and "code=" in r.headers["Location"]


def test_consent_is_per_user_and_client(oauth):
    client = prepare(oauth)
    other = make_client(oauth)
    s = requests.Session()
    assert allow(s, browser_login(oauth, s, code_params(client[0]))).status_code == 303
    r = authorize(oauth, code_params(other[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "wants access" in r.text
    make_user(oauth, "bob", PASSWORD)
    s2 = requests.Session()
    r = browser_login(oauth, s2, code_params(client[0]), user="bob")
    assert r.status_code == 200 and "wants access" in r.text


def test_denying_consent_returns_access_denied_with_state(oauth):
    client = prepare(oauth)
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(client[0], state="keep me"))
    r = submit(s, consent, button=("decision", "deny"))
    assert r.status_code == 303
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q["error"] == "access_denied" and q["state"] == "keep me"
    assert "code" not in q
    # Nothing was remembered.
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "wants access" in r.text


def test_consent_can_be_revoked_by_api_and_by_page(oauth):
    client = prepare(oauth)
    s = requests.Session()
    assert allow(s, browser_login(oauth, s, code_params(client[0]))).status_code == 303
    # The connected-applications page lists it, with a revoke button.
    page = s.get(oauth.url + "/oauth2/consent", headers=BROWSER, timeout=10)
    assert page.status_code == 200 and "test client" in page.text
    r = submit(s, page)
    assert r.status_code == 303
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "wants access" in r.text
    assert allow(s, r).status_code == 303
    # DELETE with the session cookie.
    d = s.delete(oauth.url + "/oauth2/consent/" + client[0], timeout=10)
    assert d.status_code == 204
    assert s.delete(oauth.url + "/oauth2/consent/" + client[0], timeout=10).status_code == 404
    assert requests.delete(oauth.url + "/oauth2/consent/" + client[0], timeout=10).status_code == 403
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "wants access" in r.text


def test_logout_asks_then_ends_the_session(oauth):
    client = prepare(oauth, "trusted")
    s = requests.Session()
    assert browser_login(oauth, s, code_params(client[0])).status_code == 303
    page = s.get(oauth.url + "/oauth2/logout", headers=BROWSER, timeout=10)
    assert page.status_code == 200 and "Sign out?" in page.text
    # A cross-site POST without the page's token does nothing.
    r = s.post(oauth.url + "/oauth2/logout", data={}, headers=BROWSER, allow_redirects=False,
               timeout=10)
    assert r.status_code == 403
    assert authorize(oauth, code_params(client[0]), headers=BROWSER,
                     session=s).status_code == 302
    r = submit(s, page)
    assert r.status_code == 200 and "signed out" in r.text
    assert any(c.startswith("portcullis_sso=;") and "Max-Age=0" in c
               for c in r.raw.headers.getlist("Set-Cookie"))
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text


def test_logout_returns_only_to_a_registered_uri(oauth):
    # OpenID RP-Initiated Logout §3: a registered postLogoutRedirectUris entry (issue 15; before
    # it, a redirect URI); more in test_oidc_logout.py.
    client = prepare(oauth, "trusted", postLogoutRedirectUris=[REDIRECT])
    s = requests.Session()
    assert browser_login(oauth, s, code_params(client[0])).status_code == 303
    page = s.get(oauth.url + "/oauth2/logout", headers=BROWSER, timeout=10, params={
        "client_id": client[0], "post_logout_redirect_uri": REDIRECT, "state": "bye"})
    r = submit(s, page)
    assert r.status_code == 303 and r.headers["Location"] == REDIRECT + "?state=bye"
    # Unregistered: a page, no redirect, with or without a session.
    for uri in ("https://evil.example/", REDIRECT + "/x"):
        r = s.get(oauth.url + "/oauth2/logout", headers=BROWSER, timeout=10, allow_redirects=False,
                  params={"client_id": client[0], "post_logout_redirect_uri": uri})
        assert r.status_code == 200 and "Location" not in r.headers


def test_remember_me_makes_a_lasting_cookie_and_is_echoed_by_the_token(oauth):
    client = prepare(oauth, "trusted")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]), remember=True)
    assert r.status_code == 303
    cookie = sso_cookie(r)
    assert "Max-Age=2592000" in cookie
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.json()["remember"] == "Y"
    # Codes from the remembered session carry it too.
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.json()["remember"] == "Y"


def test_remember_requested_by_the_client_pre_checks_the_box(oauth):
    client = prepare(oauth, "trusted")
    page = authorize(oauth, code_params(client[0], remember="Y"), headers=BROWSER)
    assert page_form(page)["fields"].get("remember") == "Y"
    page = authorize(oauth, code_params(client[0]), headers=BROWSER)
    assert "remember" not in page_form(page)["fields"]


def test_a_new_sign_in_replaces_the_session(oauth):
    client = prepare(oauth, "trusted")
    s = requests.Session()
    assert browser_login(oauth, s, code_params(client[0])).status_code == 303
    first = s.cookies.get("portcullis_sso")
    r = authorize(oauth, code_params(client[0], prompt="login"), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text
    r = submit(s, r, {"j_username": USER, "j_password": PASSWORD})
    assert r.status_code == 303
    second = s.cookies.get("portcullis_sso")
    assert second and second != first
    # The old session id is dead (no fixation, no reuse).
    old = requests.Session()
    old.cookies.set("portcullis_sso", first)
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=old)
    assert r.status_code == 200 and 'name="j_password"' in r.text


def test_prompt_none_answers_without_pages(oauth):
    client = prepare(oauth)
    s = requests.Session()
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER, session=s)
    assert r.status_code == 302
    assert query_of(r.headers["Location"])[1]["error"] == "login_required"
    consent = browser_login(oauth, s, code_params(client[0], scope="petstore.r"))
    assert consent.status_code == 200
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER, session=s)
    assert query_of(r.headers["Location"])[1]["error"] == "consent_required"
    assert allow(s, consent).status_code == 303
    r = authorize(oauth, code_params(client[0], scope="petstore.r", prompt="none"),
                  headers=BROWSER, session=s)
    assert "code" in query_of(r.headers["Location"])[1]


def test_deleted_user_loses_the_session(oauth):
    client = prepare(oauth, "trusted")
    s = requests.Session()
    assert browser_login(oauth, s, code_params(client[0])).status_code == 303
    assert oauth.admin("DELETE", "/oauth2/user/" + USER).status_code in (200, 204)
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text
