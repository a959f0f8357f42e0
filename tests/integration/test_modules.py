"""Service modules: a process builds only the services it serves and what they need (README
"Architecture"). A process without the token and key services creates no signing key and opens
no key or token routes; it only reads the keys another process publishes, to verify admin
tokens."""
import json
import os
import subprocess
import tempfile
import urllib.parse

import requests

from conftest import BIN, Portcullis, poll, run_cli
from test_registry_common import BOOT_ID, BOOT_SECRET, MASTER_KEY, basic, err

ENV = {"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY,
       "PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
       "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def new_store():
    tmp = tempfile.mkdtemp(prefix="portcullis-modules-")
    return tmp, "sqlite:" + os.path.join(tmp, "portcullis.db")


def signing_keys(store):
    """The keys in the store, as `portcullis keys list --json` reports them."""
    r = run_cli("keys", "list", "--json", "--store", store,
                env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def admin_token(token_server, scope):
    r = requests.post(token_server.url + "/oauth2/token",
                      data={"grant_type": "client_credentials", "scope": scope},
                      headers={"Authorization": basic(BOOT_ID, BOOT_SECRET)}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_a_user_process_creates_no_signing_key_and_opens_no_key_routes():
    tmp, store = new_store()
    s = Portcullis(args=("--services", "user"), env=ENV, store=store, tmp=tmp)
    try:
        for path in ("/oauth2/keys", "/.well-known/jwks.json", "/oauth2/key/100",
                     "/oauth2/key/00100"):
            err(s.get(path), 404, "ERR10007")
        for path in ("/oauth2/token", "/oauth2/introspect", "/oauth2/keys/rotate"):
            err(s.post(path, data={"grant_type": "client_credentials"}), 404, "ERR10007")
        err(s.get("/oauth2/verify"), 404, "ERR10007")
        # The user service answers: without a token, 401.
        err(s.get("/oauth2/user?page=1"), 401, "ERR10002")
        assert s.get("/health/com.networknt.oauth2-user-1.0.0").status_code == 200
        assert signing_keys(store) == []
    finally:
        assert s.stop() == 0, s.read_log()
    # Nor did it make one on the way out.
    assert signing_keys(store) == []


def test_a_token_process_serves_the_token_endpoint_and_not_the_user_service():
    tmp, store = new_store()
    s = Portcullis(args=("--services", "token"), env=ENV, store=store, tmp=tmp)
    try:
        keys = signing_keys(store)
        assert len(keys) == 1 and keys[0]["state"] == "current", keys
        r = s.post("/oauth2/token", data={"grant_type": "client_credentials"},
                   headers={"Authorization": basic(BOOT_ID, BOOT_SECRET)})
        assert r.status_code == 200, r.text
        err(s.get("/oauth2/user?page=1"), 404, "ERR10007")
        err(s.get("/oauth2/keys"), 404, "ERR10007")
    finally:
        assert s.stop() == 0, s.read_log()


def test_a_user_process_verifies_admin_tokens_with_keys_published_later():
    """The user process starts on an empty store (no key to verify with), then a token process
    makes the first key: the user process reads it on the change notification and accepts the
    token process's admin tokens, still without writing a key of its own."""
    tmp, store = new_store()
    # One issuer for both, as behind one load balancer: admin tokens name it.
    issuer = ("--issuer", "https://auth.example.test")
    user = Portcullis(args=("--services", "user", *issuer), env=ENV, store=store, tmp=tmp)
    token = None
    try:
        assert signing_keys(store) == []
        token = Portcullis(args=("--services", "token", *issuer), env=ENV, store=store,
                           tmp=tempfile.mkdtemp(prefix="portcullis-modules-"))
        bearer = {"Authorization": "Bearer " + admin_token(token, "oauth.user.r")}
        poll(lambda: user.get("/oauth2/user?page=1", headers=bearer).status_code == 200,
             "the user process to read the published key")
        assert len(signing_keys(store)) == 1
    finally:
        if token:
            assert token.stop() == 0, token.read_log()
        assert user.stop() == 0, user.read_log()


def test_the_console_without_the_services_it_needs_is_refused_at_start(tmp_path):
    """The console signs in through this process's code and token endpoints and forwards its
    pages to this process's admin APIs: without them it must not start (and then fail at the
    first sign-in), and the error names what is missing."""
    store = "sqlite:" + str(tmp_path / "p.db")
    for services, missing in [("console", "code, token, service"),
                              ("console,code,token", "service, client, user, key")]:
        r = run_cli("serve", "--listen", "127.0.0.1:0", "--services", services, "--store", store,
                    env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY}, timeout=20)
        assert r.returncode != 0, r.stdout
        assert "the console needs" in r.stderr and "missing: " + missing in r.stderr, r.stderr
        r = run_cli("config", "check", "--set", "server.services=" + services, "--store", store,
                    env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
        assert r.returncode != 0 and "the console needs" in r.stdout + r.stderr, r
    # The full list in any order is the console's shape; the documented admin-only process
    # (no console) still starts.
    full = Portcullis(args=("--services", "provider,refresh-token,key,service,user,client,token,"
                                          "code,console"), env=ENV, store=store)
    assert full.get("/console/").status_code == 200
    full.stop()
    admin = Portcullis(args=("--services", "client,service,user,refresh-token,provider"),
                       env=ENV, store=store)
    assert admin.get("/console/").status_code == 404
    admin.stop()


def test_a_wildcard_listen_gives_an_issuer_a_browser_can_reach(tmp_path):
    """`--listen 0.0.0.0:PORT` without server.issuer: the issuer (and the console's redirect
    URI) names 127.0.0.1, never 0.0.0.0, and the log says to set server.issuer for callers on
    other machines."""
    port_file = tmp_path / "port"
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env.update(ENV)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([BIN, "serve", "--listen", "0.0.0.0:0", "--port-file",
                                 str(port_file), "--store", "sqlite:" + str(tmp_path / "p.db")],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        port = int(poll(lambda: port_file.exists() and port_file.read_text().strip(), "port file"))
        url = f"http://127.0.0.1:{port}"
        info = requests.get(url + "/server/info", timeout=10).json()
        assert info["issuer"] == url, info
        meta = requests.get(url + "/.well-known/openid-configuration", timeout=10).json()
        assert meta["issuer"] == url and "0.0.0.0" not in json.dumps(meta), meta
        r = requests.get(url + "/console/login", allow_redirects=False, timeout=10)
        assert r.status_code == 302 and "0.0.0.0" not in r.headers["Location"], r.headers
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
        assert q["redirect_uri"] == [url + "/console/callback"], q
        text = log_path.read_text()
        assert "server.issuer_defaulted" in text and "server.issuer" in text, text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
