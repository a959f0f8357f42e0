"""The registry CLI on the configured store: `portcullis client|service|user|provider|audit`,
--json output, secrets read from stdin, and a server on the same store seeing the result."""
import json
import os
import tempfile

import pytest
import requests

from test_registry_common import (Registry, basic, cli, err, new_cli_store, require_cli,
                                  start_registry)


@pytest.fixture
def store():
    require_cli("client")
    return new_cli_store()


def test_cli_client_lifecycle_reaches_the_server(store):
    tmp, url = store
    r = cli("client", "create", "--type", "trusted", "--profile", "service", "--name", "cli",
            "--host", "lightapi.net", "--scope", "billing.r", "--grant-type", "client_credentials",
            "--json", store=url)
    assert r.returncode == 0, r.stderr
    c = json.loads(r.stdout)
    cid, secret = c["clientId"], c["clientSecret"]
    assert len(secret) >= 43 and "shown once" in r.stderr
    r = cli("client", "list", store=url)
    assert r.returncode == 0 and cid in r.stdout and secret not in r.stdout
    r = cli("client", "get", cid, "--json", store=url)
    assert json.loads(r.stdout)["grantTypes"] == ["client_credentials"]
    assert "clientSecret" not in json.loads(r.stdout)
    assert cli("client", "verify-secret", cid, store=url, stdin=secret).returncode == 0
    assert cli("client", "verify-secret", cid, store=url, stdin="nope").returncode == 1

    # The server, on the same store and master key, accepts the CLI's client and secret.
    s = start_registry(store=url, tmp=tmp)
    try:
        r = requests.post(s.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": basic(cid, secret)}, timeout=10)
        assert r.status_code == 200, r.text
        audit = Registry(s).get(f"/oauth2/audit?entityId={cid}").json()
        assert audit["entries"][0]["actor"].startswith("cli:")
    finally:
        assert s.stop() == 0, s.read_log()

    r = cli("client", "create", "--type", "fake", "--profile", "service", "--name", "x", "--host",
            "h", store=url)
    assert r.returncode == 1 and "clientType:" in r.stderr and "ERR11004" in r.stderr
    r = cli("client", "create", "--data", '{"clientType":"public","evil":1}', store=url)
    assert r.returncode == 1 and "evil: unknown field" in r.stderr
    assert cli("client", "delete", cid, store=url).returncode == 0
    r = cli("client", "get", cid, store=url)
    assert r.returncode == 1 and "ERR12014" in r.stderr


def test_cli_users_services_providers_and_audit(store):
    _, url = store
    r = cli("user", "create", "--id", "alice", "--type", "employee", "--email", "alice@x.com",
            "--password-stdin", store=url, stdin="correct horse battery\n")
    assert r.returncode == 0, r.stderr
    r = cli("user", "password", "alice", store=url, stdin="correct horse battery\nnew one 12345\n")
    assert r.returncode == 0, r.stderr
    r = cli("user", "password", "alice", store=url, stdin="wrong\nnew one 67890\n")
    assert r.returncode == 1 and "ERR12016" in r.stderr
    assert cli("service", "create", "--id", "AACT0001", "--type", "openapi", "--name", "Account",
               "--host", "lightapi.net", store=url).returncode == 0
    r = cli("service", "set-endpoints", "AACT0001", "--data",
            '[{"endpoint":"/v1/data@get","operation":"get","scope":"data.r"}]', store=url)
    assert r.returncode == 0, r.stderr
    r = cli("service", "endpoints", "AACT0001", "--json", store=url)
    assert json.loads(r.stdout)[0]["scope"] == "data.r"
    assert cli("provider", "create", "--id", "05", "--server-url", "https://peer.example.com",
               store=url).returncode == 0
    assert cli("provider", "delete", "11111", store=url).returncode == 1
    r = cli("audit", "list", "--json", store=url)
    assert r.returncode == 0, r.stderr
    entries = json.loads(r.stdout)["entries"]
    assert {e["action"] for e in entries} >= {"user.create", "user.password", "service.create",
                                              "service.set_endpoints", "provider.create"}
    assert "correct horse" not in r.stdout and "new one" not in r.stdout
    r = cli("audit", "list", "--kind", "user", store=url)
    assert r.returncode == 0 and "user.password" in r.stdout and "service." not in r.stdout


# ---- A user's sessions, consents and password reset (`portcullis user sessions|consents|
# revoke-session|revoke-sessions|revoke-consent|reset-password`), seen by a server on the store.

def oauth_on(store, tmp):
    """A server on the CLI's store and master key, with the OAuth tests' bootstrap client."""
    from conftest import Portcullis
    from oauth_fixtures import BOOT_ID as OAUTH_ID, BOOT_SECRET as OAUTH_SECRET, OAuthServer
    from test_registry_common import MASTER_KEY
    return OAuthServer(Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": OAUTH_ID,
                                       "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": OAUTH_SECRET,
                                       "PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY},
                                  store=store, tmp=tmp))


def session_refresh_token(oauth, browser, client):
    """A refresh token issued in the browser's SSO session (signed in at once, no form)."""
    from code_helpers import BROWSER, authorize, code_params, query_of, redeem
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=browser)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text
    r = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert r.status_code == 200, r.text
    return r.json()["refresh_token"]


def refresh(oauth, client, token):
    return oauth.token({"grant_type": "refresh_token", "refresh_token": token}, client=client)


def cli_actions(oauth, user):
    r = oauth.admin("GET", "/oauth2/audit", params={"entityKind": "user", "entityId": user,
                                                     "page": 0, "pageSize": 100})
    assert r.status_code == 200, r.text
    return [(e["action"], e["actor"]) for e in r.json()["entries"]]


def test_cli_ends_a_users_sessions_and_consents_at_the_server(store):
    from code_helpers import browser_login, code_params, make_client, record_consent
    from test_user_access import signed_in
    tmp, url = store
    oauth = oauth_on(url, tmp)
    try:
        client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
        oauth.create_user("alice", "alice-password-123", roles="user")
        one = record_consent(oauth, client[0], user="alice", password="alice-password-123")
        two = requests.Session()
        done = browser_login(oauth, two, code_params(client[0]), user="alice",
                             password="alice-password-123")
        assert done.status_code in (302, 303) and "code=" in done.headers["Location"], done.text
        tokens = [session_refresh_token(oauth, one, client),
                  session_refresh_token(oauth, two, client)]

        # The CLI lists what the admin API lists.
        r = cli("user", "sessions", "alice", "--json", store=url)
        assert r.returncode == 0, r.stderr
        listed = json.loads(r.stdout)
        server = oauth.admin("GET", "/oauth2/user/alice/sessions").json()
        assert len(listed) == 2 and sorted(s["sid"] for s in listed) == \
            sorted(s["sid"] for s in server), (listed, server)
        r = cli("user", "sessions", "alice", store=url)
        assert r.returncode == 0 and listed[0]["sid"] in r.stdout and "Z" in r.stdout, r.stdout
        r = cli("user", "consents", "alice", "--json", store=url)
        assert r.returncode == 0, r.stderr
        [c] = json.loads(r.stdout)
        assert c["clientId"] == client[0] and c["scope"] == "petstore.r petstore.w", c

        # One session ends: exactly that browser is signed out and its refresh token refused;
        # the other's still refreshes.
        sid = listed[0]["sid"]
        r = cli("user", "revoke-session", "alice", sid, store=url)
        assert r.returncode == 0, r.stderr
        assert [s["sid"] for s in oauth.admin("GET", "/oauth2/user/alice/sessions").json()] \
            == [listed[1]["sid"]]
        states = [signed_in(oauth, one, client[0]), signed_in(oauth, two, client[0])]
        assert sorted(states) == [False, True], states
        ended, kept = (tokens[0], tokens[1]) if states[1] else (tokens[1], tokens[0])
        r = refresh(oauth, client, ended)
        assert r.status_code == 400, r.text
        r = refresh(oauth, client, kept)
        assert r.status_code == 200, r.text
        kept = r.json()["refresh_token"]
        r = cli("user", "revoke-session", "alice", sid, store=url)
        assert r.returncode == 1 and "not_found" in r.stderr, r.stderr
        r = cli("user", "revoke-session", "nobody", sid, store=url)
        assert r.returncode == 1 and "ERR12013" in r.stderr, r.stderr

        # All of them.
        r = cli("user", "revoke-sessions", "alice", "--json", store=url)
        assert r.returncode == 0 and json.loads(r.stdout) == {"revoked": 1}, r.stdout + r.stderr
        assert oauth.admin("GET", "/oauth2/user/alice/sessions").json() == []
        assert not signed_in(oauth, one, client[0]) and not signed_in(oauth, two, client[0])
        r = refresh(oauth, client, kept)
        assert r.status_code == 400, r.text

        # The consent.
        r = cli("user", "revoke-consent", "alice", client[0], store=url)
        assert r.returncode == 0, r.stderr
        assert oauth.admin("GET", "/oauth2/user/alice/consents").json() == []
        r = cli("user", "revoke-consent", "alice", client[0], store=url)
        assert r.returncode == 1 and "not_found" in r.stderr, r.stderr

        actions = cli_actions(oauth, "alice")
        for action in ("user.session_revoke", "user.sessions_revoke", "user.consent_revoke"):
            assert any(a == action and actor.startswith("cli:") for a, actor in actions), actions
    finally:
        assert oauth.s.stop() == 0, oauth.s.read_log()


def test_cli_resets_a_password_from_env_or_stdin_never_from_argv(store):
    from code_helpers import authorize, code_params, make_client, query_of, redeem
    from test_trust_admin import code_flow_token
    tmp, url = store
    oauth = oauth_on(url, tmp)
    try:
        client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
        oauth.create_user("alice", "alice-password-123", roles="user")
        issued = code_flow_token(oauth, client, "alice", "alice-password-123", "petstore.r")

        r = cli("user", "reset-password", "alice", "--password", "temporary-pass-1", store=url)
        assert r.returncode != 0, r.stdout
        r = cli("user", "reset-password", "alice", "--password-env", "PC_NEW", store=url)
        assert r.returncode == 2 and "PC_NEW is not set" in r.stderr, r.stderr
        r = cli("user", "reset-password", "alice", store=url, stdin="")
        assert r.returncode == 2 and "no password on stdin" in r.stderr, r.stderr
        r = cli("user", "reset-password", "alice", store=url, stdin="short\n")
        assert r.returncode == 1 and "ERR11004" in r.stderr, r.stderr
        r = cli("user", "reset-password", "nobody", store=url, stdin="temporary-pass-1\n")
        assert r.returncode == 1 and "ERR12013" in r.stderr, r.stderr
        # Nothing so far reached the server's user.
        assert oauth.admin("GET", "/oauth2/user/alice").json()["passwordChangeRequired"] is False

        r = cli("user", "reset-password", "alice", "--password-env", "PC_NEW", store=url,
                env={"PC_NEW": "temporary-pass-1"})
        assert r.returncode == 0, r.stderr
        assert oauth.admin("GET", "/oauth2/user/alice").json()["passwordChangeRequired"] is True
        # Grants ended; the old password is wrong; the new one must be changed before any use.
        assert refresh(oauth, client, issued["refresh_token"]).status_code == 400
        r = authorize(oauth, code_params(client[0]), "alice", "alice-password-123")
        assert r.status_code == 401, r.text
        r = authorize(oauth, code_params(client[0]), "alice", "temporary-pass-1")
        assert r.status_code == 400 and "changed" in r.json()["error_description"], r.text

        # From stdin.
        r = cli("user", "reset-password", "alice", store=url, stdin="temporary-pass-2\n")
        assert r.returncode == 0, r.stderr
        r = authorize(oauth, code_params(client[0]), "alice", "temporary-pass-2")
        assert r.status_code == 400 and "changed" in r.json()["error_description"], r.text

        # set-password is the same reset without the change at next sign-in: it clears the
        # flag, ends the grants, and is refused in the same cases.
        r = cli("user", "set-password", "alice", store=url, stdin="short\n")
        assert r.returncode == 1 and "ERR11004" in r.stderr, r.stderr
        r = cli("user", "set-password", "nobody", store=url, stdin="temporary-pass-3\n")
        assert r.returncode == 1 and "ERR12013" in r.stderr, r.stderr
        r = cli("user", "set-password", "alice", store=url, stdin="settled-pass-3\n")
        assert r.returncode == 0, r.stderr
        assert oauth.admin("GET", "/oauth2/user/alice").json()["passwordChangeRequired"] is False
        def signed_in_token(password):  # the consent is recorded already
            r = authorize(oauth, code_params(client[0], scope="petstore.r"), "alice", password)
            assert r.status_code == 302, r.text
            r = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
            assert r.status_code == 200, r.text
            return r.json()["refresh_token"]

        issued = signed_in_token("settled-pass-3")
        r = cli("user", "set-password", "alice", store=url, stdin="settled-pass-4\n")
        assert r.returncode == 0, r.stderr
        assert refresh(oauth, client, issued).status_code == 400
        r = authorize(oauth, code_params(client[0]), "alice", "settled-pass-3")
        assert r.status_code == 401, r.text
        signed_in_token("settled-pass-4")

        actions = cli_actions(oauth, "alice")
        resets = [actor for a, actor in actions if a == "user.password_reset"]
        assert len(resets) == 2 and all(a.startswith("cli:") for a in resets), actions
        sets = [actor for a, actor in actions if a == "user.set_password"]
        assert len(sets) == 2 and all(a.startswith("cli:") for a in sets), actions
        assert "temporary" not in str(actions) and "settled" not in str(actions)
    finally:
        assert oauth.s.stop() == 0, oauth.s.read_log()


def test_cli_user_list_json_carries_the_total(store):
    """`user list --json` is one page and the count of every match, like the other lists and
    the API's X-Total-Count."""
    _, url = store
    for user in ("ann", "anna", "annie", "bob"):
        r = cli("user", "create", "--id", user, "--type", "customer", "--email",
                user + "@example.com", "--password-stdin", store=url,
                stdin="password-of-" + user + "\n")
        assert r.returncode == 0, r.stderr
    r = cli("user", "list", "--json", store=url)
    assert r.returncode == 0, r.stderr
    page = json.loads(r.stdout)
    assert page["total"] == 4 and [u["userId"] for u in page["users"]] == \
        ["ann", "anna", "annie", "bob"], page
    r = cli("user", "list", "--prefix", "ann", "--page-size", "2", "--json", store=url)
    page = json.loads(r.stdout)
    assert page["total"] == 3 and [u["userId"] for u in page["users"]] == ["ann", "anna"], page
    r = cli("user", "list", "--prefix", "ann", "--page-size", "2", "--page", "2", "--json",
            store=url)
    assert json.loads(r.stdout)["total"] == 3 and \
        [u["userId"] for u in json.loads(r.stdout)["users"]] == ["annie"], r.stdout
    r = cli("user", "list", "--prefix", "zz", "--json", store=url)
    assert json.loads(r.stdout) == {"users": [], "total": 0}, r.stdout
    r = cli("user", "list", store=url)  # the table, as before
    assert r.returncode == 0 and "annie" in r.stdout and "total" not in r.stdout, r.stdout


def test_cli_lists_refresh_tokens_by_client(store):
    from code_helpers import make_client
    from test_trust_admin import code_flow_token
    tmp, url = store
    oauth = oauth_on(url, tmp)
    try:
        a = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
        b = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
        oauth.create_user("alice", "alice-password-123", roles="user")
        oauth.create_user("bob", "bob-password-123", roles="user")
        code_flow_token(oauth, a, "alice", "alice-password-123", "petstore.r")
        code_flow_token(oauth, b, "alice", "alice-password-123", "petstore.r")
        code_flow_token(oauth, a, "bob", "bob-password-123", "petstore.r")
    finally:
        assert oauth.s.stop() == 0, oauth.s.read_log()

    r = cli("refresh-token", "list", "--client", a[0], "--json", store=url)
    assert r.returncode == 0, r.stderr
    page = json.loads(r.stdout)
    assert page["total"] == 2 and {t["clientId"] for t in page["tokens"]} == {a[0]}, page
    assert sorted(t["userId"] for t in page["tokens"]) == ["alice", "bob"], page
    r = cli("refresh-token", "list", "--client", a[0], "--page-size", "1", "--json", store=url)
    page = json.loads(r.stdout)
    assert page["total"] == 2 and len(page["tokens"]) == 1, page
    r = cli("refresh-token", "list", "--client", b[0], "--user", "alice", "--json", store=url)
    page = json.loads(r.stdout)
    assert page["total"] == 1 and page["tokens"][0]["clientId"] == b[0], page
    r = cli("refresh-token", "list", "--client", b[0], "--user", "bob", "--json", store=url)
    assert json.loads(r.stdout) == {"tokens": [], "total": 0}, r.stdout
    r = cli("refresh-token", "list", "--client", a[0][:-1], "--json", store=url)
    assert json.loads(r.stdout)["total"] == 0, r.stdout  # exact, not a prefix
    r = cli("refresh-token", "list", "--client", b[0], store=url)
    assert r.returncode == 0 and b[0] in r.stdout and a[0] not in r.stdout, r.stdout
    r = cli("refresh-token", "list", "--json", store=url)
    assert json.loads(r.stdout)["total"] == 3, r.stdout
