"""Rights, once cut, stay cut; a revoked token stays revoked; HTTP Basic sign-in needs consent.

Each test is named after a hole found in commit 2f08f83:
  * a refresh returned scopes cut from the client since, and roles cut from the user since;
  * a password change or reset, a locked account and a revoked consent left refresh tokens and
    SSO sessions working;
  * the deny-list and the client-assertion jti cache dropped entries at `exp`, while tokens and
    assertions are accepted until `exp` plus the leeway;
  * GET /oauth2/code with HTTP Basic user credentials issued a code to any client, which any web
    page can trigger in a browser that holds cached Basic credentials.

No test sleeps a fixed time: short-lived tokens are waited out by polling their `exp`, and the
housekeeping purge (store.purge_interval_s=1 here) is observed through sentinel rows that it
must delete.
"""
import base64
import json
import sqlite3
import subprocess
import time
import uuid

import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, browser_login,
                          code_params, make_client, make_user, query_of, record_consent, redeem,
                          submit)
from conftest import BIN, Portcullis
from oauth_fixtures import ADMIN_SCOPES, BOOT_ID, BOOT_SECRET, OAuthServer, basic

BOOT_ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
            "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def wait_until(fn, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    return None


def start(**env):
    s = Portcullis(env={**BOOT_ENV, **env})
    return OAuthServer(s)


@pytest.fixture
def oauth():
    o = start()
    yield o
    assert o.s.stop() == 0, o.s.read_log()


@pytest.fixture
def purging():
    """A server whose housekeeping purge runs every second (at most every tick)."""
    o = start(PORTCULLIS_STORE_PURGE_INTERVAL_S="1")
    yield o
    assert o.s.stop() == 0, o.s.read_log()


def db(oauth):
    conn = sqlite3.connect(oauth.s.tmp + "/portcullis.db", timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def cli(oauth, *args, stdin=None):
    """The registry CLI on the server's store, while the server runs."""
    return subprocess.run([BIN, *args, "--store", "sqlite:" + oauth.s.tmp + "/portcullis.db"],
                          input=stdin, capture_output=True, text=True,
                          env={"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64}, timeout=60)


def password_grant(oauth, client, scope=None, user=USER, password=PASSWORD):
    data = {"grant_type": "password", "username": user, "password": password}
    if scope:
        data["scope"] = scope
    return oauth.token(data, client=client)


def refresh(oauth, client, rt, **extra):
    return oauth.token({"grant_type": "refresh_token", "refresh_token": rt, **extra}, client=client)


def sso_still_signs_in(oauth, session, client_id):
    """True when the browser's SSO session still gets a code without a sign-in page."""
    r = authorize(oauth, code_params(client_id), headers=BROWSER, session=session)
    if r.status_code == 302 and "code=" in r.headers.get("Location", ""):
        return True
    assert r.status_code == 200 and 'name="j_username"' in r.text, (r.status_code, r.text)
    return False


def signed_in_browser(oauth, client_id):
    """A browser session signed in to a trusted client (no consent page)."""
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client_id))
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
    assert sso_still_signs_in(oauth, s, client_id)
    return s


def wait_for_catalog(oauth, client, scope, allowed):
    """Client changes reach the token endpoint's catalog within a second or so."""
    def seen():
        r = oauth.token({"grant_type": "client_credentials", "scope": scope}, client=client)
        return (r.status_code == 200) == allowed
    assert wait_until(seen), f"scope {scope} never became {'allowed' if allowed else 'refused'}"


# ---- Rights, once cut, stay cut

def test_refresh_after_client_scope_cut_does_not_return_cut_scope(oauth):
    client = oauth.create_client("trusted", scope="a.r a.w")
    make_user(oauth)
    t = password_grant(oauth, client, "a.r a.w")
    assert t.status_code == 200, t.text
    assert t.json()["scope"] == "a.r a.w"

    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": client[0], "scope": "a.r"})
    assert r.status_code == 200, r.text
    wait_for_catalog(oauth, client, "a.w", allowed=False)

    # Asking for the cut scope by name is refused and burns nothing; asking for nothing gets
    # only what is left.
    assert refresh(oauth, client, t.json()["refresh_token"], scope="a.w").status_code == 400
    r = refresh(oauth, client, t.json()["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "a.r"
    assert "a.w" not in claims(r.json()["access_token"])["scope"]

    # Giving the scope back to the client does not give it back to the old grant.
    r2 = oauth.admin("PUT", "/oauth2/client", json={"clientId": client[0], "scope": "a.r a.w"})
    assert r2.status_code == 200, r2.text
    wait_for_catalog(oauth, client, "a.w", allowed=True)
    r = refresh(oauth, client, r.json()["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "a.r"


def test_refresh_rereads_roles(oauth):
    client = oauth.create_client("trusted", scope="a.r")
    make_user(oauth, roles="admin user")
    t = password_grant(oauth, client)
    assert t.status_code == 200, t.text
    assert claims(t.json()["access_token"])["roles"] == "admin user"

    r = oauth.admin("PUT", "/oauth2/user",
                    json={"userId": USER, "roles": "user", "userType": "customer"})
    assert r.status_code == 200, r.text
    r = refresh(oauth, client, t.json()["refresh_token"])
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["roles"] == "user" and c["user_type"] == "customer"


def test_refresh_of_a_client_asserted_user_keeps_the_asserted_roles(oauth):
    # client_authenticated_user: the trusted client vouches for a user the store does not have;
    # a refresh must not fail for want of a store row, nor take roles from anywhere else.
    client = oauth.create_client("trusted", scope="a.r")
    t = oauth.token({"grant_type": "client_authenticated_user", "userId": "ext-1",
                     "userType": "partner", "roles": "buyer"}, client=client)
    assert t.status_code == 200, t.text
    r = refresh(oauth, client, t.json()["refresh_token"])
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["roles"] == "buyer"


def test_password_change_revokes_refresh_and_sso(oauth):
    client = oauth.create_client("trusted", scope="a.r", redirectUris=[REDIRECT],
                                 clientProfile="webserver")
    make_user(oauth)
    browser = signed_in_browser(oauth, client[0])
    rt = password_grant(oauth, client).json()["refresh_token"]

    new = "a brand new passphrase"
    r = oauth.admin("POST", f"/oauth2/password/{USER}",
                    json={"password": PASSWORD, "newPassword": new, "newPasswordConfirm": new})
    assert r.status_code == 200, r.text

    r = refresh(oauth, client, rt)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert not sso_still_signs_in(oauth, browser, client[0])
    # The new password works, and its grants do.
    t = password_grant(oauth, client, password=new)
    assert t.status_code == 200, t.text
    assert refresh(oauth, client, t.json()["refresh_token"]).status_code == 200


def test_password_reset_by_cli_revokes_refresh_and_sso(oauth):
    client = oauth.create_client("trusted", scope="a.r", redirectUris=[REDIRECT],
                                 clientProfile="webserver")
    make_user(oauth)
    browser = signed_in_browser(oauth, client[0])
    rt = password_grant(oauth, client).json()["refresh_token"]

    # The CLI, on the server's store, while it runs.
    r = cli(oauth, "user", "set-password", USER, stdin="another new passphrase\n")
    assert r.returncode == 0, r.stderr

    r = refresh(oauth, client, rt)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert not sso_still_signs_in(oauth, browser, client[0])


def test_consent_revocation_revokes_refresh_tokens(oauth):
    client = make_client(oauth, "confidential")
    make_user(oauth)
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client[0]))
    done = submit(s, page, button=("decision", "allow"))
    assert done.status_code == 303, done.text
    t = redeem(oauth, query_of(done.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    # An unredeemed code from before the revocation dies with it too.
    pending = authorize(oauth, code_params(client[0], state="p"), headers=BROWSER, session=s)
    pending_code = query_of(pending.headers["Location"])[1]["code"]

    r = s.delete(oauth.url + f"/oauth2/consent/{client[0]}", timeout=10)
    assert r.status_code == 204, r.text

    r = refresh(oauth, client, t.json()["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert redeem(oauth, pending_code, client).status_code == 400
    # And HTTP Basic cannot stand in for the consent that is gone.
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
    assert r.status_code == 302 and query_of(r.headers["Location"])[1]["error"] == \
        "consent_required"


def test_user_lock_revokes_grants_and_refuses_every_sign_in(oauth):
    client = oauth.create_client("trusted", scope="a.r", redirectUris=[REDIRECT],
                                 clientProfile="webserver")
    make_user(oauth)
    browser = signed_in_browser(oauth, client[0])
    rt = password_grant(oauth, client).json()["refresh_token"]

    r = oauth.admin("PUT", "/oauth2/user", json={"userId": USER, "locked": True})
    assert r.status_code == 200, r.text
    assert oauth.admin("GET", f"/oauth2/user/{USER}").json()["locked"] is True

    assert refresh(oauth, client, rt).status_code == 400
    r = password_grant(oauth, client)
    assert r.status_code == 401 and r.json()["code"] == "ERR12016", r.text
    assert not sso_still_signs_in(oauth, browser, client[0])
    r = browser_login(oauth, requests.Session(), code_params(client[0]))
    assert r.status_code == 200 and "incorrect" in r.text
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
    assert r.status_code == 401 and "Location" not in r.headers

    # Unlocking lets the user in again; what was revoked stays revoked.
    r = oauth.admin("PUT", "/oauth2/user", json={"userId": USER, "locked": False})
    assert r.status_code == 200, r.text
    assert password_grant(oauth, client).status_code == 200
    assert refresh(oauth, client, rt).status_code == 400


def test_user_lock_by_cli_revokes_refresh_and_sso(oauth):
    client = oauth.create_client("trusted", scope="a.r", redirectUris=[REDIRECT],
                                 clientProfile="webserver")
    make_user(oauth)
    browser = signed_in_browser(oauth, client[0])
    rt = password_grant(oauth, client).json()["refresh_token"]
    r = cli(oauth, "user", "lock", USER)
    assert r.returncode == 0, r.stderr
    assert refresh(oauth, client, rt).status_code == 400
    assert not sso_still_signs_in(oauth, browser, client[0])
    assert password_grant(oauth, client).status_code == 401
    assert cli(oauth, "user", "unlock", USER).returncode == 0
    assert password_grant(oauth, client).status_code == 200


def test_user_delete_revokes_refresh_and_sso(oauth):
    client = oauth.create_client("trusted", scope="a.r", redirectUris=[REDIRECT],
                                 clientProfile="webserver")
    make_user(oauth)
    browser = signed_in_browser(oauth, client[0])
    rt = password_grant(oauth, client).json()["refresh_token"]
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}").status_code == 200
    assert refresh(oauth, client, rt).status_code in (400, 404)  # revoked or gone (ERR12029)
    assert not sso_still_signs_in(oauth, browser, client[0])
    # Someone who registers the same user id later does not inherit the old grants.
    make_user(oauth)
    assert refresh(oauth, client, rt).status_code in (400, 404)
    assert not sso_still_signs_in(oauth, browser, client[0])


def test_client_delete_revokes_its_refresh_and_reference_tokens(oauth):
    client = oauth.create_client("trusted", scope="a.r")
    # The resource server that derefs the external client's tokens may introspect them.
    rs = oauth.create_client("confidential", scope="a.r")
    external = oauth.create_client("external", scope="a.r", derefClientId=rs[0])
    make_user(oauth)
    rt = password_grant(oauth, client).json()["refresh_token"]
    ref = oauth.token({"grant_type": "client_credentials"}, client=external)
    assert ref.status_code == 200, ref.text
    reference = ref.json()["access_token"]

    def active(token):
        r = requests.post(oauth.url + "/oauth2/introspect", data={"token": token}, auth=rs,
                          timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["active"]

    assert active(reference)
    for c in (client, external):
        assert oauth.admin("DELETE", f"/oauth2/client/{c[0]}").status_code == 200
    assert not active(reference)
    conn = db(oauth)
    try:
        left = conn.execute("SELECT count(*) FROM refresh_tokens WHERE client_id = ?",
                            (client[0],)).fetchone()[0]
    finally:
        conn.close()
    assert left == 0
    assert refresh(oauth, client, rt).status_code in (400, 401, 404)


# ---- A revoked token stays revoked

def wait_for_purge(oauth, table, extra_cols=""):
    """Plants a row far past any retention in `table` and waits until the purge deletes it."""
    sentinel = "sentinel-" + uuid.uuid4().hex
    conn = db(oauth)
    try:
        conn.execute(f"INSERT INTO {table} (jti{extra_cols and ', ' + extra_cols}, expires_at)"
                     f" VALUES (?{', NULL' if extra_cols else ''}, ?)",
                     (sentinel, int(time.time()) - 100000))
        conn.commit()

        def gone():
            return conn.execute(f"SELECT count(*) FROM {table} WHERE jti = ?",
                                (sentinel,)).fetchone()[0] == 0
        assert wait_until(gone, 60), f"the purge never ran on {table}"
    finally:
        conn.close()


def test_revoked_access_token_stays_revoked_within_leeway(purging):
    oauth = purging
    admin = oauth.admin_token()  # before the TTL cut: lives 600 s
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": BOOT_ID, "accessTokenTtl": 1})
    assert r.status_code == 200, r.text
    rs = oauth.create_client("confidential", scope="a.r")
    # A gateway-protected service whose endpoint the admin token's scope opens.
    r = oauth.admin("POST", "/oauth2/service", json={
        "serviceId": "gw", "serviceType": "openapi", "serviceName": "gw", "host": "lightapi.net"})
    assert r.status_code == 200, r.text
    r = oauth.admin("POST", "/oauth2/service/gw/endpoint",
                    json=[{"endpoint": "/v1/x@get", "operation": "getX", "scope": "portal.r"}])
    assert r.status_code == 200, r.text

    def short_admin_token():
        r = oauth.token({"grant_type": "client_credentials", "scope": ADMIN_SCOPES},
                        client=(BOOT_ID, BOOT_SECRET))
        assert r.status_code == 200, r.text
        return r.json()["access_token"] if r.json()["expires_in"] == 1 else None

    token = wait_until(short_admin_token)
    assert token, "the client's TTL never reached the token endpoint"
    exp = claims(token)["exp"]

    def verify():
        return oauth.s.get("/oauth2/verify", headers={
            "Authorization": "Bearer " + token, "X-Service-Id": "gw",
            "X-Original-Method": "GET", "X-Original-URI": "/v1/x"})

    def introspect():
        r = requests.post(oauth.url + "/oauth2/introspect", data={"token": token}, auth=rs,
                          timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["active"]

    def admin_call():
        return requests.get(oauth.url + f"/oauth2/client/{BOOT_ID}",
                            headers={"Authorization": "Bearer " + token}, timeout=10)

    r = requests.post(oauth.url + "/oauth2/revoke", data={"token": token},
                      headers={"Authorization": basic(BOOT_ID, BOOT_SECRET)}, timeout=10)
    assert r.status_code == 200, r.text
    assert verify().status_code == 401

    # Past exp, within the 60 s leeway: the signature and times still verify.
    assert wait_until(lambda: time.time() >= exp + 1, 10)
    assert time.time() < exp + 50, "too slow to test the leeway window"
    # The purge has run since, and the deny-list has been reloaded from the store (a revocation
    # elsewhere notifies; a row planted in the table shows when the reload has happened).
    wait_for_purge(oauth, "revoked_tokens")
    planted = "planted-" + uuid.uuid4().hex
    conn = db(oauth)
    try:
        conn.execute("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                     (planted, int(time.time()) + 3600))
        conn.commit()
    finally:
        conn.close()
    other = oauth.token({"grant_type": "client_credentials"}, client=rs).json()["access_token"]
    assert requests.post(oauth.url + "/oauth2/revoke", data={"token": other}, auth=rs,
                         timeout=10).status_code == 200

    def reloaded():
        r = requests.get(oauth.url + "/oauth2/revoked",
                         headers={"Authorization": "Bearer " + admin}, timeout=10)
        assert r.status_code == 200, r.text
        return planted in [e["jti"] for e in r.json()["revoked"]]
    assert wait_until(reloaded), "the deny-list was never reloaded"
    assert time.time() < exp + 60, "too slow to test the leeway window"

    r = verify()
    assert r.status_code == 401, (r.status_code, r.text)
    assert introspect() is False
    assert admin_call().status_code == 401
    # Resource servers pulling the deny-list still get the entry while their leeway lasts.
    r = requests.get(oauth.url + "/oauth2/revoked", headers={"Authorization": "Bearer " + admin},
                     timeout=10)
    assert claims(token)["jti"] in [e["jti"] for e in r.json()["revoked"]]


def test_private_key_jwt_assertion_not_replayable_after_purge(purging):
    from jwcrypto import jwk, jwt as jwcrypto_jwt
    oauth = purging
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    jwks = json.dumps({"keys": [json.loads(key.export_public())]})
    cid, _ = oauth.create_client("confidential", authMethod="private_key_jwt", jwks=jwks)
    now = int(time.time())
    # Expired five seconds ago: still accepted within the 60 s leeway (RFC 7523 §3).
    t = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": "k1"},
                         claims={"iss": cid, "sub": cid, "aud": oauth.url + "/oauth2/token",
                                 "iat": now - 65, "exp": now - 5, "jti": uuid.uuid4().hex})
    t.make_signed_token(key)
    form = {"grant_type": "client_credentials", "client_id": cid,
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": t.serialize()}
    r = oauth.token(form)
    assert r.status_code == 200, r.text

    wait_for_purge(oauth, "client_assertion_jtis", "client_id")
    assert time.time() < now - 5 + 60, "too slow to test the leeway window"
    r = oauth.token(form)
    assert r.status_code == 401 and r.json()["code"] == "ERR12007", r.text


# ---- Sign-in by HTTP Basic needs consent

def test_basic_signin_needs_consent_for_untrusted_client(oauth):
    client = make_client(oauth, "confidential")
    make_user(oauth)
    r = authorize(oauth, code_params(client[0], state="s-1"), USER, PASSWORD)
    assert r.status_code == 302, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    assert q["error"] == "consent_required" and "code" not in q
    assert q["state"] == "s-1" and q["iss"] == oauth.url

    # With the user's recorded consent, Basic sign-in issues a code as before.
    record_consent(oauth, client[0])
    r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
    q = query_of(r.headers["Location"])[1]
    assert "code" in q and redeem(oauth, q["code"], client).status_code == 200
    # A consent covers its scopes only.
    narrow = make_client(oauth, "confidential")
    record_consent(oauth, narrow[0], scope="petstore.r")
    r = authorize(oauth, code_params(narrow[0], scope="petstore.r petstore.w"), USER, PASSWORD)
    assert query_of(r.headers["Location"])[1]["error"] == "consent_required"

    # Trusted (first-party) clients need no consent.
    trusted = make_client(oauth, "trusted")
    r = authorize(oauth, code_params(trusted[0]), USER, PASSWORD)
    assert "code" in query_of(r.headers["Location"])[1]


def test_basic_auth_implicit_consent_restores_light_oauth2_behaviour():
    oauth = start(PORTCULLIS_CODE_BASIC_AUTH_IMPLICIT_CONSENT="true")
    try:
        client = make_client(oauth, "confidential")
        make_user(oauth)
        r = authorize(oauth, code_params(client[0]), USER, PASSWORD)
        assert r.status_code == 302
        assert "code" in query_of(r.headers["Location"])[1]
    finally:
        assert oauth.s.stop() == 0, oauth.s.read_log()
