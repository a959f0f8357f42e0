"""The console is first-party (README "Console", "Why the console asks no consent"): its sign-in
never shows the consent page, in the browser or for an API caller, while the request is exactly
the console's own: the registered redirect URI {issuer}/console/callback and nothing else, and
PKCE S256. Any other client, or the console client with another redirect URI registered, is
asked for consent as before."""
import requests

from code_helpers import (BROWSER, authorize, browser_login, code_params, make_client, pkce_pair,
                          query_of)
from oauth_fixtures import oauth  # noqa: F401 (fixture)

CONSOLE = "portcullis-console"


def console_params(oauth, challenge=None, method="S256", redirect=None):
    p = {"response_type": "code", "client_id": CONSOLE,
         "redirect_uri": redirect or oauth.url + "/console/callback",
         "scope": "portal.r oauth.user.r", "state": "st-1"}
    if challenge:
        p["code_challenge"] = challenge
        p["code_challenge_method"] = method
    return p


def test_an_api_caller_gets_a_console_code_without_consent(oauth):  # noqa: F811
    oauth.create_user("root", "root-password-123", roles="user admin")
    _, challenge = pkce_pair()
    r = authorize(oauth, console_params(oauth, challenge), "root", "root-password-123")
    assert r.status_code == 302, r.text
    base, q = query_of(r.headers["Location"])
    assert base == oauth.url + "/console/callback" and q["code"] and q["state"] == "st-1", q
    # Another public client of the same user is still asked (consent_required).
    other = make_client(oauth, "public")
    _, c2 = pkce_pair()
    r = authorize(oauth, code_params(other[0], code_challenge=c2, code_challenge_method="S256"),
                  "root", "root-password-123")
    assert r.status_code == 302 and query_of(r.headers["Location"])[1]["error"] == \
        "consent_required", r.headers
    # Without PKCE the console's request is refused outright (a public client).
    r = authorize(oauth, console_params(oauth), "root", "root-password-123")
    assert "code=" not in r.headers.get("Location", ""), (r.status_code, r.headers, r.text)


def test_the_browser_sign_in_skips_the_consent_page(oauth):  # noqa: F811
    oauth.create_user("root", "root-password-123", roles="user admin")
    _, challenge = pkce_pair()
    s = requests.Session()
    done = browser_login(oauth, s, console_params(oauth, challenge), user="root",
                         password="root-password-123")
    assert done.status_code in (302, 303), done.text
    assert done.headers["Location"].startswith(oauth.url + "/console/callback?code="), \
        done.headers
    # And again within the SSO session: a code at once.
    _, challenge = pkce_pair()
    r = authorize(oauth, console_params(oauth, challenge), headers=BROWSER, session=s)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text


def test_another_registered_redirect_uri_turns_the_exemption_off(oauth):  # noqa: F811
    oauth.create_user("root", "root-password-123", roles="user admin")
    c = oauth.admin("GET", f"/oauth2/client/{CONSOLE}").json()
    evil = "https://evil.example.com/cb"
    c["redirectUris"] = [oauth.url + "/console/callback", evil]
    r = oauth.admin("PUT", "/oauth2/client", json=c)
    assert r.status_code == 200, r.text
    for redirect in (None, evil):
        _, challenge = pkce_pair()
        r = authorize(oauth, console_params(oauth, challenge, redirect=redirect), "root",
                      "root-password-123")
        assert r.status_code == 302, r.text
        q = query_of(r.headers["Location"])[1]
        assert q.get("error") == "consent_required" and "code" not in q, q
    # The browser is shown the consent page, not sent a code.
    s = requests.Session()
    _, challenge = pkce_pair()
    page = browser_login(oauth, s, console_params(oauth, challenge, redirect=evil), user="root",
                         password="root-password-123")
    assert page.status_code == 200 and "wants access to your account" in page.text, page.text
