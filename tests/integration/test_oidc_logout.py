"""OpenID Connect logout, black-box: the client metadata (postLogoutRedirectUris,
backchannelLogoutUri, idTokenSignedResponseAlg) and its validation, RP-Initiated Logout 1.0 at
the end_session_endpoint (GET/POST /oauth2/logout: exact post_logout_redirect_uri matching,
state, id_token_hint checks), and Back-Channel Logout 1.0 delivered to a REAL HTTP receiver on
loopback that verifies each logout token's signature against /oauth2/keys, its claims and typ.
Conditions are awaited with bounded polling (conftest.poll), never with sleeps."""
import base64
import http.server
import json
import threading
import urllib.parse

import jwt
import pytest
import requests

from code_helpers import (BROWSER, REDIRECT, authorize, browser_login, code_params,
                          make_client, make_user, page_form, query_of, redeem, submit)
from conftest import Portcullis, new_pg_database, poll
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
from test_registry_common import err

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
BYE = "http://127.0.0.1:9/bye"


class Receiver:
    """An RP's back-channel logout endpoint (Back-Channel Logout §2.5): records every POST and
    answers `fail_status` to the first `fail_first` of them, 200 after."""

    def __init__(self, fail_first=0, fail_status=503):
        self.requests = []
        self.lock = threading.Lock()
        self.fail_first = fail_first
        self.fail_status = fail_status
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": body.decode()})
                    n = len(receiver.requests)
                status = receiver.fail_status if n <= receiver.fail_first else 200
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/backchannel?rp=1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return len(self.requests)

    def token(self, i):
        with self.lock:
            r = self.requests[i]
        assert r["path"] == "/backchannel?rp=1"
        assert r["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(r["body"], strict_parsing=True)
        assert list(form) == ["logout_token"], form
        return form["logout_token"][0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def flaky_receiver():
    r = Receiver(fail_first=2, fail_status=503)
    yield r
    r.close()


def start_oauth(**env):
    full = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
            "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
            # Retries come quickly in tests: 1 s, 2 s, 4 s.
            "PORTCULLIS_LOGOUT_BACKCHANNEL_RETRY_BASE_S": "1"}
    full.update(env)
    return OAuthServer(Portcullis(env=full))


@pytest.fixture
def op():
    o = start_oauth()
    yield o
    assert o.s.stop() == 0, o.s.read_log()


def verify_logout_token(oauth, token, client_id, issuer=None):
    """Back-Channel Logout §2.6 as an RP does it: signature by a key of /oauth2/keys, typ
    logout+jwt, iss, aud, iat/exp, jti, events, sub/sid, and no nonce."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt", header
    keys = requests.get(oauth.url + "/oauth2/keys", timeout=10).json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk, algorithm=header["alg"])
    claims = jwt.decode(token, key.key, algorithms=[header["alg"]], audience=client_id,
                        issuer=issuer or oauth.url, options={"require": ["iat", "exp", "jti"]})
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}, claims
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 300
    return claims


def tamper(token):
    """The same token with one payload claim changed: the signature no longer matches."""
    h, p, s = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims["sub"] = "mallory"
    p = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join([h, p, s])


def signed_in(oauth, client_id, scope="petstore.r"):
    """A browser that signed in and got a code for `client_id` (a trusted client: no consent
    page). Returns the session and the redirect's query."""
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client_id, scope=scope))
    assert r.status_code == 303, r.text
    return s, query_of(r.headers["Location"])[1]


def confirm_logout(oauth, s, **params):
    page = s.get(oauth.url + "/oauth2/logout", headers=BROWSER, params=params, timeout=10,
                 allow_redirects=False)
    assert page.status_code == 200 and "Sign out?" in page.text, page.text
    return submit(s, page)


# ---- Discovery

def test_discovery_lists_the_logout_metadata(op):
    m = requests.get(op.url + "/.well-known/openid-configuration", timeout=10).json()
    assert m["end_session_endpoint"] == op.url + "/oauth2/logout"
    assert m["backchannel_logout_supported"] is True
    assert m["backchannel_logout_session_supported"] is True


# ---- Client metadata

def test_client_logout_metadata_round_trips_and_updates(op, receiver):
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE, "https://rp.example/b"],
                               backchannelLogoutUri=receiver.url, idTokenSignedResponseAlg="RS256")
    c = op.admin("GET", "/oauth2/client/" + client_id).json()
    assert c["postLogoutRedirectUris"] == [BYE, "https://rp.example/b"]
    assert c["backchannelLogoutUri"] == receiver.url
    assert c["idTokenSignedResponseAlg"] == "RS256"
    c.update(postLogoutRedirectUris=[], backchannelLogoutUri=None, idTokenSignedResponseAlg=None)
    r = op.admin("PUT", "/oauth2/client", json=c)
    assert r.status_code == 200, r.text
    c = op.admin("GET", "/oauth2/client/" + client_id).json()
    assert c["postLogoutRedirectUris"] == []
    assert c["backchannelLogoutUri"] is None and c["idTokenSignedResponseAlg"] is None


@pytest.mark.parametrize("fields,description", [
    ({"postLogoutRedirectUris": ["http://rp.example/bye"]},
     "postLogoutRedirectUris[0]: must use https unless the host is loopback"),
    ({"postLogoutRedirectUris": ["https://rp.example/bye#x"]},
     "postLogoutRedirectUris[0]: must not contain a fragment"),
    ({"postLogoutRedirectUris": [BYE, BYE]}, "postLogoutRedirectUris[1]: is a duplicate"),
    ({"postLogoutRedirectUris": ["https://rp.example/*"]},
     "postLogoutRedirectUris[0]: must not contain wildcards: redirect URIs match exactly"),
    ({"postLogoutRedirectUris": ["javascript:alert(1)"]},
     "postLogoutRedirectUris[0]: scheme 'javascript' is neither https, loopback http nor a "
     "private-use (reverse domain name) scheme"),
    ({"postLogoutRedirectUris": "https://rp.example/bye"},
     "postLogoutRedirectUris: must be an array of strings"),
    ({"backchannelLogoutUri": "http://rp.example/bc"},
     "backchannelLogoutUri: must use https unless the host is loopback"),
    ({"backchannelLogoutUri": "https://rp.example/bc#frag"},
     "backchannelLogoutUri: must not contain a fragment"),
    ({"backchannelLogoutUri": "/bc"}, "backchannelLogoutUri: '/bc' is not an absolute URL"),
    ({"backchannelLogoutUri": "file:///etc/passwd"}, "backchannelLogoutUri: must be an https URL"),
    ({"backchannelLogoutUri": "https://user:pw@rp.example/bc"},
     "backchannelLogoutUri: must not contain userinfo"),
    # The server runs keys.algorithm=RS256: it holds ID-token keys for RS256 only, so a client
    # may not register an algorithm the token endpoint could not sign with.
    ({"idTokenSignedResponseAlg": "none"},
     "idTokenSignedResponseAlg: 'none' is not one of RS256"),
    ({"idTokenSignedResponseAlg": "HS256"},
     "idTokenSignedResponseAlg: 'HS256' is not one of RS256"),
    ({"idTokenSignedResponseAlg": "ES256"},
     "idTokenSignedResponseAlg: 'ES256' is not one of RS256"),
])
def test_client_logout_metadata_is_validated(op, fields, description):
    body = {"clientType": "confidential", "clientProfile": "webserver", "clientName": "v",
            "host": "lightapi.net", "ownerId": "admin", "redirectUris": [REDIRECT]}
    body.update(fields)
    b = err(op.admin("POST", "/oauth2/client", json=body), 400, "ERR11004")
    assert b["description"] == description, b


# ---- RP-Initiated Logout

def test_a_registered_post_logout_redirect_uri_is_followed_with_state(op):
    make_user(op)
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, client_id)
    r = confirm_logout(op, s, client_id=client_id, post_logout_redirect_uri=BYE, state="st 1&x")
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == BYE + "?state=st%201%26x"
    # The session is over.
    r = authorize(op, code_params(client_id), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text
    # Without a session there is nothing to confirm: straight back.
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"client_id": client_id, "post_logout_redirect_uri": BYE, "state": "2"})
    assert r.status_code == 302 and r.headers["Location"] == BYE + "?state=2"


@pytest.mark.parametrize("uri", [
    REDIRECT,  # a redirect URI, not a post-logout one
    BYE + "/", BYE + "?x=1", "http://127.0.0.1:9/BYE", "https://evil.example/",
    "http://127.0.0.1:9/by"])
def test_an_unregistered_post_logout_redirect_uri_is_never_followed(op, uri):
    make_user(op)
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, client_id)
    r = confirm_logout(op, s, client_id=client_id, post_logout_redirect_uri=uri, state="s")
    assert r.status_code == 200 and "Location" not in r.headers, r.headers
    assert "You are signed out" in r.text
    # Signed out, no session: still not followed.
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"client_id": client_id, "post_logout_redirect_uri": uri})
    assert r.status_code == 200 and "Location" not in r.headers


def test_post_logout_redirect_needs_a_known_client(op):
    make_user(op)
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, client_id)
    for params in ({"post_logout_redirect_uri": BYE},
                   {"client_id": "ghost", "post_logout_redirect_uri": BYE}):
        r = s.get(op.url + "/oauth2/logout", headers=BROWSER, params=params, timeout=10,
                  allow_redirects=False)
        assert r.status_code == 200 and "Sign out?" in r.text
        assert "Location" not in r.headers
    r = confirm_logout(op, s, post_logout_redirect_uri=BYE)
    assert r.status_code == 200 and "Location" not in r.headers


def test_end_session_by_post_and_its_confirmation(op):
    make_user(op)
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, client_id)
    # §2: the request may come form-encoded by POST; it still asks.
    page = s.post(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
                  data={"client_id": client_id, "post_logout_redirect_uri": BYE, "state": "p"})
    assert page.status_code == 200 and "Sign out?" in page.text
    form = page_form(page)
    assert form["fields"]["post_logout_redirect_uri"] == BYE and form["fields"]["csrf"]
    # The confirmation without this page's token does nothing.
    r = s.post(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
               data={"client_id": client_id, "post_logout_redirect_uri": BYE, "csrf": "forged"})
    assert r.status_code == 403
    r = s.post(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
               data={})
    assert r.status_code == 403
    assert authorize(op, code_params(client_id), headers=BROWSER, session=s).status_code == 302
    r = submit(s, page)
    assert r.status_code == 303 and r.headers["Location"] == BYE + "?state=p"


def test_a_forged_id_token_hint_is_refused(op):
    make_user(op)
    client_id, _ = make_client(op, "trusted", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, client_id)
    # An access token is signed by us but is not an ID token; junk is not a JWT at all.
    at = op.token({"grant_type": "client_credentials"}, client=(BOOT_ID, BOOT_SECRET))
    for hint in ("not-a-jwt", at.json()["access_token"], tamper(at.json()["access_token"])):
        r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
                  params={"id_token_hint": hint, "post_logout_redirect_uri": BYE,
                          "client_id": client_id})
        assert r.status_code == 400 and "Location" not in r.headers, r.text
    # Still signed in: a refused request ends nothing.
    assert authorize(op, code_params(client_id), headers=BROWSER, session=s).status_code == 302


def id_token_for(op, client, s):
    """An ID token for `client` from the browser session `s` (code flow with openid)."""
    r = authorize(op, code_params(client[0], scope="openid"), headers=BROWSER, session=s)
    assert r.status_code == 302, r.text
    t = redeem(op, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    return t.json()["id_token"]


def test_another_clients_id_token_hint_is_refused(op):
    make_user(op)
    a = make_client(op, "trusted", scope="openid petstore.r", postLogoutRedirectUris=[BYE])
    b = make_client(op, "trusted", scope="openid petstore.r",
                    postLogoutRedirectUris=["http://127.0.0.1:9/b"])
    s, _ = signed_in(op, a[0])
    hint = id_token_for(op, a, s)
    # §2: client_id must be the client the ID token was issued to.
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"id_token_hint": hint, "client_id": b[0],
                      "post_logout_redirect_uri": "http://127.0.0.1:9/b"})
    assert r.status_code == 400 and "Location" not in r.headers, r.text
    # A's hint with B's URI: the hint names A, whose list lacks it: not followed (the hint
    # names this session, so there is no confirmation: straight to the signed-out page).
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"id_token_hint": hint, "post_logout_redirect_uri": "http://127.0.0.1:9/b"})
    assert r.status_code == 200 and "Location" not in r.headers, r.text
    # A forged copy of a real ID token (changed sub, same signature) is refused.
    s, _ = signed_in(op, a[0])
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"id_token_hint": tamper(id_token_for(op, a, s))})
    assert r.status_code == 400


def test_a_valid_hint_for_this_session_signs_out_without_asking(op):
    make_user(op)
    a = make_client(op, "trusted", scope="openid petstore.r", postLogoutRedirectUris=[BYE])
    s, _ = signed_in(op, a[0])
    hint = id_token_for(op, a, s)
    claims = jwt.decode(hint, options={"verify_signature": False})
    assert claims.get("sid"), claims
    # The hint names the client: no client_id needed for the registered URI.
    r = s.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
              params={"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "h"})
    assert r.status_code == 302 and r.headers["Location"] == BYE + "?state=h", r.text
    r = authorize(op, code_params(a[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text
    # Signed in again: a hint from the earlier session does not name this one, so it asks.
    s2, _ = signed_in(op, a[0])
    r = s2.get(op.url + "/oauth2/logout", headers=BROWSER, allow_redirects=False, timeout=10,
               params={"id_token_hint": hint, "post_logout_redirect_uri": BYE})
    assert r.status_code == 200 and "Sign out?" in r.text


# ---- Back-Channel Logout

def test_sign_out_delivers_a_signed_logout_token(op, receiver):
    make_user(op)
    client_id, _ = make_client(op, "trusted", backchannelLogoutUri=receiver.url,
                               postLogoutRedirectUris=[BYE])
    quiet_id, _ = make_client(op, "trusted")  # took part, registered no URI: not told
    s, _ = signed_in(op, client_id)
    r = authorize(op, code_params(quiet_id), headers=BROWSER, session=s)
    assert r.status_code == 302
    r = confirm_logout(op, s, client_id=client_id, post_logout_redirect_uri=BYE)
    assert r.status_code == 303
    poll(lambda: receiver.count() >= 1, "the logout token")
    claims = verify_logout_token(op, receiver.token(0), client_id)
    assert claims["sub"] == "alice"
    assert claims["sid"]
    # A forged copy does not verify.
    with pytest.raises(jwt.InvalidSignatureError):
        verify_logout_token(op, tamper(receiver.token(0)), client_id)
    # Delivered once: the outbox is empty, and signing out again (no session) sends nothing.
    poll(lambda: "logout.backchannel_delivered" in op.s.read_log(), "the delivery log line")
    log = op.s.read_log()
    assert receiver.token(0) not in log  # never the token
    assert f'client_id="{client_id}"' in log or f"client_id={client_id}" in log
    s.get(op.url + "/oauth2/logout", headers=BROWSER, timeout=10)
    assert receiver.count() == 1


def test_a_failing_receiver_gets_it_retried(flaky_receiver):
    op = start_oauth()
    try:
        make_user(op)
        client_id, _ = make_client(op, "trusted", backchannelLogoutUri=flaky_receiver.url)
        s, _ = signed_in(op, client_id)
        assert confirm_logout(op, s).status_code == 200
        # 503, 503, then 200: three POSTs, each a fresh token, the last one accepted.
        poll(lambda: flaky_receiver.count() >= 3, "three delivery attempts", deadline_s=30)
        tokens = [flaky_receiver.token(i) for i in range(3)]
        jtis = {verify_logout_token(op, t, client_id)["jti"] for t in tokens}
        assert len(jtis) == 3
        poll(lambda: "logout.backchannel_delivered" in op.s.read_log(), "delivery")
        assert "logout.backchannel_failed" in op.s.read_log()
        assert flaky_receiver.count() == 3
    finally:
        assert op.s.stop() == 0, op.s.read_log()


def test_a_receiver_that_rejects_the_token_is_not_retried():
    rejecting = Receiver(fail_first=100, fail_status=400)
    op = start_oauth()
    try:
        make_user(op)
        client_id, _ = make_client(op, "trusted", backchannelLogoutUri=rejecting.url)
        s, _ = signed_in(op, client_id)
        assert confirm_logout(op, s).status_code == 200
        poll(lambda: "logout.backchannel_gave_up" in op.s.read_log(), "giving up")
        assert rejecting.count() == 1
    finally:
        rejecting.close()
        assert op.s.stop() == 0, op.s.read_log()


def test_locking_the_user_ends_their_sessions_with_a_logout_token(op, receiver):
    make_user(op)
    client_id, _ = make_client(op, "trusted", backchannelLogoutUri=receiver.url)
    s, _ = signed_in(op, client_id)
    r = op.admin("PUT", "/oauth2/user", json={"userId": "alice", "locked": True})
    assert r.status_code == 200, r.text
    poll(lambda: receiver.count() >= 1, "the logout token")
    claims = verify_logout_token(op, receiver.token(0), client_id)
    assert claims["sub"] == "alice" and claims["sid"]
    # The session is gone too: the next authorization asks for the password again.
    r = authorize(op, code_params(client_id), headers=BROWSER, session=s)
    assert r.status_code == 200 and 'name="j_password"' in r.text


def test_deleting_the_user_sends_a_logout_token(op, receiver):
    make_user(op)
    client_id, _ = make_client(op, "trusted", backchannelLogoutUri=receiver.url)
    signed_in(op, client_id)
    r = op.admin("DELETE", "/oauth2/user/alice")
    assert r.status_code == 200, r.text
    poll(lambda: receiver.count() >= 1, "the logout token")
    assert verify_logout_token(op, receiver.token(0), client_id)["sub"] == "alice"


def test_two_instances_on_postgresql_deliver_each_token_once(receiver):
    """Two instances share one PostgreSQL: sessions begin on one and end on the other, both run
    the delivery job, and every logout token is delivered exactly once."""
    url = new_pg_database()
    issuer = "http://op.cluster.test"
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_LOGOUT_BACKCHANNEL_RETRY_BASE_S": "1",
           "PORTCULLIS_SERVER_ISSUER": issuer}
    a = Portcullis(store=url, env=env)
    b = Portcullis(store=url, env=env)
    try:
        op_a, op_b = OAuthServer(a), OAuthServer(b)
        make_user(op_a)
        client_id, _ = make_client(op_a, "trusted", backchannelLogoutUri=receiver.url)
        for _ in range(3):
            s, _ = signed_in(op_a, client_id)
            assert confirm_logout(op_b, s).status_code == 200

        def delivered():
            return sum(x.read_log().count("logout.backchannel_delivered") for x in (a, b))

        poll(lambda: delivered() >= 3, "three deliveries", deadline_s=30)
        assert receiver.count() == 3 and delivered() == 3
        sids = {verify_logout_token(op_a, receiver.token(i), client_id, issuer)["sid"]
                for i in range(3)}
        assert len(sids) == 3
    finally:
        for x in (a, b):
            assert x.stop() == 0, x.read_log()
