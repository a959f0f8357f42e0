"""LDAP / Active Directory sign-in (README "Enterprise sign-in: LDAP") against a real slapd on
loopback (slapd_server.py): LDAPS with a test CA, StartTLS, search-then-bind with a service
account and bind by DN template, group -> role mapping, the failure answers (wrong password and
unknown user alike, directory down or frozen -> 503, a wrong CA -> 503), filter and DN
injection, throttling, and the configuration's refusals. slapd missing fails the tests."""
import os
import subprocess

import pytest
import requests

from code_helpers import (BROWSER, authorize, basic_user, browser_login, code_params, make_client,
                          make_user, query_of, redeem, submit)
from conftest import BIN, Portcullis, poll, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
import slapd_server
from slapd_server import SERVICE_DN, SERVICE_PASSWORD, SUFFIX, USERS

ALICE_PW = USERS["alice"][0]
BOB_PW = USERS["bob"][0]


def claims(jwt):
    import base64
    import json
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture(scope="module")
def slapd():
    s = slapd_server.Slapd()
    s.start()
    yield s
    s.clean()


def config_yaml(slapd, tmp, extra=""):
    """Authenticators for every case: search-then-bind over LDAPS (ldap-corp), bind by DN
    template over StartTLS (ldap-tpl), StartTLS against the wrong CA (ldap-wrongca), and a
    server that is not there (ldap-down)."""
    path = os.path.join(tmp, "portcullis.yaml")
    down = f"ldaps://127.0.0.1:{slapd_server.free_port()}"
    with open(path, "w") as f:
        f.write(f"""
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
    connect_timeout_ms: 1000
    operation_timeout_ms: 1500
    pool_size: 2
    roles:
      admins: admin
      "cn=developers, ou=groups, {SUFFIX}": [dev, reader]
  ldap-tpl:
    type: ldap
    url: "{slapd.url}"
    start_tls: true
    ca_file: "{slapd.ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    aliases: [com.networknt.oauth.auth.LdapAuth]
  ldap-wrongca:
    type: ldap
    url: "{slapd.url}"
    start_tls: true
    ca_file: "{slapd.other_ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    aliases: []
  ldaps-wrongca:
    type: ldap
    url: "{slapd.ldaps_url}"
    ca_file: "{slapd.other_ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    aliases: []
  ldap-down:
    type: ldap
    url: "{down}"
    ca_file: "{slapd.ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    connect_timeout_ms: 500
    aliases: []
{extra}""")
    return path


@pytest.fixture
def ldap_oauth(slapd, tmp_path):
    cfg = config_yaml(slapd, str(tmp_path))
    # The service account's password comes from the environment, not the file.
    s = Portcullis(args=["--config", cfg],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD})
    yield OAuthServer(s)
    code = s.stop()
    assert code == 0, s.read_log()


def ldap_client(oauth, name="ldap-corp", client_type="trusted"):
    return make_client(oauth, client_type, authenticateClass=name)


def basic_code(oauth, client, user, password):
    return authorize(oauth, code_params(client[0]), user, password)


def token_for(oauth, client, r):
    assert r.status_code in (302, 303), r.text
    code = query_of(r.headers["Location"])[1]["code"]
    t = redeem(oauth, code, client)
    assert t.status_code == 200, t.text
    return claims(t.json()["access_token"])


# ---- sign-in

def test_basic_login_over_ldaps_gets_a_code_with_roles_from_groups(ldap_oauth):
    client = ldap_client(ldap_oauth)
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "alice", ALICE_PW))
    assert c["user_id"] == "alice" and c["user_type"] == "employee"
    # admins -> admin, developers (named by DN, in another spacing) -> dev reader.
    assert sorted(c["roles"].split()) == ["admin", "dev", "reader"]
    # bob: developers -> dev reader; "unmapped" gives nothing.
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "bob", BOB_PW))
    assert sorted(c["roles"].split()) == ["dev", "reader"]


def test_user_without_mapped_groups_has_no_roles(ldap_oauth):
    client = ldap_client(ldap_oauth)
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "carol", USERS["carol"][0]))
    assert c["user_id"] == "carol" and "roles" not in c


def test_form_login_gets_a_code_and_an_sso_session(ldap_oauth):
    client = ldap_client(ldap_oauth)
    s = requests.Session()
    r = browser_login(ldap_oauth, s, code_params(client[0]), user="alice", password=ALICE_PW)
    c = token_for(ldap_oauth, client, r)
    assert c["user_id"] == "alice" and "admin" in c["roles"].split()
    # The session is re-read from the directory (as the service account): no password again.
    again = authorize(ldap_oauth, code_params(client[0], state="st-2"), headers=BROWSER,
                      session=s)
    c = token_for(ldap_oauth, client, again)
    assert c["user_id"] == "alice" and "admin" in c["roles"].split()


def test_the_user_id_is_the_directory_s_not_as_typed(ldap_oauth):
    client = ldap_client(ldap_oauth)
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "ALICE", ALICE_PW))
    assert c["user_id"] == "alice"


def test_dn_template_bind_over_starttls(ldap_oauth):
    client = ldap_client(ldap_oauth, "ldap-tpl")
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "bob", BOB_PW))
    assert c["user_id"] == "bob"
    s = requests.Session()
    r = browser_login(ldap_oauth, s, code_params(client[0]), user="alice", password=ALICE_PW)
    assert token_for(ldap_oauth, client, r)["user_id"] == "alice"


def test_light_oauth2_class_name_selects_the_ldap_authenticator(ldap_oauth):
    client = ldap_client(ldap_oauth, "com.networknt.oauth.auth.LdapAuth")
    c = token_for(ldap_oauth, client, basic_code(ldap_oauth, client, "bob", BOB_PW))
    assert c["user_id"] == "bob"


def test_local_users_are_not_ldap_users(ldap_oauth):
    make_user(ldap_oauth, "dave", "dave-local-password")
    client = ldap_client(ldap_oauth)
    r = basic_code(ldap_oauth, client, "dave", "dave-local-password")
    assert r.status_code == 401, r.text
    # And an LDAP user does not sign in to a client of the local store.
    local = make_client(ldap_oauth, "trusted")
    assert basic_code(ldap_oauth, local, "alice", ALICE_PW).status_code == 401


# ---- refusals that look alike

def test_wrong_password_and_unknown_user_answer_alike(ldap_oauth):
    client = ldap_client(ldap_oauth)
    for name in ("ldap-corp", "ldap-tpl"):
        client = ldap_client(ldap_oauth, name)
        a = basic_code(ldap_oauth, client, "alice", "wrong-password")
        b = basic_code(ldap_oauth, client, "nobody", "wrong-password")
        assert a.status_code == b.status_code == 401, (a.text, b.text)
        assert a.json() == b.json()
        assert a.json()["code"] == "ERR12016"
        assert a.headers["WWW-Authenticate"] == b.headers["WWW-Authenticate"]
        assert "Location" not in a.headers


def test_form_wrong_password_and_unknown_user_show_the_same_form(ldap_oauth):
    client = ldap_client(ldap_oauth)
    texts = []
    for user in ("alice", "nobody"):
        r = browser_login(ldap_oauth, requests.Session(), code_params(client[0]), user=user,
                          password="wrong-password")
        assert r.status_code == 200, r.text
        assert "The user name or password is incorrect." in r.text
        texts.append(r.text.replace(user, "USER"))
    import re
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # per-request csrf tokens
    assert strip(texts[0]) == strip(texts[1])


def test_empty_password_is_never_an_anonymous_bind(ldap_oauth):
    for name in ("ldap-corp", "ldap-tpl"):
        client = ldap_client(ldap_oauth, name)
        r = basic_code(ldap_oauth, client, "alice", "")
        assert r.status_code == 401, r.text


@pytest.mark.parametrize("user", ["*", "*)(uid=*", "alice)(|(uid=*", "al*", "*)(|(objectClass=*)",
                                  "alice\\", "alice\x00"])
def test_filter_injection_is_refused(ldap_oauth, user):
    client = ldap_client(ldap_oauth)
    # With alice's password: a filter that matched any user would let it through.
    r = basic_code(ldap_oauth, client, user, ALICE_PW)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "ERR12016"


@pytest.mark.parametrize("user", ["alice,ou=people", "uid=alice,ou=people," + SUFFIX, "alice+cn=x",
                                  "#alice", "alice\\"])
def test_dn_injection_is_refused(ldap_oauth, user):
    client = ldap_client(ldap_oauth, "ldap-tpl")
    r = basic_code(ldap_oauth, client, user, ALICE_PW)
    assert r.status_code == 401, r.text


def test_ldap_attempts_are_throttled_like_local_ones(ldap_oauth):
    client = ldap_client(ldap_oauth)
    for _ in range(5):
        assert basic_code(ldap_oauth, client, "bob", "wrong").status_code == 401
    r = basic_code(ldap_oauth, client, "bob", BOB_PW)
    assert r.status_code == 429, r.text
    assert "Retry-After" in r.headers and "Location" not in r.headers
    # Another account from the same address is not locked by bob's failures.
    assert basic_code(ldap_oauth, client, "alice", ALICE_PW).status_code == 302


def test_spelling_variants_of_a_name_share_its_throttle(ldap_oauth):
    # The directory matches uid without case and insignificant spaces: "BOB" and " bob " are
    # bob, so they count against bob's attempts, not a fresh allowance each.
    client = ldap_client(ldap_oauth, "ldap-tpl")
    for user in ("bob", "BOB", " bob", "bob ", "Bob"):
        assert basic_code(ldap_oauth, client, user, "wrong").status_code == 401
    assert basic_code(ldap_oauth, client, "bOb", BOB_PW).status_code == 429


# ---- the directory failing: 503, never "wrong password"

def test_directory_down_is_503_for_basic_and_the_form(ldap_oauth):
    client = ldap_client(ldap_oauth, "ldap-down")
    r = basic_code(ldap_oauth, client, "alice", ALICE_PW)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "temporarily_unavailable"
    assert "Retry-After" in r.headers
    r = browser_login(ldap_oauth, requests.Session(), code_params(client[0]), user="alice",
                      password=ALICE_PW)
    assert r.status_code == 503, r.text
    assert "incorrect" not in r.text
    # Failures of the directory are not counted as guesses: no 429 after many.
    for _ in range(8):
        assert basic_code(ldap_oauth, client, "alice", "x").status_code == 503


def test_wrong_ca_is_refused_with_503(ldap_oauth):
    client = ldap_client(ldap_oauth, "ldap-wrongca")
    r = basic_code(ldap_oauth, client, "alice", ALICE_PW)
    assert r.status_code == 503, r.text
    log = ldap_oauth.s.read_log()
    assert "StartTLS" in log and ALICE_PW not in log
    # LDAPS likewise: the handshake fails before any password is sent.
    client = ldap_client(ldap_oauth, "ldaps-wrongca")
    r = basic_code(ldap_oauth, client, "alice", ALICE_PW)
    assert r.status_code == 503, r.text
    assert ALICE_PW not in ldap_oauth.s.read_log()


def test_frozen_directory_times_out_with_503_then_recovers(ldap_oauth, slapd):
    client = ldap_client(ldap_oauth)
    # A connection in the pool first, so the timeout is an operation's, not a connect's.
    assert basic_code(ldap_oauth, client, "alice", ALICE_PW).status_code == 302
    slapd.pause()
    try:
        # operation_timeout_ms 1500, then a retry on a fresh connection whose TLS handshake
        # meets connect_timeout_ms 1000: a 503 well inside the client's 10 s, not a hang.
        r = basic_code(ldap_oauth, client, "alice", ALICE_PW)
        assert r.status_code == 503, r.text
    finally:
        slapd.resume()
    poll(lambda: basic_code(ldap_oauth, client, "alice", ALICE_PW).status_code == 302,
         "sign-in to work again after the directory resumed")


def test_directory_restart_is_503_then_recovers(ldap_oauth, slapd):
    from concurrent.futures import ThreadPoolExecutor
    client = ldap_client(ldap_oauth)
    # Sign-ins side by side, so that the pool likely keeps more than one connection.
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: basic_code(ldap_oauth, client, "bob", BOB_PW).status_code,
                              range(4)))
    assert codes == [302] * 4
    slapd.stop()
    try:
        r = basic_code(ldap_oauth, client, "bob", BOB_PW)
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "temporarily_unavailable"
    finally:
        slapd.start()
    # The pooled connections died with the server: the next sign-in uses a fresh one, and so
    # does a connection test.
    assert basic_code(ldap_oauth, client, "bob", BOB_PW).status_code == 302
    slapd.stop()
    slapd.start()
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test")
    assert r.json()["connection"] == "ok", r.text


def test_wrong_service_password_is_503_not_wrong_password(slapd, tmp_path):
    cfg = config_yaml(slapd, str(tmp_path))
    s = Portcullis(args=["--config", cfg],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": "not-it"})
    try:
        oauth = OAuthServer(s)
        client = ldap_client(oauth)
        r = basic_code(oauth, client, "alice", ALICE_PW)
        assert r.status_code == 503, r.text
        assert "not-it" not in s.read_log()
    finally:
        s.stop()



# ---- Active Directory's memberOf, the TLS host-name check, the pool's limit

@pytest.fixture
def more_oauth(slapd, tmp_path):
    """A server with three more authenticators: ldap-ad reads groups only from the users'
    memberOf (the memberof overlay keeps it, as Active Directory does; no group search),
    ldap-otherhost reaches slapd at 127.0.0.2, which its certificate (IP:127.0.0.1,
    DNS:localhost, from the trusted CA) does not name, and ldap-pool has one connection,
    through a HoldingProxy the test holds."""
    proxy = slapd_server.HoldingProxy("127.0.0.1", slapd.ldaps_port)
    extra = f"""  ldap-ad:
    type: ldap
    url: "{slapd.ldaps_url}"
    ca_file: "{slapd.ca_file}"
    user_base: "ou=people,{SUFFIX}"
    user_filter: "(uid={{user}})"
    bind_dn: "{SERVICE_DN}"
    member_of_attribute: memberOf
    roles:
      admins: admin
      "cn=developers,ou=groups,{SUFFIX}": [dev, reader]
  ldap-otherhost:
    type: ldap
    url: "{slapd.other_address_url}"
    ca_file: "{slapd.ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    connect_timeout_ms: 2000
  ldap-pool:
    type: ldap
    url: "ldaps://127.0.0.1:{proxy.port}"
    ca_file: "{slapd.ca_file}"
    user_dn_template: "uid={{user}},ou=people,{SUFFIX}"
    pool_size: 1
    # A held TLS handshake waits for connect_timeout_ms; a caller waits operation_timeout_ms
    # for a free connection. The first outlasts the second, so the pool is what answers.
    connect_timeout_ms: 30000
    operation_timeout_ms: 1000
"""
    cfg = config_yaml(slapd, str(tmp_path), extra=extra)
    s = Portcullis(args=["--config", cfg],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_AD_BIND_PASSWORD": SERVICE_PASSWORD})
    try:
        yield OAuthServer(s), proxy
    finally:
        proxy.close()
        assert s.stop() == 0, s.read_log()


def test_roles_come_from_member_of_as_in_active_directory(more_oauth, slapd):
    oauth, _ = more_oauth
    # The directory keeps memberOf (memberof overlay): the groups are not searched for.
    assert sorted(slapd.member_of("alice")) == [f"cn=admins,ou=groups,{SUFFIX}",
                                                f"cn=developers,ou=groups,{SUFFIX}"]
    client = ldap_client(oauth, "ldap-ad")
    c = token_for(oauth, client, basic_code(oauth, client, "alice", ALICE_PW))
    # admins by name, developers by DN.
    assert sorted(c["roles"].split()) == ["admin", "dev", "reader"]
    assert c["user_realm"] == "ldap-ad"
    c = token_for(oauth, client, basic_code(oauth, client, "bob", BOB_PW))
    assert sorted(c["roles"].split()) == ["dev", "reader"]  # "unmapped" maps to nothing
    c = token_for(oauth, client, basic_code(oauth, client, "carol", USERS["carol"][0]))
    assert "roles" not in c


def test_a_certificate_for_another_host_is_refused_with_503(more_oauth):
    oauth, _ = more_oauth
    # The same server, CA and certificate answer at 127.0.0.1 (ldap-corp works)...
    assert basic_code(oauth, ldap_client(oauth), "alice", ALICE_PW).status_code == 302
    # ... but at 127.0.0.2 the certificate names another host: no bind, 503.
    r = basic_code(oauth, ldap_client(oauth, "ldap-otherhost"), "alice", ALICE_PW)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "temporarily_unavailable"
    log = oauth.s.read_log()
    assert "ldap-otherhost" in log and ALICE_PW not in log
    # The form shows the same outage, not "wrong password".
    s = requests.Session()
    r = browser_login(oauth, s, code_params(ldap_client(oauth, "ldap-otherhost")[0]),
                      user="alice", password=ALICE_PW)
    assert r.status_code == 503, r.text
    assert "incorrect" not in r.text


def test_a_busy_pool_answers_503_and_a_free_connection_is_reused(more_oauth):
    from concurrent.futures import ThreadPoolExecutor
    oauth, proxy = more_oauth
    client = ldap_client(oauth, "ldap-pool")
    proxy.hold()
    with ThreadPoolExecutor(1) as pool:
        # The first sign-in takes the only connection and waits in its TLS handshake.
        first = pool.submit(basic_code, oauth, client, "alice", ALICE_PW)
        proxy.wait_held(1)
        # The second finds every connection busy: 503 after operation_timeout_ms, having
        # opened none (the proxy saw one connection).
        r = basic_code(oauth, client, "bob", BOB_PW)
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "temporarily_unavailable"
        assert proxy.accepted == 1
        assert first.running()  # still held: the pool, not a timeout, refused the second
        proxy.release()
        assert first.result().status_code == 302
    assert "ldap.pool_exhausted" in oauth.s.read_log()
    # The connection went back to the pool: the next sign-ins reuse it.
    for user, pw in (("bob", BOB_PW), ("alice", ALICE_PW)):
        assert basic_code(oauth, client, user, pw).status_code == 302
    assert proxy.accepted == 1

# ---- configuration

def check_config(text, tmp_path, env=None):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return run_cli("config", "check", "--config", str(path), env=env)


@pytest.mark.parametrize("body,key", [
    ("type: ldap\n    url: ldap://127.0.0.1:1\n    user_dn_template: 'uid={user}'", "url"),
    ("type: ldap\n    url: ldaps://h\n    user_dn_template: 'uid=x'", "user_dn_template"),
    ("type: ldap\n    url: ldaps://h\n    user_base: dc=x\n    user_filter: 'uid={user}'",
     "user_filter"),
    ("type: ldap\n    url: ldaps://h\n    user_dn_template: 'uid={user}'\n    pool_size: 0",
     "pool_size"),
    ("type: ldap\n    url: ldaps://h\n    user_dn_template: 'uid={user}'\n    colour: red",
     "colour"),
    ("type: kerberos\n    url: x", "type"),
    ("url: ldaps://h", "type"),
])
def test_bad_authenticator_settings_stop_start_up_naming_the_key(tmp_path, body, key):
    r = check_config("authenticators:\n  corp:\n    " + body + "\n", tmp_path)
    assert r.returncode != 0
    assert f"authenticators.corp.{key}" in r.stderr, r.stderr


def test_env_overrides_name_the_variable_and_hide_secrets(tmp_path):
    base = "authenticators:\n  ldap-corp:\n    type: ldap\n    url: ldaps://h\n" \
           "    user_base: dc=x\n    bind_dn: cn=svc\n"
    r = check_config(base, tmp_path)
    assert r.returncode != 0 and "authenticators.ldap-corp.bind_password" in r.stderr
    r = check_config(base, tmp_path,
                     env={"PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": "pw-from-env"})
    assert r.returncode == 0, r.stderr
    assert "unknown environment variable" not in r.stderr
    r = check_config(base, tmp_path, env={"PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": "x",
                                          "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_POOL_SIZE": "zero"})
    assert r.returncode != 0
    assert "authenticators.ldap-corp.pool_size (env PORTCULLIS_AUTHENTICATORS_LDAP_CORP_POOL_SIZE)" \
        in r.stderr, r.stderr


def test_unreadable_ca_file_stops_the_server(slapd, tmp_path):
    cfg = config_yaml(slapd, str(tmp_path))
    path = tmp_path / "bad.yaml"
    path.write_text(open(cfg).read().replace(slapd.ca_file, "/nonexistent/ca.pem"))
    try:
        s = Portcullis(args=["--config", str(path)],
                       env={"PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD})
    except RuntimeError as e:
        assert "ca_file" in str(e)
    else:
        s.stop()
        pytest.fail("the server started with an unreadable ca_file")


# ---- portcullis auth list / test

def auth_cli(slapd, tmp_path, *args, stdin=None, env=None):
    cfg = config_yaml(slapd, str(tmp_path))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    full_env["PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD"] = SERVICE_PASSWORD
    full_env.update(env or {})
    return subprocess.run([BIN, "auth", *args, "--config", cfg], input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=60)


def test_auth_list_shows_authenticators_without_secrets(slapd, tmp_path):
    import json
    r = auth_cli(slapd, tmp_path, "list")
    assert r.returncode == 0, r.stderr
    listed = {a["name"]: a for a in json.loads(r.stdout)}
    assert set(listed) == {"ldap-corp", "ldap-tpl", "ldap-wrongca", "ldaps-wrongca", "ldap-down"}
    corp = listed["ldap-corp"]
    assert corp["type"] == "ldap" and corp["tls"] == "ldaps" and corp["mode"] == "search then bind"
    assert corp["serviceAccount"] == SERVICE_DN
    assert listed["ldap-tpl"]["tls"] == "starttls"
    assert SERVICE_PASSWORD not in r.stdout


def test_auth_test_checks_the_connection_and_a_password_from_stdin(slapd, tmp_path):
    r = auth_cli(slapd, tmp_path, "test", "ldap-corp", "--user", "alice", stdin=ALICE_PW + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "connection: ok" in r.stdout
    assert "sign-in: ok: user_id=alice" in r.stdout and "admin" in r.stdout
    r = auth_cli(slapd, tmp_path, "test", "ldap-corp", "--user", "alice", stdin="wrong\n")
    assert r.returncode == 1 and "sign-in: refused" in r.stdout, r.stdout
    # From the environment, named by --password-env.
    r = auth_cli(slapd, tmp_path, "test", "ldap-tpl", "--user", "bob", "--password-env", "PW",
                 env={"PW": BOB_PW})
    assert r.returncode == 0 and "user_id=bob" in r.stdout, r.stdout + r.stderr
    # There is no option that takes the password itself.
    r = auth_cli(slapd, tmp_path, "test", "ldap-corp", "--user", "alice", "--password", ALICE_PW)
    assert r.returncode != 0 and "sign-in: ok" not in r.stdout


def test_auth_test_reports_an_unreachable_or_untrusted_server(slapd, tmp_path):
    r = auth_cli(slapd, tmp_path, "test", "ldap-down")
    assert r.returncode == 1 and "connection: FAILED" in r.stdout, r.stdout
    r = auth_cli(slapd, tmp_path, "test", "ldap-wrongca")
    assert r.returncode == 1 and "connection: FAILED" in r.stdout and "StartTLS" in r.stdout
    r = auth_cli(slapd, tmp_path, "test", "ldap-corp")
    assert r.returncode == 0 and "connection: ok" in r.stdout, r.stdout
    r = auth_cli(slapd, tmp_path, "test", "nope")
    assert r.returncode == 2 and "no authenticator named 'nope'" in r.stderr


# ---- light-oauth2 import

def test_import_maps_light_oauth2_ldap_class_to_the_configured_authenticator(slapd, tmp_path):
    import json
    from test_registry_common import MASTER_KEY
    from test_registry_import import light4j_hash
    cfg = config_yaml(slapd, str(tmp_path))
    store = "sqlite:" + str(tmp_path / "imported.db")
    dump = tmp_path / "light-oauth2.sql"
    client_id = "6e9d1db3-2feb-4c1f-a5ad-9e93ae8ca59d"
    dump.write_text(f"""INSERT INTO client (client_id, client_type, client_profile, client_name,
  client_desc, scope, redirect_uri, owner_id, host, client_secret, authenticate_class)
VALUES('{client_id}', 'trusted', 'webserver', 'Market', 'LDAP users', 'petstore.r',
  'http://127.0.0.1:9/cb', 'admin', 'lightapi.net', '{light4j_hash("s3cret")}',
  'com.networknt.oauth.auth.MarketPlaceAuth');
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_KEYS_MASTER_KEY"] = MASTER_KEY
    env["PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD"] = SERVICE_PASSWORD
    r = subprocess.run([BIN, "import", "light-oauth2", "--from", str(dump), "--create",
                        "--store", store, "--config", cfg], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "is now the authenticator ldap-corp" in r.stdout + r.stderr
    r = subprocess.run([BIN, "client", "get", client_id, "--json", "--store", store], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["authenticateClass"] == "ldap-corp"
    s = Portcullis(args=["--config", cfg], store=store,
                   env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD})
    try:
        oauth = OAuthServer(s)
        r = authorize(oauth, code_params(client_id), "alice", ALICE_PW)
        c = token_for(oauth, (client_id, "s3cret"), r)
        assert c["user_id"] == "alice" and "admin" in c["roles"].split()
    finally:
        s.stop()


# ---- admin API

def test_admin_api_lists_and_tests_authenticators(ldap_oauth):
    r = requests.get(ldap_oauth.url + "/oauth2/authenticators", timeout=10)
    assert r.status_code == 401
    r = ldap_oauth.admin("GET", "/oauth2/authenticators")
    assert r.status_code == 200, r.text
    names = {a["name"]: a for a in r.json()}
    assert set(names) == {"ldap-corp", "ldap-tpl", "ldap-wrongca", "ldaps-wrongca", "ldap-down"}
    assert SERVICE_PASSWORD not in r.text
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test")
    assert r.status_code == 200 and r.json()["connection"] == "ok", r.text
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test",
                         json={"userId": "alice", "password": ALICE_PW})
    body = r.json()
    assert body["signIn"] == "ok" and body["userId"] == "alice" and "admin" in body["roles"]
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test",
                         json={"userId": "alice", "password": "wrong"})
    assert r.json()["signIn"] == "refused"
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-down/test")
    assert r.json()["connection"] == "failed" and r.json()["reason"]
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-wrongca/test")
    assert r.json()["connection"] == "failed" and "StartTLS" in r.json()["reason"]
    assert ldap_oauth.admin("POST", "/oauth2/authenticators/nope/test").status_code == 404
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test", json={"userId": "x"})
    assert r.status_code == 400


def test_admin_api_sign_in_tests_are_throttled(ldap_oauth):
    for _ in range(5):
        r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test",
                             json={"userId": "carol", "password": "wrong"})
        assert r.json()["signIn"] == "refused"
    r = ldap_oauth.admin("POST", "/oauth2/authenticators/ldap-corp/test",
                         json={"userId": "carol", "password": USERS["carol"][0]})
    assert r.json()["signIn"] == "throttled"


# ---- several authenticators: type chain

CHAINS = """  corp-or-local:
    type: chain
    members: [ldap-corp, default]
  down-or-local:
    type: chain
    members: [ldap-down, default]
"""


@pytest.fixture
def chain_oauth(slapd, tmp_path):
    cfg = config_yaml(slapd, str(tmp_path), extra=CHAINS)
    s = Portcullis(args=["--config", cfg],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": SERVICE_PASSWORD})
    yield OAuthServer(s)
    code = s.stop()
    assert code == 0, s.read_log()


def test_a_chain_signs_in_directory_and_local_users(chain_oauth):
    make_user(chain_oauth, "dave", "dave-local-password", roles="user")
    client = ldap_client(chain_oauth, "corp-or-local")
    c = token_for(chain_oauth, client, basic_code(chain_oauth, client, "alice", ALICE_PW))
    assert c["user_id"] == "alice" and "admin" in c["roles"].split()
    c = token_for(chain_oauth, client,
                  basic_code(chain_oauth, client, "dave", "dave-local-password"))
    assert c["user_id"] == "dave" and c["roles"] == "user"
    a = basic_code(chain_oauth, client, "dave", "wrong")
    b = basic_code(chain_oauth, client, "nobody", "wrong")
    assert a.status_code == b.status_code == 401 and a.json() == b.json()
    # The chain's SSO session: signed in once by the form, then no password.
    s = requests.Session()
    r = browser_login(chain_oauth, s, code_params(client[0]), user="dave",
                      password="dave-local-password")
    assert token_for(chain_oauth, client, r)["user_id"] == "dave"
    again = authorize(chain_oauth, code_params(client[0], state="st-2"), headers=BROWSER,
                      session=s)
    assert token_for(chain_oauth, client, again)["user_id"] == "dave"


def test_a_chain_with_a_directory_down_is_503_unless_another_member_accepts(chain_oauth):
    make_user(chain_oauth, "dave", "dave-local-password", roles="user")
    client = ldap_client(chain_oauth, "down-or-local")
    c = token_for(chain_oauth, client,
                  basic_code(chain_oauth, client, "dave", "dave-local-password"))
    assert c["user_id"] == "dave"
    # Nobody accepted and the directory could not answer: 503, not "wrong password".
    r = basic_code(chain_oauth, client, "alice", ALICE_PW)
    assert r.status_code == 503, r.text


def test_bad_chains_stop_start_up(tmp_path):
    base = ("authenticators:\n  l:\n    type: ldap\n    url: ldaps://h\n"
            "    user_dn_template: 'uid={user}'\n")
    for body, expected in [
        ("  c:\n    type: chain\n", "authenticators.c.members: required"),
        ("  c:\n    type: chain\n    members: [l, nope]\n", "no authenticator 'nope'"),
        ("  c:\n    type: chain\n    members: [l, l]\n", "listed twice"),
        ("  c:\n    type: chain\n    members: [l]\n  d:\n    type: chain\n    members: [c]\n",
         "chains do not nest"),
        ("  c:\n    type: chain\n    members: [l]\n    url: x\n", "authenticators.c.url"),
    ]:
        r = check_config(base + body, tmp_path)
        assert r.returncode != 0 and expected in r.stderr, (body, r.stderr)
