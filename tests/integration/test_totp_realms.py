"""A built-in store account keeps its second factor wherever it signs in (README "Second factor
(TOTP)"): its enrolment is keyed by realm "" (the admin API's), also at a client whose
authenticateClass names a chain with the built-in store as a member. The password grant, HTTP
Basic and the device page refuse a password-only sign-in there; the login page asks for the code.
Uses the slapd fixture of test_ldap.py (the chain corp-or-local = [ldap-corp, default])."""
import base64
import json
import time

import pyotp
import requests

from code_helpers import (BROWSER, authorize, browser_login, code_params, make_client, make_user,
                          query_of, redeem, submit)
from test_ldap import chain_oauth, ldap_client, slapd  # noqa: F401

DAVE = "dave"
DAVE_PW = "dave-local-password"


def enrolled(oauth, user):
    r = oauth.admin("POST", f"/oauth2/user/{user}/totp")
    assert r.status_code == 201, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    r = oauth.admin("POST", f"/oauth2/user/{user}/totp/confirm", json={"code": totp.now()})
    assert r.status_code == 204, r.text
    return totp


def amr_of(oauth, client, r):
    assert r.status_code == 303, r.text
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    part = t.json()["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["amr"]


def test_a_local_users_factor_is_asked_at_a_chain_client(chain_oauth):
    oauth = chain_oauth
    make_user(oauth, DAVE, DAVE_PW, roles="user")
    client = make_client(oauth, "trusted", scope="openid petstore.r",
                         authenticateClass="corp-or-local")
    # Before enrolment the password is enough (the chain's default member answers).
    t = oauth.token({"grant_type": "password", "username": DAVE, "password": DAVE_PW},
                    client=client)
    assert t.status_code == 200, t.text
    totp = enrolled(oauth, DAVE)
    # The password grant cannot carry a code: refused like at a default client.
    t = oauth.token({"grant_type": "password", "username": DAVE, "password": DAVE_PW},
                    client=client)
    assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    # HTTP Basic neither.
    r = authorize(oauth, code_params(client[0]), user=DAVE, password=DAVE_PW)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
    # The login page asks for the code of the realm-"" enrolment, and takes it.
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client[0], scope="openid"), user=DAVE,
                         password=DAVE_PW)
    assert page.status_code == 200 and "Enter your code" in page.text, page.text
    r = submit(s, page, {"otp_code": totp.at(time.time() + 30)})
    assert amr_of(oauth, client, r) == ["pwd", "otp"]


def test_the_code_page_cannot_be_switched_to_the_chain_realms_key(chain_oauth):
    oauth = chain_oauth
    make_user(oauth, DAVE, DAVE_PW, roles="user")
    client = make_client(oauth, "trusted", scope="openid", authenticateClass="corp-or-local")
    totp = enrolled(oauth, DAVE)
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client[0], scope="openid"), user=DAVE,
                         password=DAVE_PW)
    assert page.status_code == 200 and 'name="otp_local"' in page.text, page.text
    # Dropping the realm flag (to reach the chain realm's empty key) breaks the CSRF binding.
    r = submit(s, page, {"otp_code": totp.at(time.time() + 30), "otp_local": ""})
    assert r.status_code == 403, r.text


def test_the_device_page_refuses_a_password_only_sign_in_at_a_chain_client(chain_oauth):
    from test_device_flow import DEVICE_GRANT, start_device
    oauth = chain_oauth
    make_user(oauth, DAVE, DAVE_PW, roles="user")
    tv = make_client(oauth, "confidential", grantTypes=[DEVICE_GRANT], clientName="TV",
                     authenticateClass="corp-or-local")
    enrolled(oauth, DAVE)
    d = start_device(oauth, tv)
    s = requests.Session()
    page = s.get(oauth.url + "/oauth2/device", params={"user_code": d["user_code"]},
                 headers=BROWSER, timeout=10)
    login = submit(s, page)
    assert "j_password" in login.text
    r = submit(s, login, {"j_username": DAVE, "j_password": DAVE_PW})
    assert r.status_code == 200 and "needs a second factor" in r.text, r.text
    assert "Allow" not in r.text


def test_a_deleted_users_enrolment_is_not_inherited_by_a_new_namesake(chain_oauth):
    oauth = chain_oauth
    make_user(oauth, DAVE, DAVE_PW, roles="user")
    enrolled(oauth, DAVE)
    assert oauth.admin("DELETE", f"/oauth2/user/{DAVE}").status_code in (200, 204)
    make_user(oauth, DAVE, "another-password-1", roles="user")
    st = oauth.admin("GET", f"/oauth2/user/{DAVE}/totp")
    assert st.status_code == 200 and st.json()["state"] == "none", st.text
    client = make_client(oauth, "trusted", scope="openid", authenticateClass="corp-or-local")
    t = oauth.token({"grant_type": "password", "username": DAVE,
                     "password": "another-password-1"}, client=client)
    assert t.status_code == 200, t.text
    plain = make_client(oauth, "trusted", scope="openid")
    t = oauth.token({"grant_type": "password", "username": DAVE,
                     "password": "another-password-1"}, client=plain)
    assert t.status_code == 200, t.text
