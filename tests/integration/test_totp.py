"""The second factor (README "Second factor (TOTP)"): enrolment through the user admin API,
the code page after the password, single-use codes and recovery codes, throttling, the CSRF
binding of the code page, HTTP Basic and the password grant refused for enrolled users, and
clients that require a second factor (enrolment on the way). Codes are computed with pyotp."""
import base64
import json
import time
import uuid

import pyotp
import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, basic_user,
                          browser_login, code_params, make_client, make_user, page_form,
                          query_of, redeem, submit)
from conftest import Portcullis, poll
from qr_helpers import decode_svg_qr
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, oauth  # noqa: F401


def enrol(oauth, user=USER):
    r = oauth.admin("POST", f"/oauth2/user/{user}/totp")
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def enrolled(oauth, user=USER):
    """An active enrolment, confirmed with the current step's code. Returns (totp, body)."""
    body = enrol(oauth, user)
    totp = pyotp.TOTP(body["secret"])
    r = oauth.admin("POST", f"/oauth2/user/{user}/totp/confirm", json={"code": totp.now()})
    assert r.status_code == 204, r.text
    return totp, body


def next_code(totp, steps=1):
    """A code of a later step than any used so far: the ±1 step window accepts the next one,
    so tests need not wait for the clock."""
    return totp.at(time.time() + 30 * steps)


def payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def code_page(oauth, session, client_id, **params):
    r = browser_login(oauth, session, code_params(client_id, **params))
    assert r.status_code == 200, r.text
    assert "Enter your code" in r.text, r.text
    assert not any(c.startswith("portcullis_sso=")
                   for c in r.raw.headers.getlist("Set-Cookie"))  # no session yet
    return r


def test_admin_api_enrol_confirm_status_disable(oauth):
    make_user(oauth)
    st = oauth.admin("GET", f"/oauth2/user/{USER}/totp")
    assert st.status_code == 200 and st.json() == {"userId": USER, "state": "none",
                                                  "recoveryCodesLeft": 0}
    body = enrol(oauth)
    assert len(base64.b32decode(body["secret"])) == 20
    assert body["otpauthUri"].startswith("otpauth://totp/Portcullis:alice?secret=" + body["secret"])
    assert len(body["recoveryCodes"]) == 10 and len(set(body["recoveryCodes"])) == 10
    assert decode_svg_qr(body["qrSvg"]) == body["otpauthUri"]
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "pending"
    totp = pyotp.TOTP(body["secret"])
    wrong = "000000" if totp.now() != "000000" else "111111"
    r = oauth.admin("POST", f"/oauth2/user/{USER}/totp/confirm", json={"code": wrong})
    assert r.status_code == 400 and r.json()["error"] == "invalid_code"
    r = oauth.admin("POST", f"/oauth2/user/{USER}/totp/confirm", json={})
    assert r.status_code == 400
    r = oauth.admin("POST", f"/oauth2/user/{USER}/totp/confirm", json={"code": totp.now()})
    assert r.status_code == 204, r.text
    st = oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()
    assert st["state"] == "active" and st["recoveryCodesLeft"] == 10
    # Active: a new enrolment must wait for a disable.
    r = oauth.admin("POST", f"/oauth2/user/{USER}/totp")
    assert r.status_code == 409 and r.json()["error"] == "already_enrolled"
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}/totp").status_code == 204
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}/totp").status_code == 404
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "none"
    # Unknown users, and callers without an admin token.
    assert oauth.admin("POST", "/oauth2/user/nobody/totp").status_code == 404
    assert oauth.admin("GET", "/oauth2/user/nobody/totp").status_code == 404
    r = requests.post(oauth.url + f"/oauth2/user/{USER}/totp", timeout=10)
    assert r.status_code == 401


def test_sign_in_needs_the_code_and_amr_records_otp(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    totp, _ = enrolled(oauth)
    s = requests.Session()
    page = code_page(oauth, s, client[0], scope="openid petstore.r", nonce="n-1")
    wrong = "123456" if next_code(totp) != "123456" else "654321"
    r = submit(s, page, {"otp_code": wrong})
    assert r.status_code == 200 and "The code is not valid." in r.text
    r = submit(s, r, {"otp_code": next_code(totp)})
    assert r.status_code == 303, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT and q["state"] == "st-1"
    t = redeem(oauth, q["code"], client)
    assert t.status_code == 200, t.text
    assert payload(t.json()["id_token"])["amr"] == ["pwd", "otp"]
    # The session remembers the second factor: single sign-on without another code.
    again = authorize(oauth, code_params(client[0], scope="openid", state="st-2"),
                      headers=BROWSER, session=s)
    assert again.status_code == 302, again.text
    _, q = query_of(again.headers["Location"])
    t = redeem(oauth, q["code"], client)
    assert payload(t.json()["id_token"])["amr"] == ["pwd", "otp"]


def test_a_code_is_single_use_across_browsers(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    totp, _ = enrolled(oauth)
    code = next_code(totp)
    s1 = requests.Session()
    r = submit(s1, code_page(oauth, s1, client[0]), {"otp_code": code})
    assert r.status_code == 303 and "code=" in r.headers["Location"]
    s2 = requests.Session()
    r = submit(s2, code_page(oauth, s2, client[0]), {"otp_code": code})
    assert r.status_code == 200 and "The code is not valid." in r.text
    # An older step than the last used one is refused too.
    r = submit(s2, r, {"otp_code": totp.now()})
    assert r.status_code == 200 and "The code is not valid." in r.text


def test_recovery_codes_work_once(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    _, body = enrolled(oauth)
    recovery = body["recoveryCodes"][0]
    s = requests.Session()
    r = submit(s, code_page(oauth, s, client[0]), {"otp_code": recovery.upper()})
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["recoveryCodesLeft"] == 9
    s2 = requests.Session()
    r = submit(s2, code_page(oauth, s2, client[0]), {"otp_code": recovery})
    assert r.status_code == 200 and "The code is not valid." in r.text


def test_the_code_page_is_bound_to_the_user_and_the_browser(oauth):
    make_user(oauth)
    make_user(oauth, "bob", PASSWORD)
    client = make_client(oauth, "trusted")
    totp, _ = enrolled(oauth)
    bob_totp, _ = enrolled(oauth, "bob")
    s = requests.Session()
    page = code_page(oauth, s, client[0])
    # Swapping the user for another enrolled user (whose code the attacker has): refused.
    r = submit(s, page, {"otp_user": "bob", "otp_code": next_code(bob_totp)})
    assert r.status_code == 403, r.text
    # Claiming an enrolment page for the same user: refused (the token names the page kind).
    r = submit(s, page, {"otp_enrol": "1", "otp_code": next_code(totp)})
    assert r.status_code == 403
    # The form in another browser (no login cookie): refused.
    other = requests.Session()
    r = submit(other, page, {"otp_code": next_code(totp)})
    assert r.status_code == 403
    # Skipping the password: an otp_user field without its token.
    fresh = requests.Session()
    login = authorize(oauth, code_params(client[0]), headers=BROWSER, session=fresh)
    r = submit(fresh, login, {"otp_user": USER, "otp_code": next_code(totp)})
    assert r.status_code == 403
    # The genuine form still works.
    r = submit(s, page, {"otp_code": next_code(totp)})
    assert r.status_code == 303, r.text


def test_wrong_codes_are_throttled(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    totp, _ = enrolled(oauth)
    good = next_code(totp)
    wrong = "000000" if good != "000000" and totp.now() != "000000" else "999999"
    s = requests.Session()
    page = code_page(oauth, s, client[0])
    statuses = []
    for _ in range(5):
        r = submit(s, page, {"otp_code": wrong})
        statuses.append(r.status_code)
    assert statuses == [200] * 5
    r = submit(s, page, {"otp_code": good})
    assert r.status_code == 429 and "Too many wrong codes" in r.text
    assert int(r.headers["Retry-After"]) >= 1
    # The account's bucket, not the browser's: a fresh browser is throttled as well.
    s2 = requests.Session()
    r = submit(s2, code_page(oauth, s2, client[0]), {"otp_code": good})
    assert r.status_code == 429


def test_basic_auth_and_password_grant_refuse_enrolled_users(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    enrolled(oauth)
    r = authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "interaction_required"
    # A wrong password still gets the usual 401 (the refusal comes after the password).
    r = authorize(oauth, code_params(client[0]), user=USER, password="wrong")
    assert r.status_code == 401
    t = oauth.token({"grant_type": "password", "username": USER, "password": PASSWORD},
                    client=client)
    assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    # Without a second factor both work as before.
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}/totp").status_code == 204
    assert authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD).status_code == 302
    t = oauth.token({"grant_type": "password", "username": USER, "password": PASSWORD},
                    client=client)
    assert t.status_code == 200, t.text


def test_a_session_without_otp_must_sign_in_again_after_enrolment(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]))
    assert r.status_code == 303 and "code=" in r.headers["Location"]
    totp, _ = enrolled(oauth)
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "j_password" in r.text, r.text
    r = submit(s, r, {"j_username": USER, "j_password": PASSWORD})
    assert r.status_code == 200 and "Enter your code" in r.text
    r = submit(s, r, {"otp_code": next_code(totp)})
    assert r.status_code == 303 and "code=" in r.headers["Location"]


@pytest.fixture
def bank(tmp_path):
    """A server whose client "bank" (a fixed id) requires a second factor."""
    bank_id = str(uuid.uuid4())
    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_CODE_SECOND_FACTOR_CLIENTS": "other-client, " + bank_id,
                        "PORTCULLIS_CODE_TOTP_ISSUER": "Example Bank"})
    server = OAuthServer(s)
    yield server, bank_id
    assert s.stop() == 0, s.read_log()


def test_a_client_that_requires_a_second_factor_enrols_users_on_the_way(bank):
    oauth, bank_id = bank
    make_user(oauth)
    client = make_client(oauth, "trusted", scope="openid petstore.r", clientId=bank_id)
    assert client[0] == bank_id
    plain = make_client(oauth, "trusted")
    # HTTP Basic cannot enrol: refused.
    r = authorize(oauth, code_params(bank_id), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required"
    s = requests.Session()
    page = browser_login(oauth, s, code_params(bank_id, scope="openid"))
    assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    assert "otpauth://totp/Example%20Bank:alice?secret=" + secret in page.text
    qr = page.text.split('<p id="totp-qr">')[1].split("</p>")[0]
    assert decode_svg_qr(qr).startswith("otpauth://totp/Example%20Bank:alice?secret=" + secret)
    assert page.text.count("<li><code>") == 10
    totp = pyotp.TOTP(secret)
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "pending"
    r = submit(s, page, {"otp_code": "000000" if totp.now() != "000000" else "111111"})
    assert r.status_code == 200 and "The code is not valid." in r.text
    assert 'id="totp-secret"' not in r.text  # shown once
    r = submit(s, r, {"otp_code": totp.now()})
    assert r.status_code == 303, r.text
    _, q = query_of(r.headers["Location"])
    t = redeem(oauth, q["code"], client)
    assert payload(t.json()["id_token"])["amr"] == ["pwd", "otp"]
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "active"
    # From now on every client asks for the code.
    s2 = requests.Session()
    r = browser_login(oauth, s2, code_params(plain[0]))
    assert r.status_code == 200 and "Enter your code" in r.text
    # The bank does not take a password-only session of another client.
    make_user(oauth, "bob", PASSWORD)
    s3 = requests.Session()
    r = browser_login(oauth, s3, code_params(plain[0]), user="bob")
    assert r.status_code == 303
    r = authorize(oauth, code_params(bank_id), headers=BROWSER, session=s3)
    assert r.status_code == 200 and "j_password" in r.text


def test_cli_enrols_confirms_and_a_server_on_the_store_asks_for_the_code():
    from test_registry_common import MASTER_KEY, cli, new_cli_store
    tmp, url = new_cli_store("portcullis-totp-")
    r = cli("user", "create", "--id", USER, "--type", "employee", "--email", "a@example.com",
            "--password-stdin", store=url, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = cli("user", "totp-status", USER, "--json", store=url)
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "none", r.stderr
    r = cli("user", "totp-enrol", USER, "--json", store=url)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert len(body["recoveryCodes"]) == 10
    totp = pyotp.TOTP(body["secret"])
    assert cli("user", "totp-confirm", USER, store=url, stdin="000000\n" if totp.now() != "000000"
               else "111111\n").returncode == 1
    r = cli("user", "totp-confirm", USER, store=url, stdin=totp.now() + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(cli("user", "totp-status", USER, "--json", store=url).stdout)["state"] \
        == "active"
    assert cli("user", "totp-enrol", USER, store=url).returncode == 1  # active already
    assert cli("user", "totp-status", "nobody", store=url).returncode == 1

    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY}, store=url, tmp=tmp)
    try:
        oauth = OAuthServer(s)
        client = make_client(oauth, "trusted")
        browser = requests.Session()
        r = submit(browser, code_page(oauth, browser, client[0]), {"otp_code": next_code(totp)})
        assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
    finally:
        assert s.stop() == 0, s.read_log()
    assert cli("user", "totp-disable", USER, store=url).returncode == 0
    assert cli("user", "totp-disable", USER, store=url).returncode == 1


def test_a_consent_form_of_another_client_does_not_skip_the_second_factor(bank):
    """The consent form's token is bound to the session, not the client: a password-only
    session's consent form, edited to name a client that requires a second factor, gets no
    code."""
    oauth, bank_id = bank
    make_user(oauth)
    make_client(oauth, "trusted", clientId=bank_id)
    plain = make_client(oauth)  # not trusted: a consent page
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(plain[0]))
    assert consent.status_code == 200 and "wants access" in consent.text
    r = submit(s, consent, {"client_id": bank_id}, button=("decision", "allow"))
    assert r.status_code == 403, r.text
    assert "code=" not in r.headers.get("Location", "")
    # The unedited form still works.
    r = submit(s, consent, button=("decision", "allow"))
    assert r.status_code == 303 and "code=" in r.headers["Location"]


def test_the_device_page_takes_no_password_only_sign_in_of_an_enrolled_user(oauth):
    from test_device_flow import DEVICE_GRANT, poll_token, start_device
    make_user(oauth)
    totp, _ = enrolled(oauth)
    tv = make_client(oauth, "confidential", grantTypes=[DEVICE_GRANT], clientName="TV")
    d = start_device(oauth, tv)
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/device", params={"user_code": d["user_code"]},
                 headers=BROWSER, timeout=10)
    login = submit(s, page)
    assert "j_password" in login.text
    r = submit(s, login, {"j_username": USER, "j_password": PASSWORD})
    assert r.status_code == 200 and "needs a second factor" in r.text, r.text
    assert "Allow" not in r.text
    assert not any(c.startswith("portcullis_sso=") for c in r.raw.headers.getlist("Set-Cookie"))
    # With an SSO session that has the second factor, the page asks only for the decision.
    web = make_client(oauth, "trusted")
    done = submit(s, code_page(oauth, s, web[0]), {"otp_code": next_code(totp)})
    assert done.status_code == 303
    page = s.get(oauth.url + "/oauth2/device", params={"user_code": d["user_code"]},
                 headers=BROWSER, timeout=10)
    consent = submit(s, page)
    assert consent.status_code == 200 and "Allow" in consent.text, consent.text
    assert submit(s, consent, button=("decision", "allow")).status_code == 200
    t = poll_token(oauth, tv, d["device_code"])
    assert t.status_code == 200, t.text


def test_a_code_used_on_one_instance_is_refused_on_another_over_postgresql():
    from conftest import new_pg_database
    url = new_pg_database()
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_KEYS_MASTER_KEY": "3" * 64}
    a = Portcullis(env=env, store=url)
    b = Portcullis(env=env, store=url)
    try:
        oa, ob = OAuthServer(a), OAuthServer(b)
        make_user(oa)
        client = make_client(oa, "trusted")
        totp, body = enrolled(oa)
        code = next_code(totp)
        s1 = requests.Session()
        r = submit(s1, code_page(oa, s1, client[0]), {"otp_code": code})
        assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
        s2 = requests.Session()
        def sign_in_on_b():
            # Instance b learns of the new client through the store's change notifications.
            login = authorize(ob, code_params(client[0]), headers=BROWSER, session=s2)
            if login.status_code != 200:
                return None
            p = submit(s2, login, {"j_username": USER, "j_password": PASSWORD})
            return p if "Enter your code" in p.text else None

        page = poll(sign_in_on_b, "the client on instance b")
        r = submit(s2, page, {"otp_code": code})
        assert r.status_code == 200 and "The code is not valid." in r.text
        # A recovery code, likewise, works once across instances.
        r = submit(s2, page, {"otp_code": body["recoveryCodes"][1]})
        assert r.status_code == 303, r.text
        s3 = requests.Session()
        r = submit(s3, code_page(oa, s3, client[0]), {"otp_code": body["recoveryCodes"][1]})
        assert r.status_code == 200 and "The code is not valid." in r.text
    finally:
        assert a.stop() == 0, a.read_log()
        assert b.stop() == 0, b.read_log()


def test_a_client_field_second_factor_required_enforces_it_like_the_config_list(oauth):
    """secondFactor on the client (README "Second factor (TOTP)"): "required" makes every user
    enrol or give a code at that client; "optional" (the default) only enrolled users."""
    make_user(oauth)
    plain = make_client(oauth, "trusted", scope="openid petstore.r")
    got = oauth.admin("GET", f"/oauth2/client/{plain[0]}").json()
    assert got["secondFactor"] == "optional"
    # Unknown values are refused, with the field named; nothing is created or changed.
    r = oauth.admin("POST", "/oauth2/client", json={
        "clientType": "trusted", "clientProfile": "webserver", "clientName": "x", "host": "h",
        "ownerId": "admin", "scope": "openid", "redirectUris": [REDIRECT],
        "secondFactor": "always"})
    assert r.status_code == 400 and r.json()["description"].startswith("secondFactor:"), r.text
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": plain[0], "secondFactor": 1})
    assert r.status_code == 400, r.text
    assert oauth.admin("GET", f"/oauth2/client/{plain[0]}").json()["secondFactor"] == "optional"

    bank = make_client(oauth, "trusted", scope="openid petstore.r", secondFactor="required")
    assert oauth.admin("GET", f"/oauth2/client/{bank[0]}").json()["secondFactor"] == "required"
    # A password-only sign-in still works at the plain client.
    s = requests.Session()
    assert browser_login(oauth, s, code_params(plain[0])).status_code == 303
    # At the bank: HTTP Basic cannot carry a code; the browser must enrol, and the password-only
    # session of the plain client does not count.
    r = authorize(oauth, code_params(bank[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required"
    r = authorize(oauth, code_params(bank[0]), headers=BROWSER, session=s)
    assert r.status_code == 200 and "j_password" in r.text
    page = browser_login(oauth, requests.Session(), code_params(bank[0], scope="openid"))
    assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "pending"

    # Back to optional (PUT of the one field): the user without an active factor signs in with
    # the password alone.
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": bank[0], "secondFactor": "optional"})
    assert r.status_code == 200 and r.json()["secondFactor"] == "optional", r.text
    assert browser_login(oauth, requests.Session(), code_params(bank[0])).status_code == 303
    # null means optional too; "required" again is enforced again.
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": bank[0], "secondFactor": None})
    assert r.status_code == 200 and r.json()["secondFactor"] == "optional", r.text
    r = oauth.admin("PUT", "/oauth2/client", json={"clientId": bank[0], "secondFactor": "required"})
    assert r.status_code == 200 and r.json()["secondFactor"] == "required", r.text
    r = authorize(oauth, code_params(bank[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required"
