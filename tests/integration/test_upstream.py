"""Upstream OpenID Connect providers ("Sign in with ...", README "Upstream OpenID Connect
providers") against a small provider on loopback that misbehaves on request (fake_upstream.py,
python3-jwcrypto): the flow with PKCE, nonce and state, just-in-time accounts with roles from a
claim table, linking by a verified e-mail address, a second sign-in reusing the link, SSO and
consent afterwards; and the refusals, each with no session and no code: a wrong nonce, a foreign
issuer's ID token, a bad signature, a wrong audience, an expired ID token, a wrong RFC 9207 iss
parameter, a tampered, replayed or foreign-browser state."""
import base64
import html
import json
import os
import re
import subprocess
import urllib.parse

import pytest
import requests

from code_helpers import BROWSER, REDIRECT, basic_user, code_params, make_client, query_of, \
    redeem, submit
from conftest import BIN, PG_URL, Portcullis, new_pg_database, poll, run_cli
from fake_upstream import FakeUpstream
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer


def claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture(scope="module")
def upstream():
    u = FakeUpstream()
    yield u
    u.stop()


def config(upstream, tmp, extra=""):
    path = os.path.join(tmp, "portcullis.yaml")
    with open(path, "w") as f:
        f.write(f"""
authenticators:
  up:
    type: oidc
    issuer: "{upstream.issuer}"
    allow_http_loopback: true
    client_id: "{upstream.client_id}"
    display_name: "Test IdP"
    roles_claim: groups
    roles:
      eng: [dev, reader]
    default_roles: user
  up-link:
    type: oidc
    issuer: "{upstream.issuer}"
    allow_http_loopback: true
    client_id: "{upstream.client_id}"
    display_name: "Linked IdP"
    link_claim: email
    create_users: false
  mixed:
    type: chain
    members: [default, up]
""" + extra)
    return path


@pytest.fixture
def oauth(upstream, tmp_path):
    upstream.reset()
    # The client secret comes from the environment, like any authenticator secret.
    s = Portcullis(args=["--config", config(upstream, str(tmp_path))],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET": upstream.client_secret})
    o = OAuthServer(s)
    yield o
    log = s.read_log()
    code = s.stop()
    assert code == 0, log
    # Secrets never reach the log.
    assert upstream.client_secret not in log


def sign_in_link(page):
    m = re.search(r'<a class="button upstream" href="([^"]+)">Sign in with ([^<]+)</a>', page.text)
    assert m, page.text
    return html.unescape(m.group(1)), html.unescape(m.group(2))


def begin(oauth, session, client_id, **params):
    """The sign-in page, then its "Sign in with" link: returns the upstream's redirect back to
    the callback (not yet followed)."""
    page = session.get(oauth.url + "/oauth2/code", params=code_params(client_id, **params),
                       headers=BROWSER, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    href, label = sign_in_link(page)
    go = session.get(urllib.parse.urljoin(page.url, href), headers=BROWSER,
                     allow_redirects=False, timeout=10)
    assert go.status_code == 303, go.text
    assert go.headers["Location"].startswith(oauth_upstream_issuer(go))
    back = session.get(go.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    return back


def oauth_upstream_issuer(resp):
    return "http://127.0.0.1:"


def callback(session, back, **override):
    url = back.headers["Location"]
    if override:
        base, q = query_of(url)
        q.update(override)
        url = base + "?" + urllib.parse.urlencode(q)
    return session.get(url, headers=BROWSER, allow_redirects=False, timeout=10)


def code_of(resp):
    assert resp.status_code in (302, 303), resp.text
    base, q = query_of(resp.headers["Location"])
    assert base == REDIRECT and "code" in q, resp.headers["Location"]
    return q["code"]


def token(oauth, client, code):
    t = redeem(oauth, code, client)
    assert t.status_code == 200, t.text
    return claims(t.json()["access_token"])


def sso_cookie_set(resp):
    return "portcullis_sso=" in (resp.headers.get("Set-Cookie") or "")


def test_sign_in_creates_a_user_just_in_time_and_reuses_it(oauth, upstream):
    upstream.reset(claims={"sub": "u-1001", "email": "dana@example.com", "email_verified": True,
                           "given_name": "Dana", "groups": ["eng", "admins"]})
    client = make_client(oauth, "trusted", authenticateClass="up")
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                 timeout=10)
    # Only the provider's link: the client's authenticator checks no passwords.
    assert sign_in_link(page)[1] == "Test IdP"
    assert 'name="j_password"' not in page.text
    back = begin(oauth, s, client[0])
    # The upstream got PKCE S256, a nonce, our state and the exact redirect URI.
    sent = query_of(back.headers["Location"])[1]
    done = callback(s, back)
    assert sso_cookie_set(done)
    c = token(oauth, client, code_of(done))
    assert c["user_id"] == "up.u-1001" and c["user_type"] == "customer"
    assert sorted(c["roles"].split()) == ["dev", "reader", "user"]  # never admin by default
    req = upstream.token_requests[-1]
    assert req["form"]["grant_type"] == "authorization_code" and req["form"]["code_verifier"]
    assert req["form"]["redirect_uri"] == oauth.url + "/oauth2/upstream/callback"
    assert sent["state"]
    # The account exists, marked by its link; no password signs it in.
    u = oauth.admin("GET", "/oauth2/user/up.u-1001")
    assert u.status_code == 200 and u.json()["email"] == "dana@example.com", u.text
    r = requests.get(oauth.url + "/oauth2/code", params=code_params(client[0]),
                     headers={"Authorization": basic_user("up.u-1001", "")},
                     allow_redirects=False, timeout=10)
    assert r.status_code in (400, 401), r.text
    # SSO: the same browser gets a code without signing in again.
    again = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                  allow_redirects=False, timeout=10)
    assert token(oauth, client, code_of(again))["user_id"] == "up.u-1001"
    # A second sign-in in another browser: the same account, roles from the table again.
    upstream.reset(claims={"sub": "u-1001", "groups": []})
    s2 = requests.Session()
    c = token(oauth, client, code_of(callback(s2, begin(oauth, s2, client[0]))))
    assert c["user_id"] == "up.u-1001" and c["roles"] == "user"


def test_consent_then_code_with_a_chain(oauth, upstream):
    upstream.reset(claims={"sub": "u-2002"})
    client = make_client(oauth, "confidential", authenticateClass="mixed")
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                 timeout=10)
    assert 'name="j_password"' in page.text and sign_in_link(page)[1] == "Test IdP"
    consent = callback(s, begin(oauth, s, client[0]))
    assert consent.status_code == 200 and "wants access to your account" in consent.text
    done = submit(s, consent, button=("decision", "allow"))
    c = token(oauth, client, code_of(done))
    assert c["user_id"] == "up.u-2002"


def test_link_by_verified_email_only(oauth, upstream):
    oauth.create_user(user_id="carol", roles="staff")  # carol@example.com
    client = make_client(oauth, "trusted", authenticateClass="up-link")
    # Not verified: no link, and create_users is off: refused.
    upstream.reset(claims={"sub": "u-3003", "email": "carol@example.com",
                           "email_verified": False})
    s = requests.Session()
    r = callback(s, begin(oauth, s, client[0]))
    assert r.status_code == 400 and "no account here" in r.text and not sso_cookie_set(r)
    upstream.reset(claims={"sub": "u-3003", "email": "CAROL@example.com",
                           "email_verified": True})
    c = token(oauth, client, code_of(callback(s, begin(oauth, s, client[0]))))
    assert c["user_id"] == "carol" and c["roles"] == "staff"
    # The link holds when the upstream address changes; nothing new is created.
    upstream.reset(claims={"sub": "u-3003", "email": "new@example.com", "email_verified": True})
    s2 = requests.Session()
    assert token(oauth, client, code_of(callback(s2, begin(oauth, s2, client[0]))))["user_id"] \
        == "carol"
    # An admin account is never linked.
    oauth.create_user(user_id="root", user_type="admin")
    upstream.reset(claims={"sub": "u-4004", "email": "root@example.com", "email_verified": True})
    s3 = requests.Session()
    r = callback(s3, begin(oauth, s3, client[0]))
    assert r.status_code == 400 and "never linked" in r.text and not sso_cookie_set(r)
    # Nor an account whose admin rights come from its role (Trust I), whatever its type.
    oauth.create_user(user_id="ops", user_type="employee", roles="user admin")
    upstream.reset(claims={"sub": "u-5005", "email": "ops@example.com", "email_verified": True})
    s4 = requests.Session()
    r = callback(s4, begin(oauth, s4, client[0]))
    assert r.status_code == 400 and "never linked" in r.text and not sso_cookie_set(r)


def test_link_by_claim_to_the_local_user_id(upstream, tmp_path):
    """link_claim: <claim> with link_attribute: user_id: an identity without a link signs in as
    the pre-existing local account whose user id is exactly the claim's value (its own roles,
    nothing created; the e-mail claim plays no part); an administrator account is never
    linked, and a value that matches only without case does not link."""
    upstream.reset()
    extra = f"""  up-claim:
    type: oidc
    issuer: "{upstream.issuer}"
    allow_http_loopback: true
    client_id: "{upstream.client_id}"
    display_name: "Claim IdP"
    link_claim: employee_id
    link_attribute: user_id
    create_users: false
"""
    s = Portcullis(args=["--config", config(upstream, str(tmp_path), extra)],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET":
                            upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLAIM_CLIENT_SECRET":
                            upstream.client_secret})
    try:
        oauth = OAuthServer(s)
        listed = {a["name"]: a for a in oauth.admin("GET", "/oauth2/authenticators").json()}
        assert listed["up-claim"]["linkClaim"] == "employee_id"
        assert listed["up-claim"]["linkAttribute"] == "user_id"
        oauth.create_user(user_id="frank", roles="staff")  # frank@example.com
        oauth.create_user(user_id="grace", roles="staff")  # grace@example.com
        client = make_client(oauth, "trusted", authenticateClass="up-claim")
        # Only the exact user id links: no case folding, and create_users is off: refused.
        upstream.reset(claims={"sub": "u-9009", "employee_id": "FRANK"})
        b = requests.Session()
        r = callback(b, begin(oauth, b, client[0]))
        assert r.status_code == 400 and "no account here" in r.text and not sso_cookie_set(r)
        # The claim, not the (verified) e-mail address, chooses the account.
        upstream.reset(claims={"sub": "u-9009", "employee_id": "frank",
                               "email": "grace@example.com", "email_verified": True})
        b = requests.Session()
        c = token(oauth, client, code_of(callback(b, begin(oauth, b, client[0]))))
        assert c["user_id"] == "frank" and c["roles"] == "staff", c
        # The link holds by sub when the claim changes upstream.
        upstream.reset(claims={"sub": "u-9009", "employee_id": "grace"})
        b = requests.Session()
        assert token(oauth, client, code_of(callback(b, begin(oauth, b, client[0]))))[
            "user_id"] == "frank"
        # An administrator account is never linked, by type or by role.
        oauth.create_user(user_id="boss", user_type="admin", roles="staff")
        oauth.create_user(user_id="ops", user_type="employee", roles="user admin")
        for i, target in enumerate(["boss", "ops"]):
            upstream.reset(claims={"sub": "u-910%d" % i, "employee_id": target})
            b = requests.Session()
            r = callback(b, begin(oauth, b, client[0]))
            assert r.status_code == 400 and "administrator accounts are never linked" in \
                html.unescape(r.text), r.text
            assert not sso_cookie_set(r)
    finally:
        log = s.read_log()
        assert s.stop() == 0, log


@pytest.mark.parametrize("behaviour,message", [
    ({"nonce": "not-ours"}, "does not belong to this sign-in"),
    ({"nonce": None}, "does not belong to this sign-in"),
    ({"iss": "https://evil.example.com"}, "from another issuer"),
    ({"bad_signature": True}, "signature could not be verified"),
    ({"aud": "someone-else"}, "for another client"),
    ({"aud": ["portcullis-rp", "someone-else"]}, "for another client"),  # no azp
    ({"azp": "someone-else"}, "for another client"),
    ({"exp_in": -600}, "has expired"),
    ({"iat_in": 3600}, "not valid yet"),
    ({"iss_param": "https://evil.example.com"}, "came from another issuer"),
])
def test_bad_answers_get_no_session_and_no_code(oauth, upstream, behaviour, message):
    client = make_client(oauth, "trusted", authenticateClass="up")
    upstream.reset(**behaviour)
    s = requests.Session()
    r = callback(s, begin(oauth, s, client[0]))
    assert r.status_code == 400, r.text
    assert message in html.unescape(r.text), r.text
    assert "Location" not in r.headers and not sso_cookie_set(r)
    # Still signed out: the authorization request shows the sign-in page.
    again = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                  allow_redirects=False, timeout=10)
    assert again.status_code == 200 and "Sign in with" in again.text
    # The right iss parameter is accepted.
    if "iss_param" in behaviour:
        upstream.reset(iss_param=upstream.issuer)
        assert code_of(callback(s, begin(oauth, s, client[0])))


def test_missing_iss_parameter_is_refused_when_the_provider_advertises_it(upstream, tmp_path):
    # Discovery is cached per server: a server of its own that sees the advertisement.
    upstream.reset(advertise_iss=True)
    s = Portcullis(args=["--config", config(upstream, str(tmp_path))],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET": upstream.client_secret})
    try:
        oauth = OAuthServer(s)
        client = make_client(oauth, "trusted", authenticateClass="up")
        b = requests.Session()
        r = callback(b, begin(oauth, b, client[0]))
        assert r.status_code == 400 and "does not name its issuer" in r.text
        assert not sso_cookie_set(r)
        upstream.reset(advertise_iss=True, iss_param=upstream.issuer)
        assert code_of(callback(b, begin(oauth, b, client[0])))
    finally:
        upstream.reset()
        s.stop()


def test_rotated_keys_are_fetched_once_per_unknown_kid(oauth, upstream):
    client = make_client(oauth, "trusted", authenticateClass="up")
    upstream.reset(claims={"sub": "u-5005"})

    def sign_in():
        s = requests.Session()  # a new browser each time: no SSO
        return callback(s, begin(oauth, s, client[0]))

    assert code_of(sign_in())
    fetched = upstream.jwks_fetches
    # Cached: the next sign-in fetches nothing.
    assert code_of(sign_in())
    assert upstream.jwks_fetches == fetched
    # The provider rotates its key: one refetch for the unknown kid, and the sign-in works.
    upstream.rotate("up-rotated-%d" % fetched)
    try:
        assert code_of(sign_in())
        assert upstream.jwks_fetches == fetched + 1
        # A made-up kid right after: the refetch is rate-limited, the token refused.
        upstream.reset(bad_signature=True, claims={"sub": "u-5005"})
        r = sign_in()
        assert r.status_code == 400 and not sso_cookie_set(r)
        assert upstream.jwks_fetches == fetched + 1
    finally:
        upstream.key, upstream.kid = upstream.first_key, "up-1"


def test_state_is_single_use_bound_to_the_browser_and_not_forgeable(oauth, upstream):
    client = make_client(oauth, "trusted", authenticateClass="up")
    s = requests.Session()
    back = begin(oauth, s, client[0])
    # A tampered state is refused (and burns nothing of the real one).
    state = query_of(back.headers["Location"])[1]["state"]
    r = callback(s, back, state=state[:-2] + ("AA" if not state.endswith("AA") else "BB"))
    assert r.status_code == 400 and "unknown, expired or was already used" in r.text
    assert not sso_cookie_set(r)
    # No state at all.
    r = callback(s, back, state="")
    assert r.status_code == 400 and not sso_cookie_set(r)
    # Another browser (no binding cookie) cannot use it, and the attempt burns it.
    other = requests.Session()
    r = callback(other, back)
    assert r.status_code == 400 and "another browser" in r.text and not sso_cookie_set(r)
    r = callback(s, back)
    assert r.status_code == 400 and "already used" in r.text
    # A fresh one works once; its replay is refused.
    back = begin(oauth, s, client[0])
    assert code_of(callback(s, back))
    r = callback(s, back)
    assert r.status_code == 400 and "already used" in r.text
    # The start link needs the sign-in page's CSRF token.
    r = s.get(oauth.url + "/oauth2/upstream/start",
              params={**code_params(client[0]), "authenticator": "up", "csrf": "x"},
              headers=BROWSER, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "Location" not in r.headers


def test_state_is_single_use_across_instances(start, upstream, tmp_path):
    """Two instances on one PostgreSQL database behind one issuer: the flow started at A ends
    at B, and the same answer replayed at A is refused (the store's single-winner take)."""
    if not PG_URL:
        pytest.fail("PORTCULLIS_TEST_PG_URL is required for the cross-instance test")
    upstream.reset(claims={"sub": "u-6006"})
    url = new_pg_database()
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_SERVER_ISSUER": "http://auth.cluster.test",
           "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
           "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET": upstream.client_secret}
    cfg = config(upstream, str(tmp_path))
    a = OAuthServer(start("--config", cfg, store=url, env=env))
    b = OAuthServer(start("--config", cfg, store=url, env=env))
    client = make_client(a, "trusted", authenticateClass="up")
    poll(lambda: b.token({"grant_type": "client_credentials"}, client=client).status_code == 200,
         "instance B knows the client")
    s = requests.Session()
    back = begin(a, s, client[0])
    # The provider sends the browser to the one redirect URI; the load balancer picks B.
    base, q = query_of(back.headers["Location"])
    assert base == "http://auth.cluster.test/oauth2/upstream/callback"
    at_b = s.get(b.url + "/oauth2/upstream/callback", params=q, headers=BROWSER,
                 allow_redirects=False, timeout=10)
    assert code_of(at_b)
    at_a = s.get(a.url + "/oauth2/upstream/callback", params=q, headers=BROWSER,
                 allow_redirects=False, timeout=10)
    assert at_a.status_code == 400 and "already used" in at_a.text


def test_provider_error_answer_is_shown_without_session(oauth, upstream):
    client = make_client(oauth, "trusted", authenticateClass="up")
    s = requests.Session()
    back = begin(oauth, s, client[0])
    r = callback(s, back, error="access_denied", code="")
    assert r.status_code == 400 and "answered access_denied" in r.text and not sso_cookie_set(r)


def test_unreachable_provider_is_a_clear_error(upstream, tmp_path):
    # An issuer where nothing listens: the start link answers a 502 page, no redirect.
    cfg = tmp_path / "c.yaml"
    cfg.write_text("""
authenticators:
  gone:
    type: oidc
    issuer: "http://127.0.0.1:9"
    allow_http_loopback: true
    client_id: x
    client_secret: y
    timeout_ms: 500
""")
    s = Portcullis(args=["--config", str(cfg)],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    try:
        oauth = OAuthServer(s)
        client = make_client(oauth, "trusted", authenticateClass="gone")
        b = requests.Session()
        page = b.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                     timeout=10)
        href, _ = sign_in_link(page)
        r = b.get(urllib.parse.urljoin(page.url, href), headers=BROWSER, allow_redirects=False,
                  timeout=10)
        # A server-side failure: the generic page, the reason in the log.
        assert r.status_code == 502 and "Location" not in r.headers, r.text
        assert "Start again" in r.text
        assert "discovery http://127.0.0.1:9/.well-known/openid-configuration" in s.read_log()
    finally:
        s.stop()


# ---- configuration, the admin API and `portcullis auth`

def test_admin_api_lists_and_tests_the_provider(oauth, upstream):
    r = oauth.admin("GET", "/oauth2/authenticators")
    assert r.status_code == 200, r.text
    listed = {a["name"]: a for a in r.json()}
    assert listed["up"]["type"] == "oidc" and listed["up"]["displayName"] == "Test IdP"
    assert listed["mixed"]["members"] == ["default", "up"]
    assert upstream.client_secret not in r.text
    r = oauth.admin("POST", "/oauth2/authenticators/up/test")
    assert r.status_code == 200 and r.json()["connection"] == "ok", r.text


@pytest.mark.parametrize("body,key", [
    ("type: oidc\n    client_id: a\n    client_secret: b", "issuer"),
    ("type: oidc\n    issuer: http://idp.example.com\n    client_id: a\n    client_secret: b",
     "issuer"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_secret: b", "client_id"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_id: a", "client_secret"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_id: a\n    client_secret: b\n"
     "    algorithms: [HS256]", "algorithms"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_id: a\n    client_secret: b\n"
     "    user_type: admin", "user_type"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_id: a\n    client_secret: b\n"
     "    link_claim: name", "link_claim"),
    ("type: oidc\n    issuer: https://idp.example.com\n    client_id: a\n    client_secret: b\n"
     "    link_claim: employee_id\n    link_attribute: email", "link_attribute"),
])
def test_config_errors_name_the_key(tmp_path, body, key):
    path = tmp_path / "c.yaml"
    path.write_text("authenticators:\n  idp:\n    " + body + "\n")
    r = run_cli("config", "check", "--config", str(path))
    assert r.returncode != 0
    assert f"authenticators.idp.{key}" in r.stdout + r.stderr, r.stdout + r.stderr


def test_auth_list_and_test(upstream, tmp_path):
    upstream.reset()
    cfg = config(upstream, str(tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET"] = upstream.client_secret
    env["PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET"] = upstream.client_secret
    r = subprocess.run([BIN, "auth", "list", "--config", cfg], capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    listed = {a["name"]: a for a in json.loads(r.stdout)}
    assert listed["up"]["type"] == "oidc" and listed["up"]["issuer"] == upstream.issuer
    assert listed["up-link"]["linkClaim"] == "email"
    assert upstream.client_secret not in r.stdout
    r = subprocess.run([BIN, "auth", "test", "up", "--config", cfg], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0 and "connection: ok" in r.stdout, r.stdout + r.stderr


def test_an_enrolled_local_account_is_not_signed_in_by_its_upstream_identity(oauth, upstream):
    """The enrolment of a built-in store account (realm "") holds at an upstream client: the
    provider cannot give the code, so a linked or e-mail-matched account with an active second
    factor is refused (access_denied), with no session."""
    import pyotp
    oauth.create_user(user_id="erin", roles="staff")  # erin@example.com
    r = oauth.admin("POST", "/oauth2/user/erin/totp")
    assert r.status_code == 201, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    assert oauth.admin("POST", "/oauth2/user/erin/totp/confirm",
                       json={"code": totp.now()}).status_code == 204
    client = make_client(oauth, "trusted", authenticateClass="up-link")
    upstream.reset(claims={"sub": "u-6006", "email": "erin@example.com", "email_verified": True})
    s = requests.Session()
    # Not linked by e-mail while the account has an active second factor.
    r = callback(s, begin(oauth, s, client[0]))
    assert r.status_code == 400 and "second factor are never linked" in r.text, r.text
    assert not sso_cookie_set(r)
    # Without the enrolment the same identity signs in (and links) as before.
    assert oauth.admin("DELETE", "/oauth2/user/erin/totp").status_code == 204
    s2 = requests.Session()
    assert token(oauth, client, code_of(callback(s2, begin(oauth, s2, client[0]))))["user_id"] \
        == "erin"
    # Enrolled again: the existing link signs in no more either.
    r = oauth.admin("POST", "/oauth2/user/erin/totp")
    totp = pyotp.TOTP(r.json()["secret"])
    assert oauth.admin("POST", "/oauth2/user/erin/totp/confirm",
                       json={"code": totp.now()}).status_code == 204
    s3 = requests.Session()
    r = callback(s3, begin(oauth, s3, client[0]))
    assert r.status_code == 303, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q.get("error") == "access_denied" and "code" not in q, q
    assert not sso_cookie_set(r)


def test_an_account_that_must_enrol_is_not_linked_by_email(upstream, tmp_path):
    """code.second_factor_roles: an account whose role needs a second factor, not yet enrolled,
    is not linked by e-mail either (a link made now would start working once the rule is
    dropped); the same identity links once the account no longer has the role."""
    upstream.reset()
    s = Portcullis(args=["--config", config(upstream, str(tmp_path))],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET":
                            upstream.client_secret,
                        "PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "ops"})
    try:
        oauth = OAuthServer(s)
        oauth.create_user(user_id="opal", roles="staff ops")  # opal@example.com
        client = make_client(oauth, "trusted", authenticateClass="up-link")
        upstream.reset(claims={"sub": "u-7007", "email": "opal@example.com",
                               "email_verified": True})
        b = requests.Session()
        r = callback(b, begin(oauth, b, client[0]))
        assert r.status_code == 400 and "second factor are never linked" in r.text, r.text
        assert not sso_cookie_set(r)
        # Without the role the same identity links and signs in.
        r = oauth.admin("PUT", "/oauth2/user", json={"userId": "opal", "roles": "staff"})
        assert r.status_code in (200, 204), r.text
        b2 = requests.Session()
        assert token(oauth, client, code_of(callback(b2, begin(oauth, b2, client[0]))))[
            "user_id"] == "opal"
    finally:
        log = s.read_log()
        assert s.stop() == 0, log


def test_starts_are_rate_limited_per_address_and_renew_the_binding_cookie(oauth, upstream):
    """The start link's CSRF token is reusable for its lifetime and each start stores a pending
    flow: one address gets a burst of starts (30), then 429 with Retry-After and nothing stored;
    every start sets the binding cookie again (a fresh Max-Age), with the same value."""
    client = make_client(oauth, "trusted", authenticateClass="up")
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                 timeout=10)
    href, _ = sign_in_link(page)
    url = urllib.parse.urljoin(page.url, href)
    first = s.get(url, headers=BROWSER, allow_redirects=False, timeout=10)
    assert first.status_code == 303, first.text
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("portcullis_upstream=") and "Max-Age=600" in cookie, cookie
    again = s.get(url, headers=BROWSER, allow_redirects=False, timeout=10)
    assert again.status_code == 303
    renewed = again.headers.get("Set-Cookie", "")
    assert renewed.split(";")[0] == cookie.split(";")[0] and "Max-Age=600" in renewed, renewed
    statuses = [s.get(url, headers=BROWSER, allow_redirects=False, timeout=10)
                for _ in range(40)]
    allowed = [r for r in statuses if r.status_code == 303]
    refused = [r for r in statuses if r.status_code == 429]
    assert len(allowed) == 28 and len(refused) == 12, [r.status_code for r in statuses]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    # A refused start stored no flow: its answer names no upstream URL.
    assert all("Location" not in r.headers for r in refused)


def test_max_age_and_prompt_login_hold_at_the_upstream(oauth, upstream):
    """max_age goes on to the provider; when the client asked for max_age or prompt=login the
    provider's auth_time must be there and recent enough, else no session and no code."""
    import time as _time
    client = make_client(oauth, "trusted", authenticateClass="up")
    now = int(_time.time())
    # An old sign-in at the provider: refused for max_age=60.
    upstream.reset(claims={"sub": "u-7007", "auth_time": now - 3600})
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/code", params=code_params(client[0], max_age="60"),
                 headers=BROWSER, allow_redirects=False, timeout=10)
    href, _ = sign_in_link(page)
    go = s.get(urllib.parse.urljoin(page.url, href), headers=BROWSER, allow_redirects=False,
               timeout=10)
    assert go.status_code == 303 and query_of(go.headers["Location"])[1]["max_age"] == "60"
    back = s.get(go.headers["Location"], allow_redirects=False, timeout=10)
    r = callback(s, back)
    assert r.status_code == 400 and "older than allowed" in r.text, r.text
    assert not sso_cookie_set(r)
    # No auth_time at all: refused too.
    upstream.reset(claims={"sub": "u-7007"})
    s = requests.Session()
    r = callback(s, begin(oauth, s, client[0], max_age="60"))
    assert r.status_code == 400 and "did not say when" in r.text and not sso_cookie_set(r)
    # prompt=login with an auth_time from before the flow: refused.
    upstream.reset(claims={"sub": "u-7007", "auth_time": now - 600})
    s = requests.Session()
    r = callback(s, begin(oauth, s, client[0], prompt="login"))
    assert r.status_code == 400 and "sign in again" in r.text and not sso_cookie_set(r)
    # A fresh one: accepted. Without max_age or prompt=login, no auth_time is needed.
    upstream.reset(claims={"sub": "u-7007", "auth_time": int(_time.time())})
    s = requests.Session()
    assert token(oauth, client, code_of(callback(s, begin(oauth, s, client[0], max_age="60"))))
    upstream.reset(claims={"sub": "u-7007"})
    s = requests.Session()
    assert token(oauth, client, code_of(callback(s, begin(oauth, s, client[0]))))


def test_a_discovery_failure_is_cached_with_back_off(oauth, upstream):
    """A provider whose discovery fails is not fetched again by every start: the failure is
    answered from the cache for a back-off (2 s, doubling to 60 s); then it recovers."""
    upstream.reset(discovery_down=True)
    client = make_client(oauth, "trusted", authenticateClass="up")
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/code", params=code_params(client[0]), headers=BROWSER,
                 timeout=10)
    href, _ = sign_in_link(page)
    url = urllib.parse.urljoin(page.url, href)
    r = s.get(url, headers=BROWSER, allow_redirects=False, timeout=10)
    assert r.status_code == 502, r.text
    fetched = upstream.discovery_fetches
    for _ in range(5):
        assert s.get(url, headers=BROWSER, allow_redirects=False, timeout=10).status_code == 502
    assert upstream.discovery_fetches <= fetched + 1, (fetched, upstream.discovery_fetches)
    upstream.reset()
    # Polled slowly: each start also spends the address's start budget.
    assert poll(lambda: s.get(url, headers=BROWSER, allow_redirects=False,
                              timeout=10).status_code == 303, "recovery", deadline_s=15,
                interval_s=0.5)


def test_over_https_the_binding_cookie_is_a_host_cookie(upstream, tmp_path):
    """Served as https (the issuer), the binding cookie is __Host-portcullis_upstream: Secure,
    Path=/, no Domain; it is read back under that name and renewed with its value. (Cookies are
    carried by hand: the test talks plain http to a server that believes it is https.)"""
    upstream.reset()
    s = Portcullis(args=["--config", config(upstream, str(tmp_path))],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_SERVER_ISSUER": "https://auth.example.test",
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET":
                            upstream.client_secret})
    try:
        oauth = OAuthServer(s)
        client = make_client(oauth, "trusted", authenticateClass="up")
        page = requests.get(oauth.url + "/oauth2/code", params=code_params(client[0]),
                            headers=BROWSER, allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.text
        jar = {}
        for c in page.raw.headers.getlist("Set-Cookie"):
            name, value = c.split(";")[0].split("=", 1)
            jar[name] = value
        href, _ = sign_in_link(page)
        url = urllib.parse.urljoin(page.url, href)

        def start():
            h = dict(BROWSER)
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
            return requests.get(url, headers=h, allow_redirects=False, timeout=10)
        first = start()
        assert first.status_code == 303, first.text
        cookie = first.headers["Set-Cookie"]
        assert cookie.startswith("__Host-portcullis_upstream="), cookie
        attrs = [a.strip() for a in cookie.split(";")[1:]]
        assert "Secure" in attrs and "Path=/" in attrs, cookie
        assert not any(a.lower().startswith("domain") for a in attrs), cookie
        name, value = cookie.split(";")[0].split("=", 1)
        jar[name] = value
        again = start()
        assert again.status_code == 303, again.text
        assert again.headers["Set-Cookie"].split(";")[0] == f"{name}={value}"
    finally:
        assert s.stop() == 0, s.read_log()


def test_the_session_and_id_token_carry_the_upstream_auth_time(oauth, upstream):
    import time as _time
    client = make_client(oauth, "trusted", scope="openid", authenticateClass="up")
    when = int(_time.time()) - 20
    upstream.reset(claims={"sub": "u-8008", "auth_time": when})
    s = requests.Session()
    done = callback(s, begin(oauth, s, client[0], scope="openid", max_age="60", nonce="n-8"))
    t = redeem(oauth, code_of(done), client)
    assert t.status_code == 200, t.text
    assert claims(t.json()["id_token"])["auth_time"] == when


def test_open_flows_per_browser_are_capped_dropping_the_oldest(oauth, upstream):
    """One binding cookie holds at most code.upstream_flows_per_browser (10) open flows: the
    11th start drops the browser's oldest, whose callback is then refused as unknown; the
    others, the newest included, still work, and another browser's flow is untouched."""
    client = make_client(oauth, "trusted", authenticateClass="up")
    other = requests.Session()
    other_back = begin(oauth, other, client[0])
    s = requests.Session()
    backs = [begin(oauth, s, client[0]) for _ in range(11)]
    r = callback(s, backs[0])
    assert r.status_code == 400 and "unknown, expired or was already used" in r.text, r.text
    assert not sso_cookie_set(r)
    assert code_of(callback(s, backs[-1]))  # the newest
    assert code_of(callback(s, backs[1]))   # the oldest kept: exactly 10 were kept
    assert code_of(callback(other, other_back))


def test_open_flows_per_browser_follows_the_setting(upstream, tmp_path):
    s = Portcullis(args=["--config", config(upstream, str(tmp_path)),
                         "--set", "code.upstream_flows_per_browser=2"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_UP_CLIENT_SECRET": upstream.client_secret,
                        "PORTCULLIS_AUTHENTICATORS_UP_LINK_CLIENT_SECRET": upstream.client_secret})
    try:
        oauth = OAuthServer(s)
        upstream.reset()
        client = make_client(oauth, "trusted", authenticateClass="up")
        b = requests.Session()
        backs = [begin(oauth, b, client[0]) for _ in range(3)]
        r = callback(b, backs[0])
        assert r.status_code == 400 and "unknown, expired or was already used" in r.text
        assert code_of(callback(b, backs[1]))
        assert code_of(callback(b, backs[2]))
    finally:
        s.stop()
