"""The first run and the console's server side, black-box (README "Console"): the first-run
`admin` user and its private password file, once per store (also with two instances racing on
one PostgreSQL database), `portcullis user create --admin`, the refusal of a password that must
be changed on the non-browser paths, and the console routes without a session, with a forged
session, without the CSRF token and with a foreign state. The browser journey is
tests/browser/console.test.mjs."""
import base64
import hashlib
import os
import re
import stat
import threading
import urllib.parse

import requests

from code_helpers import browser_login, code_params, make_client, submit
from conftest import Portcullis, new_pg_database, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, oauth  # noqa: F401 (fixture)

MASTER = {"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64}


def password_file(s):
    return os.path.join(s.tmp, "admin-password")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def console_authorize(s, auth):
    """An API caller (HTTP Basic) at the authorization endpoint for the console client."""
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": "portcullis-console",
        "redirect_uri": s.url + "/console/callback", "scope": "portal.r",
        "code_challenge": challenge.rstrip("="), "code_challenge_method": "S256", "state": "x"})
    return s.get("/oauth2/code?" + q, headers={"Authorization": auth}, allow_redirects=False)


def test_first_run_creates_admin_with_a_private_password_file(start):
    s = start()
    path = password_file(s)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    password = open(path).read().strip()
    assert len(password) >= 32
    log = s.read_log()
    assert password not in log
    assert re.search(r"first_run\.admin_created user_id=admin password_file=\S*admin-password", log)

    # The password works only through the change page: other ways in refuse it, after checking
    # it (a wrong one is still just wrong).
    r = console_authorize(s, basic("admin", password))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"
    assert "changed" in r.json()["error_description"]
    r = console_authorize(s, basic("admin", password + "x"))
    assert r.status_code == 401

    # A restart on the same store makes no second admin and writes no file.
    os.unlink(path)
    s.stop()
    again = start(tmp=s.tmp, store="sqlite:" + os.path.join(s.tmp, "portcullis.db"))
    assert not os.path.exists(path)
    assert "first_run.admin_created" not in again.read_log()


def test_no_first_run_with_a_bootstrap_client(start):
    s = start(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                   "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    assert not os.path.exists(password_file(s))
    token = requests.post(s.url + "/oauth2/token", auth=(BOOT_ID, BOOT_SECRET), timeout=10,
                          data={"grant_type": "client_credentials",
                                "scope": "oauth.user.r portal.r"}).json()["access_token"]
    users = s.get("/oauth2/user?page=1", headers={"Authorization": "Bearer " + token}).json()
    assert users == []
    # The console's own client is registered, public, with its exact redirect URI.
    c = s.get("/oauth2/client/portcullis-console",
              headers={"Authorization": "Bearer " + token}).json()
    assert c["clientType"] == "public"
    assert c["redirectUris"] == [s.url + "/console/callback"]
    assert c["grantTypes"] == ["authorization_code"]


def test_two_instances_on_one_postgres_store_create_one_admin(tmp_path):
    url = new_pg_database()
    files = [str(tmp_path / f"admin-password-{i}") for i in range(2)]
    servers = [None, None]
    errors = []

    def run(i):
        try:
            servers[i] = Portcullis(store=url, tmp=str(tmp_path / f"s{i}"), env={
                **MASTER, "PORTCULLIS_CONSOLE_ADMIN_PASSWORD_FILE": files[i]})
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    os.makedirs(tmp_path / "s0")
    os.makedirs(tmp_path / "s1")
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        written = [f for f in files if os.path.exists(f)]
        assert len(written) == 1, written
        logs = [s.read_log() for s in servers]
        assert sum("first_run.admin_created" in log for log in logs) == 1
        # The password in that one file is the admin's (checked, then refused for the change).
        password = open(written[0]).read().strip()
        r = console_authorize(servers[0], basic("admin", password))
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    finally:
        for s in servers:
            if s:
                s.stop()


def test_user_create_admin_on_the_command_line(tmp_path):
    store = "sqlite:" + str(tmp_path / "p.db")
    env = dict(MASTER)
    assert run_cli("migrate", "--store", store, env=env).returncode == 0
    file = str(tmp_path / "ops-password")
    r = run_cli("user", "create", "--admin", "--id", "ops", "--password-file", file,
                "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    assert file in r.stdout
    password = open(file).read().strip()
    assert password not in r.stdout + r.stderr
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    r = run_cli("user", "get", "ops", "--json", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    assert '"passwordChangeRequired":true' in r.stdout.replace(" ", "")
    assert '"roles":"admin"' in r.stdout.replace(" ", "")
    # Taken ids are refused, and no file is written for them.
    other = str(tmp_path / "again")
    r = run_cli("user", "create", "--admin", "--id", "ops", "--password-file", other,
                "--store", store, env=env)
    assert r.returncode != 0
    assert not os.path.exists(other)


def test_console_routes_refuse_without_a_session(start):
    s = start(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                   "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    for method, path in [("GET", "/console/api/client?page=0"), ("POST", "/console/api/client"),
                         ("POST", "/console/api/keys/rotate"), ("GET", "/console/session"),
                         ("GET", "/console/api/audit")]:
        r = requests.request(method, s.url + path, timeout=10, json={})
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["Cache-Control"] == "no-store"
        # A forged or foreign cookie is no session either.
        r = requests.request(method, s.url + path, timeout=10, json={},
                             cookies={"portcullis_console": "v1.AAAA" + "A" * 60})
        assert r.status_code == 401, (method, path, r.text)
    # Only admin routes are mirrored: the token endpoint is not reachable with the cookie.
    assert s.post("/console/api/token").status_code == 404

    # The sign-in: PKCE S256 and the exact redirect URI; the state is bound to this browser.
    r = s.get("/console/login", allow_redirects=False)
    assert r.status_code == 302
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
    assert q["client_id"] == ["portcullis-console"]
    assert q["redirect_uri"] == [s.url + "/console/callback"]
    assert q["code_challenge_method"] == ["S256"]
    cookie = r.cookies.get("portcullis_console_login")
    assert cookie and "HttpOnly" in r.headers["Set-Cookie"]
    r = s.get("/console/callback?code=x&state=" + q["state"][0])  # no cookie: another browser
    assert r.status_code == 400
    r = s.get("/console/callback?code=x&state=forged",
              cookies={"portcullis_console_login": cookie})
    assert r.status_code == 400
    # The right state with a code that is not one: the token endpoint refuses, no session.
    r = s.get("/console/callback?code=x&state=" + q["state"][0],
              cookies={"portcullis_console_login": cookie}, allow_redirects=False)
    assert r.status_code == 403
    assert "portcullis_console" not in r.cookies.keys()

    page = s.get("/console/")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert s.get("/console/assets/app.js").headers["Content-Type"].startswith("text/javascript")
    assert s.get("/console/assets/nothing.js").status_code == 404


def test_an_admin_made_password_must_be_changed_before_the_password_grant(oauth):  # noqa: F811
    client = oauth.create_client("trusted", grantTypes=["password", "client_credentials"])
    r = oauth.admin("POST", "/oauth2/user", json={
        "userId": "temp", "userType": "employee", "email": "temp@example.com",
        "password": "temporary-pass", "passwordConfirm": "temporary-pass",
        "passwordChangeRequired": True})
    assert r.status_code == 200, r.text
    assert oauth.admin("GET", "/oauth2/user/temp").json()["passwordChangeRequired"] is True
    grant = {"grant_type": "password", "username": "temp", "password": "temporary-pass"}
    r = oauth.token(grant, client=client)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"
    # Updates do not clear the mark; the user's own new password does.
    u = oauth.admin("GET", "/oauth2/user/temp").json()
    u["passwordChangeRequired"] = False
    assert oauth.admin("PUT", "/oauth2/user", json=u).status_code == 200
    assert oauth.admin("GET", "/oauth2/user/temp").json()["passwordChangeRequired"] is True
    assert oauth.token(grant, client=client).status_code == 400
    r = oauth.admin("POST", "/oauth2/password/temp", json={
        "password": "temporary-pass", "newPassword": "my-own-password",
        "newPasswordConfirm": "my-own-password"})
    assert r.status_code == 200, r.text
    r = oauth.token({**grant, "password": "my-own-password"}, client=client)
    assert r.status_code == 200, r.text


def test_no_first_run_password_in_the_working_directory(tmp_path):
    # PostgreSQL with the master key inline: no directory is the operator's, so nothing is
    # written and the log says what to do.
    s = Portcullis(store=new_pg_database(), tmp=str(tmp_path), env=MASTER)
    try:
        assert "first_run.skipped" in s.read_log()
        assert "first_run.admin_created" not in s.read_log()
        assert not os.path.exists("admin-password")
        assert not os.path.exists(os.path.join(s.tmp, "admin-password"))
    finally:
        s.stop()


def test_every_kind_of_password_change_is_audited(oauth):  # noqa: F811
    """The forced change at sign-in, the user's own change and an admin's reset each leave an
    audit row, by whoever made it, holding neither the password nor its hash."""
    client_id, _ = make_client(oauth)
    r = oauth.admin("POST", "/oauth2/user", json={
        "userId": "temp", "userType": "employee", "email": "temp@example.com",
        "password": "temporary-pass", "passwordConfirm": "temporary-pass",
        "passwordChangeRequired": True})
    assert r.status_code == 200, r.text

    def user_rows():
        r = oauth.admin("GET", "/oauth2/audit?entityKind=user&entityId=temp&pageSize=100")
        assert r.status_code == 200, r.text
        assert "temporary-pass" not in r.text and "argon2" not in r.text, r.text
        return [(e["actor"], e["action"], e["after"]) for e in reversed(r.json()["entries"])]

    # The forced change, in the browser's form: a refused one (confirmation differs) leaves
    # nothing; the accepted one is recorded by the user itself.
    s = requests.Session()
    page = browser_login(oauth, s, code_params(client_id), user="temp", password="temporary-pass")
    assert page.status_code == 200 and "new_password" in page.text, page.text
    refused = submit(s, page, {"j_password": "temporary-pass", "new_password": "chosen-by-temp",
                               "new_password_confirm": "chosen-by-tempX"})
    assert refused.status_code == 200 and "new_password" in refused.text, refused.text
    assert [a for _, a, _ in user_rows()] == ["user.create"]
    done = submit(s, refused, {"j_password": "temporary-pass", "new_password": "chosen-by-temp",
                               "new_password_confirm": "chosen-by-temp"})
    assert done.status_code in (200, 303) and "new_password" not in done.text, done.text
    rows = user_rows()
    assert rows[-1][:2] == ("user:temp", "user.password"), rows
    assert rows[-1][2]["passwordChangeRequired"] is False
    assert "chosen-by-temp" not in str(rows)
    assert oauth.admin("GET", "/oauth2/user/temp").json()["passwordChangeRequired"] is False

    # The user's own change through the API, then an admin's reset: by the calling client.
    r = oauth.admin("POST", "/oauth2/password/temp", json={
        "password": "chosen-by-temp", "newPassword": "changed-again", "newPasswordConfirm":
        "changed-again"})
    assert r.status_code == 200, r.text
    r = oauth.admin("POST", "/oauth2/user/temp/password",
                    json={"password": "reset-by-admin", "passwordConfirm": "reset-by-admin"})
    assert r.status_code == 200, r.text
    rows = user_rows()
    assert [a for _, a, _ in rows] == ["user.create", "user.password", "user.password",
                                      "user.password_reset"], rows
    assert rows[2][0].startswith("client:") and rows[3][0].startswith("client:"), rows
    assert "changed-again" not in str(rows) and "reset-by-admin" not in str(rows)
