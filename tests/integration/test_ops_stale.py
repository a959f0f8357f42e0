"""Nothing runs stale: what the CLI writes reaches a running server on the same SQLite file
within moments (not at its minute-long periodic reload); a CLI command never quietly creates a
store or a master key somewhere new; start-up says so when the bootstrap secret in the
environment is not the stored one, and when a PORTCULLIS_* variable is not a setting."""
import json

import requests

from conftest import Portcullis, poll, run_cli
from test_registry_common import (BOOT_ID, BOOT_SECRET, MASTER_KEY, basic, cli, start_registry)


# The periodic full reload (store.full_reload_s) pushed out of reach: whatever these servers
# pick up within the polls' deadlines came through the store's change notifications.
NO_FULL_RELOAD = {"PORTCULLIS_STORE_FULL_RELOAD_S": "86400"}


def token_status(server, client_id, secret):
    return requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": basic(client_id, secret)},
                         timeout=10).status_code


def create_cli_client(url):
    r = cli("client", "create", "--type", "trusted", "--profile", "service", "--name", "stale",
            "--host", "lightapi.net", "--scope", "billing.r", "--grant-type",
            "client_credentials", "--json", store=url)
    assert r.returncode == 0, r.stderr
    c = json.loads(r.stdout)
    return c["clientId"], c["clientSecret"]


def test_cli_secret_rotation_reaches_running_server_without_a_reload(tmp_path):
    """2f08f83: the server kept the old secret (and refused the new one) until its 60 s reload."""
    url = f"sqlite:{tmp_path}/portcullis.db"
    s = start_registry(store=url, tmp=str(tmp_path), env=NO_FULL_RELOAD)
    try:
        cid, old = create_cli_client(url)
        # A client the server has never seen reaches it as well.
        poll(lambda: token_status(s, cid, old) == 200, "the CLI's new client to work",
             deadline_s=30)

        r = cli("client", "rotate-secret", cid, "--json", store=url)
        assert r.returncode == 0, r.stderr
        new = json.loads(r.stdout)["clientSecret"]
        assert new != old
        poll(lambda: token_status(s, cid, new) == 200 and token_status(s, cid, old) == 401,
             "the new secret to work and the old one to fail", deadline_s=30)

        assert cli("client", "delete", cid, store=url).returncode == 0
        # invalid_client: 404 ERR12014 (light-oauth2) or 401 (RFC 6749 §5.2).
        poll(lambda: token_status(s, cid, new) in (401, 404), "the deleted client to be refused",
             deadline_s=30)
    finally:
        assert s.stop() == 0, s.read_log()


def test_cli_key_revocation_reaches_running_server(tmp_path):
    """The key ring follows `portcullis keys revoke` too: the key leaves the JWKS at once."""
    url = f"sqlite:{tmp_path}/portcullis.db"
    s = start_registry(store=url, tmp=str(tmp_path), env=NO_FULL_RELOAD)
    try:
        kids = lambda: [k["kid"] for k in requests.get(s.url + "/oauth2/keys",
                                                       timeout=10).json()["keys"]]
        kid = kids()[0]
        # Past the server's start-up load (which would pick up anything written before it).
        cid, secret = create_cli_client(url)
        poll(lambda: token_status(s, cid, secret) == 200, "the CLI's new client to work",
             deadline_s=30)
        r = cli("keys", "revoke", kid, store=url)
        assert r.returncode == 0, r.stderr
        poll(lambda: kid not in kids(), f"key {kid} to leave the JWKS", deadline_s=30)
    finally:
        assert s.stop() == 0, s.read_log()


def test_cli_refuses_to_create_missing_store(tmp_path):
    """2f08f83: `portcullis client list` in the wrong folder made an empty database and a master
    key there. Now: exit 2 and one line naming the store and the flag, and nothing created."""
    missing = tmp_path / "nowhere" / "portcullis.db"
    env = {}  # no master key configured: the SQLite default would put one beside the store
    for args in (("client", "list"), ("service", "list"), ("user", "list"), ("keys", "list"),
                 ("client", "create", "--type", "public", "--profile", "service", "--name", "x",
                  "--host", "h")):
        r = run_cli(*args, "--store", f"sqlite:{missing}", env=env)
        assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert str(missing) in lines[0] and "does not exist" in lines[0], lines[0]
        assert "--create" in lines[0], lines[0]
        assert not (tmp_path / "nowhere").exists()
        assert not missing.exists() and not (tmp_path / "nowhere" / "master.key").exists()

    # Asked to: --create makes the store (and its master key), then the command runs.
    r = run_cli("client", "list", "--create", "--store", f"sqlite:{missing}", env=env)
    assert r.returncode == 0, r.stderr
    assert missing.exists() and (tmp_path / "nowhere" / "master.key").exists()

    # `migrate` creates a store as before; the commands then work on it.
    other = tmp_path / "migrated.db"
    r = run_cli("migrate", "--store", f"sqlite:{other}",
                env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    assert r.returncode == 0, r.stderr
    r = run_cli("client", "list", "--store", f"sqlite:{other}",
                env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    assert r.returncode == 0, r.stderr


def test_cli_refuses_to_create_master_key_beside_existing_store(tmp_path):
    """A store whose server had its master key from the environment: a CLI run without it must
    not make a new master.key (its client-secret digests would not verify on the server)."""
    store = f"sqlite:{tmp_path}/portcullis.db"
    r = run_cli("migrate", "--store", store, env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    assert r.returncode == 0, r.stderr
    r = run_cli("client", "create", "--type", "public", "--profile", "service", "--name", "x",
                "--host", "h", "--store", store)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "master.key does not exist" in r.stderr and "--create" in r.stderr, r.stderr
    assert not (tmp_path / "master.key").exists()


def test_serve_still_creates_a_fresh_store(tmp_path):
    """The README's first run: `portcullis serve` on a new folder makes the store itself."""
    store = tmp_path / "fresh" / "portcullis.db"
    s = Portcullis(store=f"sqlite:{store}", tmp=str(tmp_path), env={
        "PORTCULLIS_KEYS_MASTER_KEY": ""})  # empty: the key file beside the store is made
    try:
        assert s.get("/health").status_code == 200
        assert store.exists() and (tmp_path / "fresh" / "master.key").exists()
    finally:
        assert s.stop() == 0, s.read_log()


def test_bootstrap_secret_mismatch_warns(tmp_path):
    """2f08f83: a bootstrap secret in the environment that differs from the stored client's was
    ignored in silence (and every call with it refused). Now start-up warns, says what to do,
    and never logs either secret."""
    url = f"sqlite:{tmp_path}/portcullis.db"
    s = start_registry(store=url, tmp=str(tmp_path), env=NO_FULL_RELOAD)
    assert s.stop() == 0
    assert "bootstrap.secret_mismatch" not in s.read_log()

    other = "a-different-bootstrap-secret-9876543210"
    s = Portcullis(store=url, tmp=str(tmp_path), env={
        "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": other,
        "PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    try:
        assert token_status(s, BOOT_ID, other) == 401  # the stored secret stays in force
        assert token_status(s, BOOT_ID, BOOT_SECRET) == 200
    finally:
        assert s.stop() == 0
    log = s.read_log()
    lines = [line for line in log.splitlines() if "bootstrap.secret_mismatch" in line]
    assert len(lines) == 1, log
    assert BOOT_ID in lines[0] and "rotate-secret" in lines[0], lines[0]
    assert other not in log and BOOT_SECRET not in log

    # The same secret again: no warning.
    s = start_registry(store=url, tmp=str(tmp_path), env=NO_FULL_RELOAD)
    assert s.stop() == 0
    assert "bootstrap.secret_mismatch" not in s.read_log()


def test_unknown_portcullis_env_var_warns_with_nearest_key(tmp_path):
    """2f08f83: a mistyped PORTCULLIS_* variable was ignored in silence. Now it draws a warning
    naming the nearest setting (never its value); the repository's tool variables draw none."""
    value = "value-that-must-not-be-logged"
    s = Portcullis(tmp=str(tmp_path), env={
        "PORTCULLIS_TOKEN_ACESS_TOKEN_TTL_S": value,
        "PORTCULLIS_BIN": "/nonexistent/portcullis",
        "PORTCULLIS_TEST_PG_URL": "postgres://nobody@127.0.0.1:1/none",
        "PORTCULLIS_TESTDATA": "/nonexistent"})
    assert s.stop() == 0
    log = s.read_log()
    warned = [line for line in log.splitlines() if "config.unknown_env" in line]
    assert len(warned) == 1, log
    assert "PORTCULLIS_TOKEN_ACESS_TOKEN_TTL_S" in warned[0], warned[0]
    assert "PORTCULLIS_TOKEN_ACCESS_TOKEN_TTL_S" in warned[0], warned[0]
    assert value not in log

    # The CLI says the same on stderr.
    r = run_cli("config", "check", env={"PORTCULLIS_LOG_LEVL": "debug",
                                        "PORTCULLIS_BIN": "/nonexistent/portcullis"})
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [
        "portcullis: warning: unknown environment variable PORTCULLIS_LOG_LEVL is ignored; "
        "did you mean PORTCULLIS_LOG_LEVEL?"], r.stderr
