"""Same name, different realm (README "Enterprise sign-in: one name in two realms"): a local
account `alice` and the directory's `alice` (slapd on loopback, slapd_server.py) are two people.
Consents, the userinfo endpoint, the password grant, refresh tokens and the device grant keep
them apart: what one agreed to is not the other's consent, the directory user never gets the
local account's profile or roles, and a client's authenticateClass decides who may sign in
whatever the grant. slapd missing fails the tests."""
import base64
import json
import uuid

import pytest
import requests

from code_helpers import (BROWSER, authorize, basic_user, browser_login, code_params, make_client,
                          make_user, page_form, query_of, redeem, submit)
from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic
import slapd_server
from slapd_server import SERVICE_DN, SERVICE_PASSWORD, SUFFIX, USERS

LDAP_PW = USERS["alice"][0]
LOCAL_PW = "alice-local-password-1"
SCOPE = "openid profile email petstore.r"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture(scope="module")
def slapd():
    s = slapd_server.Slapd()
    s.start()
    yield s
    s.clean()


def start(slapd, tmp_path, env=None):
    cfg = tmp_path / "portcullis.yaml"
    cfg.write_text(f"""
authenticators:
  ldap-corp:
    type: ldap
    url: "{slapd.ldaps_url}"
    ca_file: "{slapd.ca_file}"
    user_base: "ou=people,{SUFFIX}"
    user_filter: "(&(objectClass=inetOrgPerson)(uid={{user}}))"
    bind_dn: "{SERVICE_DN}"
    group_base: "ou=groups,{SUFFIX}"
    group_filter: "(member={{dn}})"
    roles:
      admins: admin
      "cn=developers,ou=groups,{SUFFIX}": [dev, reader]
""")
    s = Portcullis(args=["--config", str(cfg)],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD,
                        **(env or {})})
    o = OAuthServer(s)
    # The local alice: another person with the directory alice's name, her own profile and roles.
    make_user(o, "alice", LOCAL_PW, roles="user")
    return s, o


@pytest.fixture
def realms(slapd, tmp_path):
    s, o = start(slapd, tmp_path)
    yield o
    code = s.stop()
    assert code == 0, s.read_log()


def client(o, client_type="confidential", ldap=False, **fields):
    if ldap:
        fields["authenticateClass"] = "ldap-corp"
    return make_client(o, client_type, scope=SCOPE, **fields)


def consent_in_browser(o, c, password):
    """The browser form, then Allow on the consent page; returns the session."""
    s = requests.Session()
    page = browser_login(o, s, code_params(c[0], scope=SCOPE), user="alice", password=password)
    assert page.status_code == 200 and "wants access to your account" in page.text, page.text
    done = submit(s, page, button=("decision", "allow"))
    assert done.status_code == 303 and "code=" in done.headers["Location"], done.text
    return s, query_of(done.headers["Location"])[1]["code"]


def set_authenticator(o, c, name):
    r = o.admin("GET", "/oauth2/client/" + c[0])
    assert r.status_code == 200, r.text
    body = r.json()
    body["authenticateClass"] = name
    body.pop("clientSecret", None)
    r = o.admin("PUT", "/oauth2/client", json=body)
    assert r.status_code == 200, r.text


def userinfo(o, access_token):
    return requests.get(o.url + "/oauth2/userinfo",
                        headers={"Authorization": "Bearer " + access_token}, timeout=10)


# ---- 1. consents and userinfo

def test_a_consent_given_by_the_local_alice_is_not_the_directory_alice_s(realms):
    c = client(realms)
    consent_in_browser(realms, c, LOCAL_PW)
    # The local alice's consent covers HTTP Basic for her ...
    r = authorize(realms, code_params(c[0], scope=SCOPE), "alice", LOCAL_PW)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text
    # ... but once the client signs in with the directory, its alice has agreed to nothing.
    set_authenticator(realms, c, "ldap-corp")
    r = authorize(realms, code_params(c[0], scope=SCOPE), "alice", LDAP_PW)
    assert r.status_code == 302, r.text
    assert query_of(r.headers["Location"])[1].get("error") == "consent_required", r.headers


def test_a_consent_given_by_the_directory_alice_is_not_the_local_alice_s(realms):
    c = client(realms, ldap=True)
    consent_in_browser(realms, c, LDAP_PW)
    r = authorize(realms, code_params(c[0], scope=SCOPE), "alice", LDAP_PW)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text
    set_authenticator(realms, c, "")
    r = authorize(realms, code_params(c[0], scope=SCOPE), "alice", LOCAL_PW)
    assert r.status_code == 302, r.text
    assert query_of(r.headers["Location"])[1].get("error") == "consent_required", r.headers


def test_the_connected_applications_page_shows_only_the_realm_s_own_consents(realms):
    local_app = client(realms, clientName="Local app")
    consent_in_browser(realms, local_app, LOCAL_PW)
    ldap_app = client(realms, ldap=True, clientName="Directory app")
    s, _ = consent_in_browser(realms, ldap_app, LDAP_PW)
    page = s.get(realms.url + "/oauth2/consent", headers=BROWSER, timeout=10)
    assert page.status_code == 200, page.text
    assert "Directory app" in page.text and "Local app" not in page.text
    # Nor can the directory alice revoke the local alice's consent.
    r = s.delete(realms.url + "/oauth2/consent/" + local_app[0], timeout=10)
    assert r.status_code == 404, r.text
    r = authorize(realms, code_params(local_app[0], scope=SCOPE), "alice", LOCAL_PW)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text


def test_userinfo_of_the_directory_alice_shows_nothing_of_the_local_alice(realms):
    c = client(realms, "trusted", ldap=True)
    r = authorize(realms, code_params(c[0], scope=SCOPE), "alice", LDAP_PW)
    code = query_of(r.headers["Location"])[1]["code"]
    t = redeem(realms, code, c)
    assert t.status_code == 200, t.text
    body = t.json()
    assert "admin" in claims(body["access_token"])["roles"].split()
    info = userinfo(realms, body["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == "alice"
    assert "email" not in info.json() and "given_name" not in info.json(), info.json()
    # The same after a refresh: the refresh token remembers which alice it was.
    r = realms.token({"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                     client=c)
    assert r.status_code == 200, r.text
    assert "admin" in claims(r.json()["access_token"])["roles"].split()
    info = userinfo(realms, r.json()["access_token"])
    assert info.status_code == 200, info.text
    assert "email" not in info.json(), info.json()
    # The local alice still gets her own profile.
    local = client(realms, "trusted")
    r = authorize(realms, code_params(local[0], scope=SCOPE), "alice", LOCAL_PW)
    t = redeem(realms, query_of(r.headers["Location"])[1]["code"], local)
    info = userinfo(realms, t.json()["access_token"])
    assert info.status_code == 200 and info.json()["email"] == "alice@example.com", info.text


# ---- 2. the password grant follows the client's authenticateClass

def password_grant(o, c, user, password, scope="petstore.r"):
    return o.token({"grant_type": "password", "username": user, "password": password,
                    "scope": scope}, client=c)


def test_password_grant_of_a_directory_client_signs_in_directory_users_only(realms):
    make_user(realms, "dave", "dave-local-password", roles="user")
    c = client(realms, "trusted", ldap=True)
    r = password_grant(realms, c, "alice", LDAP_PW)
    assert r.status_code == 200, r.text
    at = claims(r.json()["access_token"])
    assert at["user_id"] == "alice" and sorted(at["roles"].split()) == ["admin", "dev", "reader"]
    # Neither the local alice's password nor a local-only user.
    assert password_grant(realms, c, "alice", LOCAL_PW).status_code in (400, 401)
    assert password_grant(realms, c, "dave", "dave-local-password").status_code in (400, 401)
    # Its refresh token stays the directory alice's: roles and userinfo.
    r = realms.token({"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
                     client=c)
    assert r.status_code == 200, r.text
    assert sorted(claims(r.json()["access_token"])["roles"].split()) == ["admin", "dev", "reader"]
    r = password_grant(realms, c, "alice", LDAP_PW, scope="openid email")
    assert r.status_code == 200, r.text
    info = userinfo(realms, r.json()["access_token"])
    assert info.status_code == 200 and "email" not in info.json(), info.text


def test_password_grant_of_a_local_client_signs_in_local_users_only(realms):
    c = client(realms, "trusted")
    r = password_grant(realms, c, "alice", LOCAL_PW)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["roles"] == "user"
    assert password_grant(realms, c, "alice", LDAP_PW).status_code in (400, 401)
    assert password_grant(realms, c, "bob", USERS["bob"][0]).status_code in (400, 401)


def test_password_grant_of_a_directory_client_is_throttled(realms):
    c = client(realms, "trusted", ldap=True)
    codes = [password_grant(realms, c, "bob", "wrong-password").status_code for _ in range(12)]
    assert 429 in codes, codes
    # The throttle holds even for the right password now.
    assert password_grant(realms, c, "bob", USERS["bob"][0]).status_code == 429


def test_password_grant_is_refused_for_clients_that_require_a_second_factor(slapd, tmp_path):
    """A password grant carries no second factor: refused wherever the login page would ask for
    one (code.second_factor_clients), for either realm's users."""
    local_id, ldap_id = str(uuid.uuid4()), str(uuid.uuid4())
    s, o = start(slapd, tmp_path,
                 {"PORTCULLIS_CODE_SECOND_FACTOR_CLIENTS": local_id + ", " + ldap_id})
    try:
        local = client(o, "trusted", clientId=local_id)
        ldap = client(o, "trusted", ldap=True, clientId=ldap_id)
        for c, password in ((local, LOCAL_PW), (ldap, LDAP_PW)):
            r = password_grant(o, c, "alice", password)
            assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
            assert "second factor" in r.json()["error_description"], r.text
        # Clients that do not require one still work.
        assert password_grant(o, client(o, "trusted"), "alice", LOCAL_PW).status_code == 200
        assert password_grant(o, client(o, "trusted", ldap=True), "alice",
                              LDAP_PW).status_code == 200
    finally:
        assert s.stop() == 0, s.read_log()


# ---- 3. the device grant records where its user signed in

def test_device_grant_of_a_directory_client_keeps_the_directory_user(realms):
    c = make_client(realms, "confidential", scope=SCOPE, authenticateClass="ldap-corp",
                    grantTypes=[DEVICE_GRANT, "refresh_token"])
    r = requests.post(realms.url + "/oauth2/device_authorization", data={"scope": SCOPE},
                      headers={"Authorization": basic(*c)}, timeout=10)
    assert r.status_code == 200, r.text
    d = r.json()
    s = requests.Session()
    page = s.get(realms.url + "/oauth2/device", params={"user_code": d["user_code"]},
                 headers=BROWSER, timeout=10)
    login = submit(s, page)
    assert "j_password" in login.text, login.text
    consent = submit(s, login, {"j_username": "alice", "j_password": LDAP_PW})
    assert consent.status_code == 200 and "Allow" in consent.text, consent.text
    done = submit(s, consent, button=("decision", "allow"))
    assert done.status_code == 200 and "Device connected" in done.text, done.text
    t = realms.token({"grant_type": DEVICE_GRANT, "device_code": d["device_code"]}, client=c)
    assert t.status_code == 200, t.text
    at = claims(t.json()["access_token"])
    # The directory alice's roles, not the local alice's "user".
    assert sorted(at["roles"].split()) == ["admin", "dev", "reader"], at
    info = userinfo(realms, t.json()["access_token"])
    assert info.status_code == 200 and "email" not in info.json(), info.text
    r = realms.token({"grant_type": "refresh_token", "refresh_token": t.json()["refresh_token"]},
                     client=c)
    assert r.status_code == 200, r.text
    assert sorted(claims(r.json()["access_token"])["roles"].split()) == ["admin", "dev", "reader"]


# ---- 4. a token exchange keeps the realm (RFC 8693: the subject stays who it was)

XCHG = "urn:ietf:params:oauth:grant-type:token-exchange"
AT_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def test_a_token_exchange_of_the_directory_alice_stays_the_directory_alice(realms):
    r = realms.admin("POST", "/oauth2/service", json={
        "serviceId": "svc-realm", "serviceType": "openapi", "serviceName": "svc-realm",
        "serviceDesc": "x", "host": "lightapi.net", "ownerId": "admin", "scope": "x"})
    assert r.status_code == 200, r.text
    front = client(realms, "trusted", ldap=True)
    r = password_grant(realms, front, "alice", LDAP_PW, scope="openid email")
    assert r.status_code == 200, r.text
    subject_token = r.json()["access_token"]
    assert claims(subject_token)["user_realm"] == "ldap-corp"
    middle = make_client(realms, "confidential", scope="openid email")
    r = realms.admin("PUT", f"/oauth2/client/{middle[0]}/delegation",
                     json=[{"audience": "svc-realm", "scope": "openid email", "maxDepth": 2}])
    assert r.status_code == 200, r.text
    r = realms.token({"grant_type": XCHG, "subject_token": subject_token,
                      "subject_token_type": AT_TYPE, "audience": "svc-realm",
                      "scope": "openid email"}, client=middle)
    assert r.status_code == 200, r.text
    exchanged = r.json()["access_token"]
    # The local alice has an email; the directory alice's exchanged token must not show it.
    info = userinfo(realms, exchanged)
    assert info.status_code == 200, info.text
    assert info.json() == {"sub": "alice"}, info.json()
    assert claims(exchanged)["user_realm"] == "ldap-corp", claims(exchanged)
