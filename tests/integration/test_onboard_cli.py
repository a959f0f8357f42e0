"""The first ten minutes on the command line (issue 17): `jwt verify --jwks` with a URL,
`config check` trying the store, and sqlite: paths in a config file resolved against the file."""
import json
import os
import subprocess

import requests

from conftest import BIN, Portcullis, new_pg_database, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, basic, oauth  # noqa: F401
from test_mtls import Pki


def client_token(url, verify=True):
    r = requests.post(url + "/oauth2/token", data={"grant_type": "client_credentials",
                                                  "scope": "portal.r"},
                      headers={"Authorization": basic(BOOT_ID, BOOT_SECRET)}, verify=verify,
                      timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# ---- jwt verify --jwks URL

def test_jwt_verify_takes_a_jwks_url(oauth):  # noqa: F811
    token = client_token(oauth.url)
    r = run_cli("jwt", "verify", "--jwks", oauth.url + "/oauth2/keys", "--issuer", oauth.url,
                token)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["client_id"] == BOOT_ID
    # The same with a file, as before.
    path = os.path.join(oauth.s.tmp, "jwks.json")
    with open(path, "w") as f:
        f.write(requests.get(oauth.url + "/oauth2/keys").text)
    r = run_cli("jwt", "verify", "--jwks", path, token)
    assert r.returncode == 0, r.stderr
    # A token the fetched keys do not verify is still refused.
    r = run_cli("jwt", "verify", "--jwks", oauth.url + "/oauth2/keys", token[:-4] + "AAAA")
    assert r.returncode == 1 and r.stderr.startswith("invalid: "), r.stderr


def test_jwt_verify_names_a_url_it_cannot_use(oauth):  # noqa: F811
    token = client_token(oauth.url)
    r = run_cli("jwt", "verify", "--jwks", oauth.url + "/no/such/jwks", token)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"portcullis: jwt verify: --jwks: cannot fetch {oauth.url}"
                                "/no/such/jwks: HTTP 404"), r.stderr
    r = run_cli("jwt", "verify", "--jwks", "http://127.0.0.1:1/keys", token)
    assert r.returncode == 2 and "cannot fetch http://127.0.0.1:1/keys" in r.stderr, r.stderr
    r = run_cli("jwt", "verify", "--jwks", oauth.url + "/health", token)  # not a JWK Set
    assert r.returncode == 2 and r.stderr.startswith("portcullis: jwt verify: "), r.stderr


def test_jwt_verify_fetches_over_tls_and_checks_the_certificate(tmp_path):
    pki = Pki(tmp_path)
    os.makedirs(tmp_path / "server")
    s = Portcullis(args=["--set", f"server.tls_cert={pki.path('server.pem')}",
                         "--set", f"server.tls_key={pki.path('server.key')}"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET},
                   tmp=str(tmp_path / "server"))
    try:
        url = f"https://127.0.0.1:{s.port}"
        token = client_token(url, verify=pki.path("server.pem"))
        r = run_cli("jwt", "verify", "--jwks", url + "/oauth2/keys", "--ca-file",
                    pki.path("server.pem"), token)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["client_id"] == BOOT_ID
        # Without the CA the self-signed certificate is not trusted: no keys, no verdict.
        r = run_cli("jwt", "verify", "--jwks", url + "/oauth2/keys", token)
        assert r.returncode == 2 and "cannot fetch " + url in r.stderr, r.stderr
        assert r.stdout == ""
    finally:
        assert s.stop() == 0, s.read_log()


# ---- config check tries the store

def test_config_check_fails_for_an_unreachable_postgres():
    url = "postgres://portcullis:hunter2@127.0.0.1:1/portcullis"
    r = run_cli("config", "check", "--store", url, "--set", "store.connect_timeout_s=2")
    assert r.returncode == 2, r.stdout
    line = r.stderr.strip()
    assert line.startswith("portcullis: config: store.url (postgres://portcullis@127.0.0.1:1/"
                           "portcullis): cannot connect"), line
    assert "hunter2" not in r.stderr + r.stdout
    assert "configuration ok" not in r.stdout


def test_config_check_connects_to_a_reachable_postgres():
    url = new_pg_database()
    r = run_cli("config", "check", "--store", url)
    assert r.returncode == 0, r.stderr
    assert "answers; no schema yet" in r.stdout and r.stdout.endswith("configuration ok\n")
    assert run_cli("migrate", "--store", url).returncode == 0
    r = run_cli("config", "check", "--store", url)
    assert r.returncode == 0 and "answers; schema version " in r.stdout, r.stdout + r.stderr


def test_config_check_on_sqlite(tmp_path):
    db = tmp_path / "p.db"
    r = run_cli("config", "check", "--store", f"sqlite:{db}")
    assert r.returncode == 0, r.stderr
    assert "does not exist yet; `portcullis serve` creates it" in r.stdout
    assert not db.exists()  # checking creates nothing
    assert run_cli("migrate", "--store", f"sqlite:{db}").returncode == 0
    r = run_cli("config", "check", "--store", f"sqlite:{db}")
    assert r.returncode == 0 and "schema version" in r.stdout, r.stdout + r.stderr
    # A file where a directory must be: the database can never be made.
    (tmp_path / "afile").write_text("x")
    r = run_cli("config", "check", "--store", f"sqlite:{tmp_path}/afile/sub/p.db")
    assert r.returncode == 2
    assert r.stderr.startswith(f"portcullis: config: store.url (sqlite:{tmp_path}/afile/sub/p.db)"
                               ": "), r.stderr
    # Not a database at all.
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    r = run_cli("config", "check", "--store", f"sqlite:{tmp_path}/junk.db")
    assert r.returncode == 2 and "store.url" in r.stderr, r.stdout + r.stderr


# ---- sqlite: paths in a config file are relative to the file

def test_sqlite_path_in_a_config_file_is_relative_to_the_file(tmp_path):
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    cfg = conf_dir / "portcullis.yaml"
    cfg.write_text('store:\n  url: "sqlite:data/portcullis.db"\n')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_KEYS_MASTER_KEY"] = "0" * 64
    r = subprocess.run([BIN, "migrate", "--config", str(cfg)], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert (conf_dir / "data" / "portcullis.db").exists()
    assert not (elsewhere / "data").exists()
    # A --store flag (or PORTCULLIS_STORE_URL) stays relative to the working directory.
    r = subprocess.run([BIN, "migrate", "--config", str(cfg), "--store", "sqlite:here.db"],
                       cwd=elsewhere, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert (elsewhere / "here.db").exists()
    # config check reports the resolved path.
    r = subprocess.run([BIN, "config", "check", "--config", str(cfg)], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"sqlite:{conf_dir}/data/portcullis.db answers" in r.stdout, r.stdout
