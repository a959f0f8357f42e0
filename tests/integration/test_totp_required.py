"""A second factor required of users, not clients (README "Second factor (TOTP)",
code.second_factor_roles and code.second_factor_realms): a user with a listed role, or any user
of a listed realm, who has no second factor enrols at the next browser sign-in at any client
before a code is issued; HTTP Basic and the password grant refuse them, also in a process
without the code service. Users outside the lists sign in with the password alone. Roles split on
spaces and commas (as admin scopes read them); a password-only refresh family or code is refused
(the family revoked) once the user's roles require a factor; a listed directory applies inside a
chain; a token-only process resolves and checks the realm names. Codes are computed with pyotp."""
import base64
import json
import os
import tempfile

import pyotp
import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, USER, authorize, browser_login, code_params,
                          make_client, make_user, query_of, redeem, submit)
from conftest import Portcullis, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
from test_ldap import slapd  # noqa: F401

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
       "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def server(request):
    """A server with the extra environment the test names by parametrize(indirect=True)."""
    s = Portcullis(env={**ENV, **request.param})
    yield OAuthServer(s)
    assert s.stop() == 0, s.read_log()


def settings(env):
    return pytest.mark.parametrize("server", [env], indirect=True, ids=[""])


def password_grant(oauth, client, user):
    return oauth.token({"grant_type": "password", "username": user, "password": PASSWORD},
                       client=client)


def enrol_in_browser(oauth, session, client, user):
    """Signs `user` in with the browser at `client`: the enrolment page must come, and its
    first code gives the code. Returns the new TOTP and the ID token's claims."""
    page = browser_login(oauth, session, code_params(client[0], scope="openid"), user=user)
    assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
    assert not any(c.startswith("portcullis_sso=") for c in page.raw.headers.getlist("Set-Cookie"))
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    totp = pyotp.TOTP(secret)
    r = submit(session, page, {"otp_code": totp.now()})
    assert r.status_code == 303, r.text
    _, q = query_of(r.headers["Location"])
    t = redeem(oauth, q["code"], client)
    assert t.status_code == 200, t.text
    return totp, payload(t.json()["id_token"])


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "ops, admin"})
def test_a_required_role_makes_its_users_enrol_at_any_client(server):
    oauth = server
    make_user(oauth, USER, roles="user admin")
    make_user(oauth, "bob", roles="user administrator")  # not "admin": whole roles only
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    # Before any enrolment: Basic and the password grant refuse alice after her password...
    r = authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
    t = password_grant(oauth, client, USER)
    assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    # ... but a wrong password is still the usual 401, which tells nothing about the factor.
    assert authorize(oauth, code_params(client[0]), user=USER, password="x").status_code == 401
    # bob's roles are not listed: the password is enough everywhere.
    assert authorize(oauth, code_params(client[0]), user="bob", password=PASSWORD).status_code \
        == 302
    assert password_grant(oauth, client, "bob").status_code == 200
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]), user="bob")
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text

    # alice's browser sign-in enrols her before any code; amr records the code.
    totp, idt = enrol_in_browser(oauth, requests.Session(), client, USER)
    assert idt["amr"] == ["pwd", "otp"]
    assert oauth.admin("GET", f"/oauth2/user/{USER}/totp").json()["state"] == "active"
    # Enrolled, she is asked for a code from now on; the password grant still refuses her.
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]), user=USER)
    assert r.status_code == 200 and "Enter your code" in r.text, r.text
    assert password_grant(oauth, client, USER).status_code == 400
    # Removing her enrolment does not let her off: the next sign-in enrols her again.
    assert oauth.admin("DELETE", f"/oauth2/user/{USER}/totp").status_code == 204
    page = browser_login(oauth, requests.Session(), code_params(client[0]), user=USER)
    assert "Set up a second factor" in page.text, page.text


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "admin"})
def test_a_role_granted_later_ends_password_only_single_sign_on(server):
    """A session signed in with the password alone gives no more codes once the user's roles
    require a second factor: the next sign-in is the enrolment."""
    oauth = server
    make_user(oauth, "bob", roles="user")
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0]), user="bob")
    assert r.status_code == 303
    again = authorize(oauth, code_params(client[0], state="st-2"), headers=BROWSER, session=s)
    assert again.status_code == 302 and "code=" in again.headers["Location"]  # SSO
    r = oauth.admin("PUT", "/oauth2/user", json={"userId": "bob", "roles": "user admin"})
    assert r.status_code == 200, r.text
    r = authorize(oauth, code_params(client[0], state="st-3"), headers=BROWSER, session=s)
    assert r.status_code == 200 and "j_password" in r.text, r.text
    # prompt=none cannot show the enrolment: login_required, no code.
    r = authorize(oauth, code_params(client[0], state="st-4", prompt="none"), headers=BROWSER,
                  session=s)
    assert r.status_code == 302 and "code=" not in r.headers["Location"]
    assert query_of(r.headers["Location"])[1]["error"] == "login_required"
    _, idt = enrol_in_browser(oauth, s, client, "bob")
    assert idt["amr"] == ["pwd", "otp"]


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "admin"})
def test_roles_written_with_commas_count_for_the_rule(server):
    """Admin scopes read "user,admin" as holding admin (HasRole splits on commas too), so the
    role rule must as well: else such an admin signs in with the password alone."""
    oauth = server
    make_user(oauth, USER, roles="user,admin")
    make_user(oauth, "bob", roles="user,administrator")  # whole roles only, commas or not
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    r = authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
    t = password_grant(oauth, client, USER)
    assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    page = browser_login(oauth, requests.Session(), code_params(client[0]), user=USER)
    assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
    assert authorize(oauth, code_params(client[0]), user="bob", password=PASSWORD) \
        .status_code == 302
    assert password_grant(oauth, client, "bob").status_code == 200


def refresh(oauth, client, token):
    return oauth.token({"grant_type": "refresh_token", "refresh_token": token}, client=client)


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "admin"})
def test_a_role_granted_later_ends_password_only_refresh_tokens_and_codes(server):
    """A refresh family (and a code) from a password-only sign-in stops working once the user's
    roles require a second factor: rotation carries amr forward, so it would never get one. The
    family is revoked, so dropping the role again does not bring it back."""
    oauth = server
    make_user(oauth, "bob", roles="user")
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    r = browser_login(oauth, requests.Session(), code_params(client[0], scope="openid"),
                      user="bob")
    assert r.status_code == 303, r.text
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    assert payload(t.json()["id_token"])["amr"] == ["pwd"]
    first = t.json()["refresh_token"]
    r = refresh(oauth, client, first)
    assert r.status_code == 200, r.text  # the role is not listed yet
    rotated = r.json()["refresh_token"]
    # A code from a password-only sign-in, not yet redeemed when the role comes.
    r = browser_login(oauth, requests.Session(), code_params(client[0], scope="openid"),
                      user="bob")
    pending = query_of(r.headers["Location"])[1]["code"]

    r = oauth.admin("PUT", "/oauth2/user", json={"userId": "bob", "roles": "user admin"})
    assert r.status_code == 200, r.text
    r = refresh(oauth, client, rotated)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    t = redeem(oauth, pending, client)
    assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    # The family is dead: without the role again, the token stays refused.
    r = oauth.admin("PUT", "/oauth2/user", json={"userId": "bob", "roles": "user"})
    assert r.status_code == 200, r.text
    r = refresh(oauth, client, rotated)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # A new sign-in without the role works as before (the rule follows today's roles).
    r = browser_login(oauth, requests.Session(), code_params(client[0]), user="bob")
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200 and refresh(oauth, client, t.json()["refresh_token"]) \
        .status_code == 200


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_ROLES": "admin"})
def test_a_two_factor_refresh_family_survives_the_rule(server):
    """Families whose sign-in had a code keep refreshing (amr carries "otp")."""
    oauth = server
    make_user(oauth, USER, roles="user admin")
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client[0], scope="openid"), user=USER)
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    r = submit(s, page, {"otp_code": pyotp.TOTP(secret).now()})
    assert r.status_code == 303, r.text
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    r = refresh(oauth, client, t.json()["refresh_token"])
    assert r.status_code == 200, r.text


@settings({"PORTCULLIS_CODE_SECOND_FACTOR_REALMS": "default"})
def test_a_required_realm_makes_all_its_users_enrol(server):
    oauth = server
    make_user(oauth, USER, roles="user")
    client = make_client(oauth, "trusted", scope="openid petstore.r")
    assert password_grant(oauth, client, USER).status_code == 400
    r = authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "interaction_required"
    enrol_in_browser(oauth, requests.Session(), client, USER)


def test_an_unknown_realm_stops_start_up(tmp_path):
    with pytest.raises(RuntimeError) as e:
        Portcullis(env={**ENV, "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": "ldap-crop"})
    assert "code.second_factor_realms" in str(e.value) and "ldap-crop" in str(e.value)
    # `config check` finds it before any start.
    r = run_cli("config", "check", "--store", f"sqlite:{tmp_path}/p.db",
                env={**ENV, "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": "ldap-crop"})
    assert r.returncode == 2 and "configuration ok" not in r.stdout, r.stdout
    assert r.stderr.startswith("portcullis: config: code.second_factor_realms: no authenticator "
                               "named 'ldap-crop'"), r.stderr
    r = run_cli("config", "check", "--store", f"sqlite:{tmp_path}/p.db",
                env={**ENV, "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": "default"})
    assert r.returncode == 0 and r.stdout.endswith("configuration ok\n"), r.stdout + r.stderr


def test_a_role_with_a_space_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("code:\n  second_factor_roles: ['admin ops']\n")
    with pytest.raises(RuntimeError) as e:
        Portcullis(args=["--config", str(path)], env=ENV)
    assert "code.second_factor_roles" in str(e.value) and "contains a space" in str(e.value)


def test_a_token_process_refuses_the_password_grant_for_a_required_role():
    """Without the code service the token endpoint checks local passwords itself (shared
    PasswordGate): the roles list holds there too. The YAML list form of the key."""
    tmp = tempfile.mkdtemp(prefix="portcullis-totp-required-")
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write("code:\n  second_factor_roles: [ops, admin]\n")
    s = Portcullis(args=["--services", "token,user,client", "--config", cfg], env=ENV, tmp=tmp)
    try:
        oauth = OAuthServer(s)
        make_user(oauth, USER, roles="user admin")
        make_user(oauth, "bob", roles="user")
        client = make_client(oauth, "trusted")
        assert authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD) \
            .status_code == 404  # no code service here
        t = password_grant(oauth, client, USER)
        assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
        assert password_grant(oauth, client, "bob").status_code == 200
    finally:
        assert s.stop() == 0, s.read_log()


@pytest.mark.parametrize("realm", ["com.networknt.oauth.auth.DefaultAuthenticator", "default"])
def test_a_token_process_resolves_required_realms(realm, tmp_path):
    """Without the code service, code.second_factor_realms is resolved as the code service
    resolves it: the built-in store's light-oauth2 names are "default" too."""
    s = Portcullis(args=["--services", "token,user,client"],
                   env={**ENV, "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": realm})
    try:
        oauth = OAuthServer(s)
        make_user(oauth, USER, roles="user")
        client = make_client(oauth, "trusted")
        t = password_grant(oauth, client, USER)
        assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
    finally:
        assert s.stop() == 0, s.read_log()


def test_a_token_process_refuses_an_unknown_realm():
    with pytest.raises(RuntimeError) as e:
        Portcullis(args=["--services", "token,user,client"],
                   env={**ENV, "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": "ldap-crop"})
    assert "code.second_factor_realms" in str(e.value) and "ldap-crop" in str(e.value)


def test_directory_roles_and_realms_require_a_second_factor(slapd, tmp_path):
    """An LDAP user's roles are its mapped groups: alice (admins -> admin) must enrol, bob (no
    admin) need not; every user of ldap-tpl must (code.second_factor_realms)."""
    from test_ldap import ALICE_PW, BOB_PW, config_yaml, ldap_client
    from slapd_server import SERVICE_PASSWORD, USERS
    # ldap-tpl by its alias (test_ldap.py's config), which resolves to the authenticator.
    cfg = config_yaml(slapd, str(tmp_path), extra="code:\n  second_factor_roles: [admin]\n"
                      "  second_factor_realms: [com.networknt.oauth.auth.LdapAuth]\n")
    s = Portcullis(args=["--config", cfg],
                   env={**ENV, "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD":
                        SERVICE_PASSWORD})
    try:
        oauth = OAuthServer(s)
        corp = ldap_client(oauth)
        r = authorize(oauth, code_params(corp[0]), user="alice", password=ALICE_PW)
        assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
        t = oauth.token({"grant_type": "password", "username": "alice", "password": ALICE_PW},
                        client=corp)
        assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
        assert authorize(oauth, code_params(corp[0]), user="bob", password=BOB_PW) \
            .status_code == 302
        t = oauth.token({"grant_type": "password", "username": "bob", "password": BOB_PW},
                        client=corp)
        assert t.status_code == 200, t.text
        page = browser_login(oauth, requests.Session(), code_params(corp[0]), user="alice",
                             password=ALICE_PW)
        assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
        # ldap-tpl's users all need one, whatever their roles; at ldap-corp carol does not.
        carol = USERS["carol"][0]
        tpl = ldap_client(oauth, "ldap-tpl")
        r = authorize(oauth, code_params(tpl[0]), user="carol", password=carol)
        assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
        assert authorize(oauth, code_params(corp[0]), user="carol", password=carol) \
            .status_code == 302
    finally:
        assert s.stop() == 0, s.read_log()


def test_a_listed_directory_applies_inside_a_chain(slapd, tmp_path):
    """code.second_factor_realms names ldap-corp: its users need a second factor also when they
    sign in through a chain that holds ldap-corp; the chain's local users do not."""
    from test_ldap import ALICE_PW, CHAINS, config_yaml, ldap_client
    from slapd_server import SERVICE_PASSWORD
    cfg = config_yaml(slapd, str(tmp_path),
                      extra=CHAINS + "code:\n  second_factor_realms: [ldap-corp]\n")
    s = Portcullis(args=["--config", cfg],
                   env={**ENV, "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD":
                        SERVICE_PASSWORD})
    try:
        oauth = OAuthServer(s)
        make_user(oauth, "dave", roles="user")
        chain = ldap_client(oauth, "corp-or-local")
        r = authorize(oauth, code_params(chain[0]), user="alice", password=ALICE_PW)
        assert r.status_code == 403 and r.json()["error"] == "interaction_required", r.text
        t = oauth.token({"grant_type": "password", "username": "alice", "password": ALICE_PW},
                        client=chain)
        assert t.status_code == 400 and t.json()["error"] == "invalid_grant", t.text
        page = browser_login(oauth, requests.Session(), code_params(chain[0]), user="alice",
                             password=ALICE_PW)
        assert page.status_code == 200 and "Set up a second factor" in page.text, page.text
        # The chain's local member is not listed: dave signs in with the password.
        assert authorize(oauth, code_params(chain[0]), user="dave", password=PASSWORD) \
            .status_code == 302
        assert password_grant(oauth, chain, "dave").status_code == 200
    finally:
        assert s.stop() == 0, s.read_log()
