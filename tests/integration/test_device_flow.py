"""The device authorization grant (RFC 8628) over HTTP: the device authorization endpoint, the
verification page with its sign-in, consent and guessing throttle, and polling at the token
endpoint (authorization_pending, slow_down, access_denied, expired_token, one redemption), on
SQLite and across two instances on one PostgreSQL."""
import base64
import concurrent.futures
import json
import urllib.parse

import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, USER, make_client, make_user, page_form,
                          record_consent, submit)
from conftest import Portcullis, new_pg_database, poll
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
       "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def start(*settings, store=None, services=None):
    args = []
    for s in settings:
        args += ["--set", s]
    if services:
        args += ["--services", services]
    return Portcullis(args=args, env=ENV, store=store)


@pytest.fixture(scope="module")
def srv():
    # Two polls in a row are always sooner than 5 s apart: slow_down without waiting.
    s = start("device.interval_s=5", "device.max_ip_failures=4")
    o = OAuthServer(s)
    make_user(o)
    yield o
    assert s.stop() == 0, s.read_log()


def device_client(o, client_type="confidential", grants=(DEVICE_GRANT, "refresh_token"),
                  name="Living-room TV"):
    return make_client(o, client_type, grantTypes=list(grants), clientName=name)


def device_authorization(o, client, **data):
    client_id, secret = client
    headers = {}
    if secret:
        headers["Authorization"] = basic(client_id, secret)
    else:
        data["client_id"] = client_id
    return requests.post(o.url + "/oauth2/device_authorization", data=data, headers=headers,
                         timeout=10)


def start_device(o, client, **data):
    r = device_authorization(o, client, **data)
    assert r.status_code == 200, r.text
    return r.json()


def poll_token(o, client, device_code):
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code}
    client_id, secret = client
    if secret:
        return o.token(data, client=client)
    data["client_id"] = client_id
    return o.token(data)


def error_of(r):
    assert r.status_code == 400, (r.status_code, r.text)
    return r.json()["error"]


def verify(o, user_code, decision="allow", session=None, user=USER, password=PASSWORD,
           url=None):
    """The user's side in a browser: the verification page (prefilled from
    verification_uri_complete), sign-in, consent. Returns (session, final page)."""
    s = session or requests.Session()
    base = url or o.url
    page = s.get(base + "/oauth2/device", params={"user_code": user_code}, headers=BROWSER,
                 timeout=10)
    assert page.status_code == 200, page.text
    assert page_form(page)["fields"]["user_code"] == user_code
    nxt = submit(s, page)
    if "j_password" in nxt.text:
        assert nxt.status_code == 200, nxt.text
        nxt = submit(s, nxt, {"j_username": user, "j_password": password})
    assert nxt.status_code == 200, nxt.text
    assert "Allow" in nxt.text, nxt.text
    done = submit(s, nxt, button=("decision", decision))
    return s, done


def test_discovery_lists_the_endpoint_and_the_grant(srv):
    d = requests.get(srv.url + "/.well-known/openid-configuration", timeout=10).json()
    assert d["device_authorization_endpoint"] == srv.url + "/oauth2/device_authorization"
    assert DEVICE_GRANT in d["grant_types_supported"]


def test_the_whole_flow_with_the_verification_form(srv):
    client = device_client(srv)
    d = start_device(srv, client, scope="petstore.r")
    assert set(d) >= {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                      "expires_in", "interval"}
    assert len(d["device_code"]) == 43
    assert len(d["user_code"]) == 9 and d["user_code"][4] == "-"
    assert d["verification_uri"] == srv.url + "/oauth2/device"
    assert d["verification_uri_complete"] == d["verification_uri"] + "?user_code=" + d["user_code"]
    assert d["expires_in"] == 600 and d["interval"] == 5
    r = requests.post(srv.url + "/oauth2/device_authorization", data={"scope": "petstore.r"},
                      headers={"Authorization": basic(*client)}, timeout=10)
    assert r.headers["Cache-Control"] == "no-store"

    assert error_of(poll_token(srv, client, d["device_code"])) == "authorization_pending"

    # The page from verification_uri_complete only fills the field; sign-in, then consent that
    # shows the client, the code and the scope.
    s = requests.Session()
    page = s.get(d["verification_uri_complete"], headers=BROWSER, timeout=10)
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers and page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert page_form(page)["fields"]["user_code"] == d["user_code"]
    login = submit(s, page, {"user_code": d["user_code"].lower().replace("-", " ")})
    assert login.status_code == 200 and "j_password" in login.text, login.text
    consent = submit(s, login, {"j_username": USER, "j_password": PASSWORD})
    assert consent.status_code == 200, consent.text
    assert "Living-room TV" in consent.text and d["user_code"] in consent.text
    assert "petstore.r" in consent.text and "petstore.w" not in consent.text
    assert "portcullis_sso=" in consent.headers.get("Set-Cookie", "")
    done = submit(s, consent, button=("decision", "allow"))
    assert done.status_code == 200 and "Device connected" in done.text, done.text

    t = poll_token(srv, client, d["device_code"])
    assert t.status_code == 200, t.text
    body = t.json()
    assert body["scope"] == "petstore.r" and body["refresh_token"]
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["sub"] == USER and claims["client_id"] == client[0]
    # The refresh token works like the code flow's.
    r = srv.token({"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                  client=client)
    assert r.status_code == 200, r.text

    # One redemption.
    again = poll_token(srv, client, d["device_code"])
    assert error_of(again) == "invalid_grant"

    # Signed in already: the next device goes straight to consent.
    d2 = start_device(srv, client)
    _, done2 = verify(srv, d2["user_code"], session=s)
    assert "Device connected" in done2.text
    assert poll_token(srv, client, d2["device_code"]).status_code == 200


def test_opening_the_link_approves_nothing_even_when_signed_in(srv):
    """RFC 8628 §5.4: verification_uri_complete only fills the field; a signed-in user who
    follows a link someone sent still has to submit the code and then allow."""
    client = device_client(srv)
    first = start_device(srv, client)
    s, _ = verify(srv, first["user_code"])  # signed in now
    d = start_device(srv, client)
    page = s.get(d["verification_uri_complete"], headers=BROWSER, timeout=10)
    assert page.status_code == 200 and "Check that this code" in page.text
    assert error_of(poll_token(srv, client, d["device_code"])) == "authorization_pending"
    consent = submit(s, page)
    assert consent.status_code == 200 and "Allow" in consent.text
    assert d["user_code"] in consent.text
    assert error_of(poll_token(srv, client, d["device_code"])) == "slow_down"  # still no tokens


def test_polling_faster_than_the_interval_gets_slow_down(srv):
    client = device_client(srv)
    d = start_device(srv, client)
    assert error_of(poll_token(srv, client, d["device_code"])) == "authorization_pending"
    r = poll_token(srv, client, d["device_code"])  # at once: sooner than 5 s
    assert error_of(r) == "slow_down", r.text
    # The interval is now 10 s for this grant: the next immediate poll is slow_down again.
    assert error_of(poll_token(srv, client, d["device_code"])) == "slow_down"


def test_deny_gives_access_denied(srv):
    client = device_client(srv)
    d = start_device(srv, client)
    _, done = verify(srv, d["user_code"], decision="deny")
    assert done.status_code == 200 and "denied" in done.text
    assert error_of(poll_token(srv, client, d["device_code"])) == "access_denied"
    # A decided code cannot be approved afterwards.
    s = requests.Session()
    page = s.get(srv.url + "/oauth2/device", headers=BROWSER, timeout=10)
    r = submit(s, page, {"user_code": d["user_code"]})
    assert r.status_code == 400 and "not valid" in r.text


def test_a_device_code_is_bound_to_its_client(srv):
    mine, other = device_client(srv), device_client(srv)
    d = start_device(srv, mine)
    verify(srv, d["user_code"])
    assert error_of(poll_token(srv, other, d["device_code"])) == "invalid_grant"
    assert poll_token(srv, mine, d["device_code"]).status_code == 200


def test_a_public_client_uses_its_client_id(srv):
    public = device_client(srv, "public")
    assert public[1] is None
    d = start_device(srv, public)
    verify(srv, d["user_code"])
    t = poll_token(srv, public, d["device_code"])
    assert t.status_code == 200, t.text


def test_unknown_clients_and_clients_without_the_grant_are_refused(srv):
    r = device_authorization(srv, ("no-such-client", "secret"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in r.headers
    client = device_client(srv)
    r = device_authorization(srv, (client[0], "wrong-secret"))
    assert r.status_code == 401
    r = requests.post(srv.url + "/oauth2/device_authorization", data={"client_id": client[0]},
                      timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    web = make_client(srv, grantTypes=["authorization_code", "refresh_token"])
    r = device_authorization(srv, web)
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client", r.text
    # Nor can such a client poll.
    r = poll_token(srv, web, "anything")
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client", r.text
    r = device_authorization(srv, client, scope="petstore.r admin")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = requests.post(srv.url + "/oauth2/device_authorization", data="{}",
                      headers={"Content-Type": "application/json",
                               "Authorization": basic(*client)}, timeout=10)
    assert r.status_code == 400


def test_forms_without_their_csrf_token_are_refused(srv):
    client = device_client(srv)
    d = start_device(srv, client)
    s = requests.Session()
    page = s.get(srv.url + "/oauth2/device", headers=BROWSER, timeout=10)
    r = submit(s, page, {"user_code": d["user_code"]}, drop=("csrf",))
    assert r.status_code == 403
    # A token for another browser (no login cookie) is worthless too.
    r = requests.post(srv.url + "/oauth2/device",
                      data={"step": "code", "user_code": d["user_code"],
                            "csrf": page_form(page)["fields"]["csrf"]}, headers=BROWSER,
                      timeout=10)
    assert r.status_code == 403
    # The decision needs the session's token.
    s2, consent = requests.Session(), None
    page = s2.get(srv.url + "/oauth2/device", params={"user_code": d["user_code"]},
                  headers=BROWSER, timeout=10)
    login = submit(s2, page)
    consent = submit(s2, login, {"j_username": USER, "j_password": PASSWORD})
    assert consent.status_code == 200
    r = submit(s2, consent, {"csrf": "1.forged"}, button=("decision", "allow"))
    assert r.status_code == 403
    assert error_of(poll_token(srv, client, d["device_code"])) == "authorization_pending"


def test_user_codes_guessed_too_often_get_429():
    s = start("device.max_ip_failures=3")
    try:
        o = OAuthServer(s)
        make_user(o)
        client = device_client(o)
        d = start_device(o, client)
        sess = requests.Session()
        page = sess.get(o.url + "/oauth2/device", headers=BROWSER, timeout=10)
        real = d["user_code"]
        wrong = "BBBB-BBBB" if real != "BBBB-BBBB" else "CCCC-CCCC"
        for _ in range(3):
            r = submit(sess, page, {"user_code": wrong})
            assert r.status_code == 400 and "not valid" in r.text, r.text
        # Out of guesses: 429 with Retry-After, even for the right code, which reveals nothing.
        r = submit(sess, page, {"user_code": real})
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) >= 1
        assert "Too many" in r.text
        assert r.headers["X-Frame-Options"] == "DENY"
        # The user's real code still works from another address? All tests share 127.0.0.1, so
        # instead check the device is unaffected: it is still pending.
        assert error_of(poll_token(o, client, d["device_code"])) == "authorization_pending"
    finally:
        s.stop()


def test_expired_codes_get_expired_token_and_are_refused_on_the_page():
    s = start("device.code_ttl_s=2", "device.interval_s=1")
    try:
        o = OAuthServer(s)
        make_user(o)
        client = device_client(o)
        d = start_device(o, client)
        assert d["expires_in"] == 2
        poll(lambda: poll_token(o, client, d["device_code"]).json().get("error") ==
             "expired_token", "expired_token", deadline_s=15, interval_s=0.5)
        sess = requests.Session()
        page = sess.get(o.url + "/oauth2/device", headers=BROWSER, timeout=10)
        r = submit(sess, page, {"user_code": d["user_code"]})
        assert r.status_code == 400 and "not valid" in r.text
    finally:
        s.stop()


def test_a_locked_user_gets_no_tokens(srv):
    make_user(srv, user_id="bob", password=PASSWORD)
    client = device_client(srv)
    d = start_device(srv, client)
    verify(srv, d["user_code"], user="bob")
    r = srv.admin("PUT", "/oauth2/user", json={"userId": "bob", "locked": True})
    assert r.status_code == 200, r.text
    # The lock expires what bob approved and the device has not redeemed (GrantRevocation).
    assert error_of(poll_token(srv, client, d["device_code"])) == "expired_token"


def test_a_password_reset_expires_approved_unredeemed_grants(srv):
    make_user(srv, user_id="carol", password=PASSWORD)
    make_user(srv, user_id="dan", password=PASSWORD)
    client = device_client(srv)
    carols, dans = start_device(srv, client), start_device(srv, client)
    verify(srv, carols["user_code"], user="carol")
    verify(srv, dans["user_code"], user="dan")
    r = srv.admin("POST", "/oauth2/user/carol/password", json={"password": "temporary-pass-1"})
    assert r.status_code == 200, r.text
    assert error_of(poll_token(srv, client, carols["device_code"])) == "expired_token"
    # Another user's approval is untouched.
    r = poll_token(srv, client, dans["device_code"])
    assert r.status_code == 200, r.text


def test_a_revoked_consent_expires_approved_unredeemed_grants_at_that_client(srv):
    make_user(srv, user_id="erin", password=PASSWORD)
    grants = (DEVICE_GRANT, "authorization_code", "refresh_token")
    client, other = device_client(srv, grants=grants), device_client(srv, grants=grants)
    # Erin's consent at the client, given on the authorization endpoint's page.
    record_consent(srv, client[0], user="erin", password=PASSWORD)
    d, kept = start_device(srv, client), start_device(srv, other)
    verify(srv, d["user_code"], user="erin")
    verify(srv, kept["user_code"], user="erin")
    r = srv.admin("DELETE", f"/oauth2/user/erin/consents/{client[0]}")
    assert r.status_code == 200, r.text
    assert error_of(poll_token(srv, client, d["device_code"])) == "expired_token"
    r = poll_token(srv, other, kept["device_code"])
    assert r.status_code == 200, r.text


def test_approve_on_one_instance_and_redeem_on_the_other_over_postgresql():
    store = new_pg_database()
    a = start(store=store)
    b = None
    try:
        oa = OAuthServer(a)
        make_user(oa)
        client = device_client(oa)
        b = start(store=store, services="token,code")
        ob = OAuthServer(b)
        d = start_device(oa, client)
        # The device polls instance b while the user approves on a.
        poll(lambda: poll_token(ob, client, d["device_code"]).json().get("error") ==
             "authorization_pending", "the client on instance b")
        _, done = verify(oa, d["user_code"])
        assert "Device connected" in done.text
        t = poll_token(ob, client, d["device_code"])
        assert t.status_code == 200, t.text
        # Consumed for every instance.
        assert error_of(poll_token(oa, client, d["device_code"])) == "invalid_grant"
        # And the other way round, with a user code entered on b.
        d2 = start_device(ob, client)
        verify(ob, d2["user_code"])
        assert poll_token(oa, client, d2["device_code"]).status_code == 200
        # Concurrent redemptions on both instances: exactly one gets tokens.
        d3 = start_device(oa, client)
        verify(ob, d3["user_code"])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda i: poll_token((oa, ob)[i % 2], client,
                                                       d3["device_code"]).status_code, range(8)))
        assert sorted(codes) == [200] + [400] * 7, codes
    finally:
        if b:
            b.stop()
        a.stop()


def test_openid_gets_an_id_token_bound_to_the_sign_in(srv):
    """OpenID Connect over the device grant: an ID token for the user who approved, with the
    sign-in's auth_time and sid, bound to the access token (at_hash), and no nonce (the device
    request carries none); a refresh gives a new one with the same sign-in."""
    client_id, secret = make_client(srv, "confidential", scope="openid petstore.r",
                                    grantTypes=[DEVICE_GRANT, "refresh_token"])
    client = (client_id, secret)
    d = start_device(srv, client, scope="openid petstore.r")
    verify(srv, d["user_code"])
    t = poll_token(srv, client, d["device_code"])
    assert t.status_code == 200, t.text
    body = t.json()
    claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
    assert claims["sub"] == USER and claims["aud"] == client_id
    assert claims["iss"] == srv.url and claims["auth_time"] > 0 and claims["sid"]
    assert "nonce" not in claims and claims["at_hash"]
    r = srv.token({"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                  client=client)
    assert r.status_code == 200, r.text
    again = json.loads(base64.urlsafe_b64decode(r.json()["id_token"].split(".")[1] + "=="))
    assert (again["sub"], again["auth_time"], again["sid"]) == \
        (claims["sub"], claims["auth_time"], claims["sid"])

    # Without openid: no ID token.
    d = start_device(srv, client, scope="petstore.r")
    verify(srv, d["user_code"])
    t = poll_token(srv, client, d["device_code"])
    assert t.status_code == 200 and "id_token" not in t.json(), t.text
