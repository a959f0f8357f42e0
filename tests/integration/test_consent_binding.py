"""The consent form's CSRF token is bound to the request it was shown for (README "Sign-in and
the authorization endpoint"): besides the browser (the SSO cookie), it names the client and the
pending authorization request, so a token minted on one client's consent page cannot approve
another client, nor a wider or redirected request of the same client."""
import urllib.parse

import requests

from code_helpers import (BROWSER, REDIRECT, authorize, browser_login, code_params, make_client,
                          make_user, page_form, submit)
from oauth_fixtures import oauth  # noqa: F401

SCOPE = "petstore.r petstore.w"


def consent_page(o, s, client_id, **params):
    """The consent page for `client_id` in the signed-in browser `s`."""
    page = authorize(o, code_params(client_id, **params), headers=BROWSER, session=s)
    assert page.status_code == 200 and "wants access to your account" in page.text, page.text
    return page


def post_decision(s, page, fields):
    form = page_form(page)
    data = dict(form["fields"])
    data.update(fields)
    data["decision"] = "allow"
    url = urllib.parse.urljoin(page.url, form["action"])
    return s.post(url, data=data, headers=BROWSER, allow_redirects=False, timeout=10)


def test_a_consent_token_of_one_client_does_not_approve_another(oauth):  # noqa: F811
    make_user(oauth)
    a = make_client(oauth, scope=SCOPE, clientName="App A")
    b = make_client(oauth, scope=SCOPE, clientName="App B")
    s = requests.Session()
    first = browser_login(oauth, s, code_params(a[0]))
    assert first.status_code == 200 and "App A" in first.text, first.text
    token_a = page_form(first)["fields"]["csrf"]
    page_b = consent_page(oauth, s, b[0], state="st-b")
    # B's request with A's token: refused, and no code for B.
    r = post_decision(s, page_b, {"csrf": token_a})
    assert r.status_code in (400, 403), (r.status_code, r.headers.get("Location"), r.text)
    assert "code=" not in r.headers.get("Location", "")
    # B's own token still works.
    r = post_decision(s, page_b, {})
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text


def test_a_consent_token_does_not_approve_a_wider_request_of_the_same_client(oauth):  # noqa: F811
    make_user(oauth)
    a = make_client(oauth, scope=SCOPE, redirects=(REDIRECT, REDIRECT + "2"))
    s = requests.Session()
    page = browser_login(oauth, s, code_params(a[0], scope="petstore.r"))
    assert page.status_code == 200 and "wants access" in page.text, page.text
    for change in ({"scope": SCOPE}, {"redirect_uri": REDIRECT + "2"}, {"state": "other"}):
        r = post_decision(s, page, change)
        assert r.status_code in (400, 403), (change, r.status_code, r.headers.get("Location"))
        assert "code=" not in r.headers.get("Location", "")
    r = post_decision(s, page, {})
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
