"""Authlib (Debian python3-authlib) as an independent OpenID relying party, run the same way
against Portcullis and against the node-oidc-provider peer (tests/peer, started here with node):
the code flow with PKCE, the ID token validated by Authlib's `parse_id_token` (signature from the
JWKS, iss, aud, exp, nonce, at_hash), userinfo, and a relying party expecting another nonce
refusing the token.

The peer must be installed (`npm ci` in tests/peer; scripts/test.sh does): without it these
tests fail, they never skip."""
import html.parser
import json
import os
import secrets
import shutil
import subprocess
import urllib.parse

import pytest
import requests
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose.errors import InvalidClaimError

from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
from conftest import Portcullis

PEER_DIR = os.path.join(os.path.dirname(__file__), "..", "peer")
REDIRECT = "http://127.0.0.1:9/cb"
USER = {"id": "alice", "password": "alice-password-1234", "email": "alice@example.com",
        "given_name": "Alice", "family_name": "Liddell"}


class _NoFramework:
    """Authlib's framework hooks: tokens live in the test, not in a web framework's session."""

    def update_token(self, *args, **kwargs):
        pass


class OpenIDApp(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's own OpenID client (the one its Flask/Django integrations are made of) on plain
    requests."""
    client_cls = OAuth2Session

    def __init__(self, issuer, client_id, client_secret):
        super().__init__(
            _NoFramework(), client_id=client_id, client_secret=client_secret,
            server_metadata_url=issuer + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_basic"})


# --- a user at a browser: cookies, redirects, the provider's HTML forms ------------------------

class _Forms(html.parser.HTMLParser):
    """Forms with their inputs and submit buttons; a button's `form` attribute is honoured."""

    def __init__(self, text):
        super().__init__()
        self.forms, self._by_id, self._current, self._late = [], {}, None, []
        self.feed(text)
        for form_id, kind, item in self._late:
            if form_id in self._by_id:
                self._by_id[form_id][kind].append(item)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                             "inputs": [], "buttons": []}
            self.forms.append(self._current)
            if a.get("id"):
                self._by_id[a["id"]] = self._current
        elif tag in ("input", "button"):
            kind = "buttons" if tag == "button" or a.get("type") == "submit" else "inputs"
            item = {"name": a.get("name"), "type": (a.get("type") or ("submit" if tag == "button" else "text")).lower(),
                    "value": a.get("value") or "", "checked": "checked" in a}
            if a.get("form"):
                self._late.append((a["form"], kind, item))
            elif self._current is not None:
                self._current[kind].append(item)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


_YES = {"allow", "yes", "approve", "accept", "confirm", "continue"}
_NO = {"deny", "no", "abort", "cancel", "reject"}


def _fill(form):
    data = []
    for i in form["inputs"]:
        if not i["name"] or (i["type"] in ("checkbox", "radio") and not i["checked"]):
            continue
        value = i["value"]
        if i["type"] == "password":
            value = USER["password"]
        elif i["type"] != "hidden" and i["name"] in ("j_username", "username", "login", "user"):
            value = USER["id"]
        data.append((i["name"], value))
    for b in form["buttons"]:
        words = {(b["name"] or "").lower(), b["value"].lower()}
        if b["name"] and words & _YES and not words & _NO:
            data.append((b["name"], b["value"]))
            break
    return data


def sign_in(authorization_url):
    """Follows the provider's pages as a user who signs in and allows; returns the URL the
    provider redirects to at the client's redirect URI (not followed)."""
    s = requests.Session()
    s.headers["Accept"] = "text/html,application/xhtml+xml"
    redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(authorization_url).query)["redirect_uri"][0]
    method, url, data, trace = "GET", authorization_url, None, []
    for _ in range(25):
        r = s.request(method, url, data=data, allow_redirects=False, timeout=10)
        trace.append(f"{method} {url} -> {r.status_code}")
        if r.is_redirect:
            location = urllib.parse.urljoin(url, r.headers["Location"])
            if location.startswith(redirect):
                return location
            method, url, data = "GET", location, None
            continue
        forms = [f for f in _Forms(r.text).forms if f["method"] == "post"] if r.status_code == 200 else []
        assert forms, "the sign-in ended on a page:\n" + "\n".join(trace) + "\n" + r.text[:600]
        form = forms[0]
        method, url, data = "POST", urllib.parse.urljoin(url, form["action"] or url), _fill(form)
    raise AssertionError("no end to the sign-in:\n" + "\n".join(trace))


# --- the providers ---------------------------------------------------------------------------

class PortcullisProvider:
    name = "portcullis"

    def __init__(self):
        self.s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                                 "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
        self.issuer = self.s.url
        self.oauth = OAuthServer(self.s)
        r = self.oauth.admin("POST", "/oauth2/user", json={
            "userId": USER["id"], "userType": "customer", "firstName": USER["given_name"],
            "lastName": USER["family_name"], "email": USER["email"],
            "password": USER["password"], "passwordConfirm": USER["password"]})
        assert r.status_code == 200, r.text

    def register_client(self, redirect_uris):
        return self.oauth.create_client("confidential", scope="openid profile email",
                                        clientProfile="webserver", redirectUris=redirect_uris)

    def stop(self):
        assert self.s.stop() == 0, self.s.read_log()


class PeerProvider:
    """node-oidc-provider from tests/peer on port 0; clients by dynamic registration."""
    name = "peer"

    def __init__(self):
        node = shutil.which("node")
        assert node, "node is missing: the peer provider cannot run"
        assert os.path.isdir(os.path.join(PEER_DIR, "node_modules", "oidc-provider")), \
            "the peer is not installed: run `npm ci` in tests/peer (scripts/test.sh does)"
        self.token = secrets.token_urlsafe(24)
        env = dict(os.environ, PORT="0", PEER_REGISTRATION_TOKEN=self.token)
        self.proc = subprocess.Popen([node, os.path.join(PEER_DIR, "provider.mjs")], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # one JSON line once it listens; EOF if it died
        assert line, f"the peer exited ({self.proc.wait()})"
        self.issuer = json.loads(line)["issuer"]

    def register_client(self, redirect_uris):
        r = requests.post(self.issuer + "/reg", timeout=10, headers={"Authorization": "Bearer " + self.token},
                          json={"redirect_uris": redirect_uris, "response_types": ["code"],
                                "grant_types": ["authorization_code", "refresh_token"],
                                "token_endpoint_auth_method": "client_secret_basic",
                                "scope": "openid profile email"})
        assert r.status_code == 201, r.text
        return r.json()["client_id"], r.json()["client_secret"]

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=10) == 0
        self.proc.stdout.close()


@pytest.fixture(params=["portcullis", "peer"])
def provider(request):
    p = PortcullisProvider() if request.param == "portcullis" else PeerProvider()
    yield p
    p.stop()


def authorize(provider):
    cid, secret = provider.register_client([REDIRECT])
    app = OpenIDApp(provider.issuer, cid, secret)
    rv = app.create_authorization_url(redirect_uri=REDIRECT)
    assert rv["nonce"], "Authlib sends a nonce for scope openid"
    callback = sign_in(rv["url"])
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    assert params.get("state") == rv["state"], callback
    assert "code" in params, callback
    token = app.fetch_access_token(redirect_uri=REDIRECT, code=params["code"],
                                   code_verifier=rv["code_verifier"])
    return app, cid, rv, token


def test_authlib_openid_code_flow(provider):
    app, cid, rv, token = authorize(provider)
    assert "id_token" in token, token
    claims = app.parse_id_token(token, nonce=rv["nonce"])
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == cid or cid in claims["aud"]
    assert claims["nonce"] == rv["nonce"]
    assert claims["sub"]

    info = app.userinfo(token=token)
    assert info["sub"] == claims["sub"]
    assert info["email"] == USER["email"]
    assert info["given_name"] == USER["given_name"]
    assert info["family_name"] == USER["family_name"]


def test_authlib_refuses_another_nonce(provider):
    app, _, rv, token = authorize(provider)
    assert "id_token" in token, token
    with pytest.raises(InvalidClaimError, match="nonce"):
        app.parse_id_token(token, nonce=rv["nonce"] + "-not-the-one-sent")
    # The same token passes with the nonce that was sent: only the nonce made the difference.
    assert app.parse_id_token(token, nonce=rv["nonce"])["nonce"] == rv["nonce"]
