"""Kerberos / SPNEGO sign-in at GET /oauth2/code (README "Enterprise sign-in: Kerberos /
SPNEGO"), black-box, against a real MIT KDC on loopback (kdc.py) and `curl --negotiate`.

Checked: a user ticket (kinit) gets a code whose token carries the local account's roles; the
challenges (Negotiate before Basic for API callers, the sign-in form as a 401 with Negotiate for
browsers), HTTP Basic still working, consent rules unchanged for clients that are not trusted;
refusals of an expired ticket (the server's clock moved past its end by libfaketime), a replayed
token, a ticket for another service principal, a ticket of a foreign realm (a real cross-realm
ticket, accepted once the realm is allowed), a Kerberos user without an account, a multi-round
SPNEGO exchange, an NTLM token and garbage; start-up errors that name the key; and that without
SPNEGO configured the endpoint answers as before. Account mapping, with a real slapd
(slapd_server.py) where directory accounts are needed: a user of another allowed realm keeps
the realm in its name (never the local user of the same name), a principal differing in case
from a directory uid is refused, spnego.roles_from applies only to clients of the built-in
store, and a directory user's roles are not replaced at the token endpoint by a same-named
local account's.
"""
import base64
import json
import os
import re
import subprocess
import urllib.parse

import pytest
import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, basic_user, code_params,
                          header_values, make_client, make_user, query_of, redeem)
from conftest import Portcullis, poll
from kdc import FOREIGN, REALM, SERVICE, Kdc, tool
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer
import slapd_server

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
JSON = {"Accept": "application/json"}
ALICE = f"alice@{REALM}"
BOB = f"bob@{FOREIGN}"
CAROL = f"carol@{REALM}"


@pytest.fixture(scope="module")
def kdc(tmp_path_factory):
    k = Kdc(tmp_path_factory.mktemp("krb"))
    yield k
    k.stop()


def start(kdc, spnego=True, env=None, **kw):
    e = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
         "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
    e.update({k: v for k, v in kdc.env().items() if k.startswith("KRB5")})
    if spnego:
        e.update({"PORTCULLIS_SPNEGO_KEYTAB": kdc.keytab,
                  "PORTCULLIS_SPNEGO_SERVICE_PRINCIPAL": SERVICE})
    e.update(env or {})
    return OAuthServer(Portcullis(env=e, **kw))


@pytest.fixture(scope="module")
def slapd():
    s = slapd_server.Slapd()
    s.start()
    yield s
    s.clean()


LDAP_ENV = {"PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD": slapd_server.SERVICE_PASSWORD,
            "PORTCULLIS_AUTHENTICATORS_LDAP_OTHER_BIND_PASSWORD": slapd_server.SERVICE_PASSWORD}


def ldap_config(slapd):
    """Two LDAP authenticators on the same directory (search-then-bind over LDAPS) that map
    groups to different roles, for tests that combine Kerberos with directory accounts."""
    suffix = slapd_server.SUFFIX
    out = "authenticators:\n"
    for name, roles in (("ldap-corp", "admins: admin\n      developers: [dev, reader]"),
                        ("ldap-other", "admins: other-admin")):
        out += f"""  {name}:
    type: ldap
    url: "{slapd.ldaps_url}"
    ca_file: "{slapd.ca_file}"
    user_base: "ou=people,{suffix}"
    user_filter: "(&(objectClass=inetOrgPerson)(uid={{user}}))"
    bind_dn: "{slapd_server.SERVICE_DN}"
    group_base: "ou=groups,{suffix}"
    group_filter: "(member={{dn}})"
    roles:
      {roles}
"""
    return out


def start_with_ldap(kdc, slapd, tmp_path, env=None):
    cfg = tmp_path / "portcullis.yaml"
    cfg.write_text(ldap_config(slapd))
    return start(kdc, args=["--config", str(cfg)], env={**LDAP_ENV, **(env or {})})


def make_principal_user(oauth, principal, roles, email):
    """A user whose id is a whole principal (name@REALM); the fixture's email would not parse."""
    r = oauth.admin("POST", "/oauth2/user", json={
        "userId": principal, "userType": "employee", "firstName": "A", "lastName": "B",
        "email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "roles": roles})
    assert r.status_code == 200, r.text


def code_of(answer):
    assert answer.status == 302, answer.body
    return query_of(answer.values("Location")[0])[1]["code"]


@pytest.fixture
def oauth(kdc):
    o = start(kdc)
    yield o
    assert o.s.stop() == 0, o.s.read_log()


class Answer:
    def __init__(self, status, headers, body, sent):
        self.status, self.headers, self.body, self.sent = status, headers, body, sent

    def values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


def negotiate(kdc, oauth, params, cache, host="localhost", accept="application/json"):
    """GET /oauth2/code with `curl --negotiate -u :` and the tickets of `cache`, as an API
    caller. `host` picks the service principal curl asks for (HTTP/<host>). Returns the last
    answer and the Negotiate token curl sent (None when it sent none)."""
    port = oauth.s.port
    url = f"http://{host}:{port}/oauth2/code?" + urllib.parse.urlencode(params)
    hdrs = os.path.join(oauth.s.tmp, "curl-headers")
    body = os.path.join(oauth.s.tmp, "curl-body")
    r = subprocess.run([tool("curl"), "-sS", "-v", "--negotiate", "-u", ":", "-H",
                        "Accept: " + accept, "--resolve", f"{host}:{port}:127.0.0.1",
                        "-o", body, "-D", hdrs, "-w", "%{http_code}", url],
                       env=kdc.env(KRB5CCNAME=cache), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    sent = re.findall(r"^> Authorization: Negotiate (\S+)", r.stderr, re.M)
    with open(hdrs, newline="") as f:
        blocks = f.read().strip().split("\r\n\r\n")
    headers = [tuple(line.split(": ", 1)) for line in blocks[-1].split("\r\n")[1:] if ": " in line]
    with open(body) as f:
        text = f.read()
    return Answer(int(r.stdout), headers, text, sent[-1] if sent else None)


def token_claims(oauth, code, client):
    r = redeem(oauth, code, client)
    assert r.status_code == 200, (r.text, oauth.s.read_log()[-4000:])
    payload = r.json()["access_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def refused(answer, status=401, text=None):
    got = answer.status if isinstance(answer, Answer) else answer.status_code
    assert got == status, (got, answer.body if isinstance(answer, Answer) else answer.text)
    body = answer.json()
    assert body["error"] in ("login_required", "access_denied"), body
    if text:
        assert text in body["error_description"], body
    return body


def with_negotiate(oauth, params, token, headers=JSON):
    h = dict(headers)
    h["Authorization"] = "Negotiate " + token
    return authorize(oauth, params, headers=h)


# ---- A ticket gets a code


def test_a_kerberos_ticket_gets_a_code_with_the_accounts_roles(kdc, oauth):
    make_user(oauth, roles="user admin")
    client = make_client(oauth, "trusted")
    a = negotiate(kdc, oauth, code_params(client[0], state="krb-1"), kdc.kinit(ALICE))
    assert a.status == 302, (a.body, oauth.s.read_log())
    base, q = query_of(a.values("Location")[0])
    assert base == REDIRECT and q["state"] == "krb-1" and q["code"], q
    # Mutual authentication: the acceptor's answer token (RFC 4559 §5).
    assert any(v.startswith("Negotiate ") for v in a.values("WWW-Authenticate")), a.headers
    claims = token_claims(oauth, q["code"], client)
    assert claims["user_id"] == USER and claims["roles"] == "user admin", claims
    assert "negotiate_login" in oauth.s.read_log()


def test_challenges_name_negotiate_and_basic_still_works(kdc, oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    # API callers: Negotiate first, then light-oauth2's Basic realm.
    r = authorize(oauth, code_params(client[0]), headers=JSON)
    assert r.status_code == 401, r.text
    assert header_values(r, "WWW-Authenticate") == [
        "Negotiate", 'Basic realm="OAuth", charset="UTF-8"'], r.headers
    assert "Kerberos" in r.json()["error_description"]
    # A browser: the sign-in form as the body of a 401 Negotiate (no Basic: no password dialog).
    r = authorize(oauth, code_params(client[0]), headers=BROWSER)
    assert r.status_code == 401 and 'name="j_password"' in r.text, r.text
    assert header_values(r, "WWW-Authenticate") == ["Negotiate"], r.headers
    # HTTP Basic as before, and a wrong password's 401 names Negotiate too.
    r = authorize(oauth, code_params(client[0]), user=USER, password=PASSWORD)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text
    r = authorize(oauth, code_params(client[0]), user=USER, password="wrong")
    assert r.status_code == 401 and header_values(r, "WWW-Authenticate")[0] == "Negotiate"


def test_a_browser_that_answers_the_challenge_gets_the_code(kdc, oauth):
    """What a browser set up for Kerberos does: the 401 sign-in page's Negotiate challenge is
    answered with a ticket."""
    make_user(oauth)
    client = make_client(oauth, "trusted")
    a = negotiate(kdc, oauth, code_params(client[0], state="b"), kdc.kinit(ALICE),
                  accept=BROWSER["Accept"])
    assert a.status == 302 and a.sent, a.body
    _, q = query_of(a.values("Location")[0])
    assert q["code"] and q["state"] == "b", q


def test_untrusted_clients_still_need_recorded_consent(kdc, oauth):
    make_user(oauth)
    client = make_client(oauth, "confidential")
    a = negotiate(kdc, oauth, code_params(client[0], state="c"), kdc.kinit(ALICE))
    assert a.status == 302, a.body
    _, q = query_of(a.values("Location")[0])
    assert q["error"] == "consent_required" and "code" not in q, q


def test_roles_from_names_the_authenticator_accounts_come_from(kdc):
    o = start(kdc, env={"PORTCULLIS_SPNEGO_ROLES_FROM": "default"})
    try:
        make_user(o, roles="auditor")
        client = make_client(o, "trusted")
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(ALICE))
        assert a.status == 302, a.body
        _, q = query_of(a.values("Location")[0])
        assert token_claims(o, q["code"], client)["roles"] == "auditor"
    finally:
        assert o.s.stop() == 0, o.s.read_log()


# ---- Refusals


def test_an_expired_ticket_is_refused(kdc, tmp_path):
    """The server runs under libfaketime; its clock moves past the ticket's end (10 h)."""
    assert os.path.exists(FAKETIME_LIB), "libfaketime is missing (scripts/deps.sh test)"
    clock = tmp_path / "faketime"
    clock.write_text("+0\n")
    o = start(kdc, env={"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": str(clock),
                        "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    try:
        make_user(o)
        client = make_client(o, "trusted")
        cache = kdc.kinit(ALICE)
        assert negotiate(kdc, o, code_params(client[0]), cache).status == 302
        clock.write_text("+11h\n")
        a = negotiate(kdc, o, code_params(client[0]), cache)
        assert a.sent, "curl sent no ticket"
        refused(a, 401, "expired")
        assert "Negotiate" in a.values("WWW-Authenticate"), a.headers
        log = o.s.read_log()
        assert "negotiate_refused" in log and a.sent not in log, log
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_a_replayed_token_is_refused(kdc, oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    a = negotiate(kdc, oauth, code_params(client[0]), kdc.kinit(ALICE))
    assert a.status == 302 and a.sent, a.body
    # The same authenticator again (the replay cache remembers it).
    r = with_negotiate(oauth, code_params(client[0]), a.sent)
    refused(r, 401, "not accepted")
    assert "Negotiate" in header_values(r, "WWW-Authenticate")
    assert a.sent not in oauth.s.read_log()


def test_a_ticket_for_another_service_is_refused(kdc, oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    # curl asks for HTTP/127.0.0.1@EXAMPLE.TEST: a real ticket, for a principal not in the keytab.
    a = negotiate(kdc, oauth, code_params(client[0]), kdc.kinit(ALICE), host="127.0.0.1")
    assert a.sent, "curl sent no ticket"
    refused(a, 401, "not accepted")


def test_a_foreign_realm_is_refused_until_allowed(kdc):
    o = start(kdc)
    try:
        make_user(o, user_id="bob")
        client = make_client(o, "trusted")
        cache = kdc.kinit(BOB)  # bob@FOREIGN.TEST, a cross-realm ticket for HTTP/localhost
        a = negotiate(kdc, o, code_params(client[0]), cache)
        assert a.sent, "curl sent no ticket"
        refused(a, 401, "realm")
        assert BOB in o.s.read_log()
    finally:
        assert o.s.stop() == 0, o.s.read_log()
    # The same ticket signs in once FOREIGN.TEST is allowed (so the refusal above was the realm),
    # as the whole principal: only the service's own realm is stripped.
    o = start(kdc, env={"PORTCULLIS_SPNEGO_REALMS": f"{REALM}, {FOREIGN}"})
    try:
        make_principal_user(o, BOB, "user", "bob.foreign@example.com")
        client = make_client(o, "trusted")
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(BOB))
        assert a.status == 302 and "code=" in a.values("Location")[0], a.body
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_a_foreign_realm_user_is_not_the_local_user_of_the_same_name(kdc):
    """alice@FOREIGN.TEST (an allowed realm) must not sign in as the local alice, whose account
    belongs to alice@EXAMPLE.TEST; she is the user "alice@FOREIGN.TEST"."""
    o = start(kdc, env={"PORTCULLIS_SPNEGO_REALMS": f"{REALM} {FOREIGN}"})
    try:
        make_user(o, roles="user admin")  # alice, of EXAMPLE.TEST
        client = make_client(o, "trusted")
        foreign = f"alice@{FOREIGN}"
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(foreign))
        assert a.sent, "curl sent no ticket"
        refused(a, 403, "no account")
        # With an account of her own she signs in as herself, never with alice's roles.
        make_principal_user(o, foreign, "guest", "alice.foreign@example.com")
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(foreign))
        assert a.status == 302, a.body
        claims = token_claims(o, query_of(a.values("Location")[0])[1]["code"], client)
        assert claims["user_id"] == foreign and claims["roles"] == "guest", claims
        # The home realm is still stripped.
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(ALICE))
        assert a.status == 302, a.body
        claims = token_claims(o, query_of(a.values("Location")[0])[1]["code"], client)
        assert claims["user_id"] == USER and claims["roles"] == "user admin", claims
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_a_principal_differing_in_case_is_not_the_directory_user(kdc, slapd, tmp_path):
    """LDAP finds uid=ALICE case-insensitively and answers with the stored uid "alice": the
    principal ALICE@EXAMPLE.TEST (another Kerberos user) must not sign in as alice."""
    o = start_with_ldap(kdc, slapd, tmp_path)
    try:
        client = make_client(o, "trusted", authenticateClass="ldap-corp")
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(f"ALICE@{REALM}"))
        assert a.sent, "curl sent no ticket"
        refused(a, 403, "no account")
        assert "negotiate_name_mismatch" in o.s.read_log()
        # alice@EXAMPLE.TEST herself is the directory's alice, with its group roles.
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(ALICE))
        assert a.status == 302, a.body
        claims = token_claims(o, query_of(a.values("Location")[0])[1]["code"], client)
        assert claims["user_id"] == "alice", claims
        assert sorted(claims["roles"].split()) == ["admin", "dev", "reader"], claims
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_a_kerberos_user_without_an_account_is_refused(kdc, oauth):
    make_user(oauth)  # alice only
    client = make_client(oauth, "trusted")
    a = negotiate(kdc, oauth, code_params(client[0]), kdc.kinit(CAROL))
    body = refused(a, 403, "no account")
    assert body["error"] == "access_denied"


def der(tag, content):
    n = len(content)
    if n < 128:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def test_multi_round_spnego_and_other_tokens_are_refused(kdc, oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted")
    params = code_params(client[0])
    # SPNEGO NegTokenInit offering Kerberos without an initial token: it needs a second round.
    krb5_oid = der(0x06, bytes.fromhex("2a864886f712010202"))
    init = der(0x30, der(0xA0, der(0x30, krb5_oid)))
    spnego = der(0x60, der(0x06, bytes.fromhex("2b0601050502")) + der(0xA0, init))
    r = with_negotiate(oauth, params, base64.b64encode(spnego).decode())
    refused(r, 401, "Multi-round")
    # NTLM (what a browser outside the domain may send), garbage, a huge token.
    ntlm = base64.b64encode(b"NTLMSSP\x00\x01\x00\x00\x00" + b"\x00" * 28).decode()
    for token, text in ((ntlm, None), ("!!!not base64!!!", "base64"), ("YII=", None)):
        r = with_negotiate(oauth, params, token)
        refused(r, 401, text)
        assert header_values(r, "WWW-Authenticate")[0] == "Negotiate"
    # A token larger than the server's header limit never reaches GSS-API.
    assert with_negotiate(oauth, params, "A" * 70000).status_code == 431
    # A browser whose Kerberos attempt fails gets the sign-in form, not JSON.
    r = with_negotiate(oauth, params, ntlm, headers=BROWSER)
    assert r.status_code == 401 and 'name="j_password"' in r.text, r.text
    assert "not accepted" in r.text
    assert "negotiate_refused" in oauth.s.read_log()


# ---- Start-up errors, and the server without SPNEGO


def start_fails(kdc, env):
    with pytest.raises(RuntimeError) as e:
        start(kdc, env=env)
    return str(e.value)


def test_bad_keytab_or_principal_stops_the_start(kdc, tmp_path):
    msg = start_fails(kdc, {"PORTCULLIS_SPNEGO_KEYTAB": str(tmp_path / "missing.keytab")})
    assert "spnego.keytab" in msg and "missing.keytab" in msg, msg
    unreadable = tmp_path / "unreadable.keytab"
    unreadable.write_bytes(open(kdc.keytab, "rb").read())
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads any file
        msg = start_fails(kdc, {"PORTCULLIS_SPNEGO_KEYTAB": str(unreadable)})
        assert "spnego.keytab" in msg, msg
    msg = start_fails(kdc, {"PORTCULLIS_SPNEGO_SERVICE_PRINCIPAL": f"HTTP/other@{REALM}"})
    assert "spnego.keytab" in msg and f"HTTP/other@{REALM}" in msg, msg
    msg = start_fails(kdc, {"PORTCULLIS_SPNEGO_SERVICE_PRINCIPAL": "HTTP/localhost"})
    assert "spnego.service_principal" in msg, msg
    msg = start_fails(kdc, {"PORTCULLIS_SPNEGO_ROLES_FROM": "ldap-nowhere"})
    assert "spnego.roles_from" in msg and "ldap-nowhere" in msg, msg


def test_without_spnego_the_endpoint_answers_as_before(kdc):
    o = start(kdc, spnego=False)
    try:
        make_user(o)
        client = make_client(o, "trusted")
        params = code_params(client[0])
        r = authorize(o, params, headers=JSON)
        assert r.status_code == 401
        assert header_values(r, "WWW-Authenticate") == ['Basic realm="OAuth", charset="UTF-8"']
        assert "Kerberos" not in r.json()["error_description"]
        r = authorize(o, params, headers=BROWSER)
        assert r.status_code == 200 and 'name="j_password"' in r.text
        assert "WWW-Authenticate" not in r.headers
        # A real ticket is not a credential here: the answer is Basic's 401.
        a = negotiate(kdc, o, params, kdc.kinit(ALICE))
        assert a.status == 401, a.body
        assert a.values("WWW-Authenticate") == ['Basic realm="OAuth", charset="UTF-8"']
        # A Negotiate header sent anyway is not a credential here.
        r = with_negotiate(o, params, "YII=")
        assert r.status_code == 401
        assert header_values(r, "WWW-Authenticate") == ['Basic realm="OAuth", charset="UTF-8"']
        r = authorize(o, params, user=USER, password=PASSWORD)
        assert r.status_code == 302 and "code=" in r.headers["Location"]
    finally:
        assert o.s.stop() == 0, o.s.read_log()


# ---- Account sources: spnego.roles_from, and the token endpoint reading the user again


def test_roles_from_directory_user_keeps_directory_roles_at_redemption(kdc, slapd, tmp_path):
    """spnego.roles_from = an LDAP authenticator: the code is the directory's alice, so the token
    endpoint must not swap in the roles of the user store's account that has the same name."""
    o = start_with_ldap(kdc, slapd, tmp_path, env={"PORTCULLIS_SPNEGO_ROLES_FROM": "ldap-corp"})
    try:
        make_user(o, roles="user superuser")  # a local "alice", someone else
        client = make_client(o, "trusted")  # the built-in authenticator: roles_from applies
        claims = token_claims(o, code_of(negotiate(kdc, o, code_params(client[0]),
                                                   kdc.kinit(ALICE))), client)
        assert claims["user_id"] == "alice", claims
        assert sorted(claims["roles"].split()) == ["admin", "dev", "reader"], claims
        # The same holds for a password sign-in by a client of the LDAP authenticator.
        ldap_client = make_client(o, "trusted", authenticateClass="ldap-corp")
        r = authorize(o, code_params(ldap_client[0]), "alice", slapd_server.USERS["alice"][0])
        assert r.status_code == 302, r.text
        claims = token_claims(o, query_of(r.headers["Location"])[1]["code"], ldap_client)
        assert sorted(claims["roles"].split()) == ["admin", "dev", "reader"], claims
    finally:
        assert o.s.stop() == 0, o.s.read_log()


def test_roles_from_does_not_override_a_clients_own_authenticator(kdc, slapd, tmp_path):
    """A client that names its authenticator (authenticateClass) gets its users from it, even
    under spnego.roles_from; only clients of the built-in user store take roles_from."""
    o = start_with_ldap(kdc, slapd, tmp_path, env={"PORTCULLIS_SPNEGO_ROLES_FROM": "ldap-corp"})
    try:
        other = make_client(o, "trusted", authenticateClass="ldap-other")
        claims = token_claims(o, code_of(negotiate(kdc, o, code_params(other[0]),
                                                   kdc.kinit(ALICE))), other)
        assert claims["user_id"] == "alice" and claims["roles"] == "other-admin", claims
    finally:
        assert o.s.stop() == 0, o.s.read_log()


@pytest.mark.parametrize("listed,required", [("ldap-corp", True), ("ldap-other", False)])
def test_roles_from_directory_is_the_realm_second_factor_realms_sees(kdc, slapd, tmp_path,
                                                                     listed, required):
    """code.second_factor_realms names the directory spnego.roles_from reads accounts from: a
    ticket for a client of the built-in store then needs the form with a second factor, since
    the code and token are that directory's user. Another directory listed changes nothing."""
    o = start_with_ldap(kdc, slapd, tmp_path, env={"PORTCULLIS_SPNEGO_ROLES_FROM": "ldap-corp",
                                                   "PORTCULLIS_CODE_SECOND_FACTOR_REALMS": listed})
    try:
        client = make_client(o, "trusted")  # the built-in authenticator: roles_from applies
        a = negotiate(kdc, o, code_params(client[0]), kdc.kinit(ALICE))
        if required:
            assert a.status == 403 and a.json()["error"] == "interaction_required", a.body
            assert "code=" not in "".join(a.values("Location"))
        else:
            claims = token_claims(o, code_of(a), client)
            assert claims["user_id"] == "alice", claims
    finally:
        assert o.s.stop() == 0, o.s.read_log()
