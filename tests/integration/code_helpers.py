"""Helpers for the code-service black-box tests (test_code*.py): clients and users through the
admin APIs, the authorization request as an API caller (HTTP Basic) or as a browser (HTML
pages, cookies, CSRF tokens), and code redemption at the token endpoint."""
import base64
import hashlib
import html.parser
import secrets
import urllib.parse

import requests


# Registered redirect URIs: loopback http (RFC 8252 §7.3). Nothing listens there; tests never
# follow the redirect, they read Location.
REDIRECT = "http://127.0.0.1:9/cb"
OTHER_REDIRECT = "http://127.0.0.1:9/other?tenant=a%20b"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

USER = "alice"
PASSWORD = "correct horse battery staple"


def basic_user(user, password):
    """HTTP Basic for user credentials (RFC 7617): base64 of user:password, not form-encoded
    as client credentials are (RFC 6749 §2.3.1)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def make_client(oauth, client_type="confidential", redirects=(REDIRECT,),
                scope="petstore.r petstore.w", **fields):
    body = {"redirectUris": list(redirects), "clientProfile": "webserver"}
    if client_type == "public":
        body["authMethod"] = "none"
        body["clientProfile"] = "browser"
    body.update(fields)
    return oauth.create_client(client_type, scope=scope, **body)


def make_user(oauth, user_id=USER, password=PASSWORD, **kw):
    return oauth.create_user(user_id=user_id, password=password, **kw)


def query_of(location):
    parts = urllib.parse.urlsplit(location)
    base = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))
    return base, dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))


def authorize(oauth, params, user=None, password=None, path="/oauth2/code", headers=None,
              session=None):
    """GET the authorization endpoint without following redirects. With `user`, as an API
    caller with HTTP Basic."""
    h = dict(headers or {})
    if user is not None:
        h["Authorization"] = basic_user(user, password)
    get = (session or requests).get
    return get(oauth.url + path, params=params, headers=h, allow_redirects=False, timeout=10)


def code_params(client_id, state="st-1", **extra):
    p = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": state}
    p.update(extra)
    return p


def redeem(oauth, code, client, redirect_uri=REDIRECT, verifier=None, **extra):
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    client_id, secret = client
    if secret:
        return oauth.token(data, client=(client_id, secret))
    data["client_id"] = client_id
    return oauth.token(data)


class Form(html.parser.HTMLParser):
    """The forms of a page: action, method and the inputs each would submit."""

    def __init__(self, text):
        super().__init__()
        self.forms = []
        self.buttons = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {},
                               "buttons": []})
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def page_form(resp, index=0):
    forms = Form(resp.text).forms
    assert forms, resp.text
    return forms[index]


def submit(session, resp, fields=None, drop=(), index=0, button=None):
    """Posts form `index` of page `resp` the way a browser would: its action resolved against
    the page URL, its hidden fields, plus `fields`."""
    form = page_form(resp, index)
    data = dict(form["fields"])
    for k in drop:
        data.pop(k, None)
    if button:
        data[button[0]] = button[1]
    data.update(fields or {})
    url = urllib.parse.urljoin(resp.url, form["action"])
    return session.post(url, data=data, headers=BROWSER, allow_redirects=False, timeout=10)


def browser_login(oauth, session, params, user=USER, password=PASSWORD, path="/oauth2/code",
                  remember=False):
    """GET the login page and post the form; returns the response to the post."""
    page = authorize(oauth, params, path=path, headers=BROWSER, session=session)
    assert page.status_code == 200, page.text
    fields = {"j_username": user, "j_password": password}
    if remember:
        fields["remember"] = "Y"
    return submit(session, page, fields)


def header_values(resp, name):
    """All values of a header (requests folds repeated headers)."""
    return resp.raw.headers.getlist(name) if hasattr(resp.raw.headers, "getlist") else \
        [resp.headers.get(name)]


def record_consent(oauth, client_id, user=USER, password=PASSWORD, **params):
    """Signs in with the browser form and allows the consent page, so the user's consent to
    `client_id` (for `params`' scope, default the client's whole scope) is recorded. HTTP Basic
    sign-in needs it for clients that are not trusted. Returns the browser session."""
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client_id, **params), user=user, password=password)
    assert page.status_code == 200 and "wants access to your account" in page.text, page.text
    done = submit(s, page, button=("decision", "allow"))
    assert done.status_code == 303 and "code=" in done.headers["Location"], done.text
    return s
