"""Second factors of LDAP users (README "Second factor (TOTP)"): a directory user enrols on the
account page of an LDAP session and is then asked for a code; the enrolment is keyed by realm,
so a local user of the same name has their own (or none). Uses the slapd fixture of
test_ldap.py (LDAPS with a test CA)."""
import base64
import json
import time

import pyotp
import requests

from code_helpers import (BROWSER, authorize, browser_login, code_params, make_client, make_user,
                          query_of, redeem, submit)
from test_ldap import ALICE_PW, BOB_PW, ldap_client, ldap_oauth, slapd  # noqa: F401

LOCAL_PW = "alice-local-password"


def amr_of(oauth, client, r):
    assert r.status_code == 303, r.text
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    part = t.json()["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["amr"]


def later(totp, steps):
    return totp.at(time.time() + 30 * steps)


def wrong(code):
    return "000000" if code != "000000" else "111111"


def test_an_ldap_user_enrols_on_the_account_page_and_a_local_namesake_is_separate(ldap_oauth):
    oauth = ldap_oauth
    make_user(oauth, "alice", LOCAL_PW)
    directory = ldap_client(oauth)
    local = make_client(oauth, "trusted", scope="openid petstore.r")
    directory_openid = make_client(oauth, "trusted", scope="openid petstore.r",
                                   authenticateClass="ldap-corp")

    # The directory's alice signs in (password only) and opens the account page.
    s = requests.Session()
    r = browser_login(oauth, s, code_params(directory_openid[0], scope="openid"), user="alice",
                      password=ALICE_PW)
    assert amr_of(oauth, directory_openid, r) == ["pwd"]
    page = s.get(oauth.url + "/oauth2/account/security", headers=BROWSER, timeout=10)
    assert page.status_code == 200 and "No second factor is set up." in page.text, page.text
    # The local alice's password is not the directory alice's.
    r = submit(s, page, {"password": LOCAL_PW})
    assert r.status_code == 200 and "The password is incorrect." in r.text
    r = submit(s, r, {"password": ALICE_PW})
    assert r.status_code == 200 and 'id="totp-secret"' in r.text, r.text
    secret = r.text.split('id="totp-secret">')[1].split("<")[0]
    assert f"otpauth://totp/Portcullis:alice?secret={secret}" in r.text
    totp = pyotp.TOTP(secret)
    r = submit(s, r, {"code": wrong(totp.now())})
    assert r.status_code == 200 and "The code is not valid." in r.text
    r = submit(s, r, {"code": totp.now()})
    assert r.status_code == 200 and "The second factor is on." in r.text, r.text
    # The local alice has no enrolment.
    assert oauth.admin("GET", "/oauth2/user/alice/totp").json()["state"] == "none"

    # The directory's alice is now asked for a code, by form; HTTP Basic cannot give one.
    r = authorize(oauth, code_params(directory[0]), user="alice", password=ALICE_PW)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
    s2 = requests.Session()
    r = browser_login(oauth, s2, code_params(directory_openid[0], scope="openid"), user="alice",
                      password=ALICE_PW)
    assert r.status_code == 200 and "Enter your code" in r.text, r.text
    # The code page is bound to the client (whose realm keys the enrolment): swapping in the
    # local client, to be signed in as the local alice after the directory password, is refused.
    swapped = submit(s2, r, {"client_id": local[0], "otp_code": later(totp, 1)})
    assert swapped.status_code == 403, swapped.text
    r2 = submit(s2, r, {"otp_code": wrong(later(totp, 1))})
    assert r2.status_code == 200 and "The code is not valid." in r2.text
    r2 = submit(s2, r2, {"otp_code": later(totp, 1)})
    assert amr_of(oauth, directory_openid, r2) == ["pwd", "otp"]

    # The local alice signs in with her password alone.
    s3 = requests.Session()
    r = browser_login(oauth, s3, code_params(local[0], scope="openid"), user="alice",
                      password=LOCAL_PW)
    assert amr_of(oauth, local, r) == ["pwd"]

    # The local alice's own enrolment (admin API) is hers: the directory secret's codes do not
    # pass her code page, and removing hers leaves the directory alice's.
    body = oauth.admin("POST", "/oauth2/user/alice/totp").json()
    local_totp = pyotp.TOTP(body["secret"])
    r = oauth.admin("POST", "/oauth2/user/alice/totp/confirm", json={"code": local_totp.now()})
    assert r.status_code == 204, r.text
    s4 = requests.Session()
    r = browser_login(oauth, s4, code_params(local[0], scope="openid"), user="alice",
                      password=LOCAL_PW)
    assert r.status_code == 200 and "Enter your code" in r.text
    code = later(totp, 2)
    if code != later(local_totp, 1):
        r4 = submit(s4, r, {"otp_code": code})
        assert r4.status_code == 200 and "The code is not valid." in r4.text
    r4 = submit(s4, r, {"otp_code": later(local_totp, 1)})
    assert amr_of(oauth, local, r4) == ["pwd", "otp"]
    assert oauth.admin("DELETE", "/oauth2/user/alice/totp").status_code == 204
    s5 = requests.Session()
    r = browser_login(oauth, s5, code_params(directory_openid[0], scope="openid"), user="alice",
                      password=ALICE_PW)
    assert r.status_code == 200 and "Enter your code" in r.text


def test_an_ldap_user_must_enrol_at_a_client_that_requires_a_second_factor(ldap_oauth):
    oauth = ldap_oauth
    bank = make_client(oauth, "trusted", scope="openid petstore.r", authenticateClass="ldap-corp",
                       secondFactor="required")
    s = requests.Session()
    page = browser_login(oauth, s, code_params(bank[0], scope="openid"), user="bob",
                         password=BOB_PW)
    assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    r = submit(s, page, {"otp_code": pyotp.TOTP(secret).now()})
    assert amr_of(oauth, bank, r) == ["pwd", "otp"]
    # The local user store has no bob, and no enrolment was made for one.
    assert oauth.admin("GET", "/oauth2/user/bob/totp").status_code == 404
