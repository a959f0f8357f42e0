"""Shared fixtures of the registry black-box tests (test_registry_*.py): one server per test
module with a bootstrap admin client, admin tokens per scope set from the token endpoint, and
error assertions; and one test of its own, that registry routes follow --services.

Admin calls need a bearer token from POST /oauth2/token (client_credentials, Basic auth of the
bootstrap client)."""
import base64
import os
import urllib.parse

import pytest
import requests

from conftest import BIN, Portcullis, run_cli

BOOT_ID = "f7d42348-c647-4efb-a52d-4c5787421e00"
BOOT_SECRET = "bootstrap-secret-for-registry-tests-0123456789"
ALL_SCOPES = ("portal.r portal.w oauth.user.r oauth.user.w oauth.refresh_token.r "
              "oauth.refresh_token.w read:provider write:provider oauth.audit.r")
MASTER_KEY = "1" * 64
# light-oauth2's seed client secret and user password (reference §2.4, §16).
SEED_SECRET = "f6h1FTI8Q3-7UScPZDzfXA"


def basic(client_id, secret):
    raw = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return "Basic " + base64.b64encode(raw.encode()).decode()


def err(r, status, code=None):
    """Asserts an error answer in light-oauth2's Status shape (reference §2.1)."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    if code:
        assert body["code"] == code, body
        assert body["statusCode"] == status and body["severity"] == "ERROR", body
    return body


class Registry:
    def __init__(self, server):
        self.s = server
        self.url = server.url
        self.tokens = {}

    def token(self, scope=ALL_SCOPES, client=(BOOT_ID, BOOT_SECRET)):
        key = (scope, client)
        if key not in self.tokens:
            r = requests.post(self.url + "/oauth2/token",
                              data={"grant_type": "client_credentials", "scope": scope},
                              headers={"Authorization": basic(*client)}, timeout=10)
            assert r.status_code == 200, r.text
            self.tokens[key] = r.json()["access_token"]
        return self.tokens[key]

    def call(self, method, path, scope=ALL_SCOPES, token=None, headers=None, **kw):
        h = dict(headers or {})
        if token is None and scope is not None:
            token = self.token(scope)
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return requests.request(method, self.url + path, headers=h, timeout=30, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def client_token(self, client_id, secret, scope=None):
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        return requests.post(self.url + "/oauth2/token", data=data,
                             headers={"Authorization": basic(client_id, secret)}, timeout=10)


def start_registry(store=None, tmp=None, env=None):
    return Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                           "PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY, **(env or {})},
                      store=store, tmp=tmp)


@pytest.fixture(scope="module")
def reg():
    s = start_registry()
    yield Registry(s)
    code = s.stop()
    assert code == 0, s.read_log()


def cli(*args, store, stdin=None, timeout=60, env=None):
    """Runs `portcullis <args> --store <store>` with the tests' master key (and `env`)."""
    import subprocess
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_KEYS_MASTER_KEY"] = MASTER_KEY
    env.update(extra)
    return subprocess.run([BIN, *args, "--store", store], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


def require_cli(command):
    """Fails unless the binary has the given registry command (the composition root wires it)."""
    r = run_cli("--help")
    listed = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("  ")]
    assert command in listed, f"this binary has no `{command}` command:\n{r.stdout}"


def new_cli_store(prefix="portcullis-cli-"):
    """A new store made by `portcullis migrate`, as an operator makes one before using the CLI
    (registry commands refuse a store that does not exist). Returns (directory, store URL)."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix=prefix)
    url = "sqlite:" + os.path.join(tmp, "portcullis.db")
    r = cli("migrate", store=url)
    assert r.returncode == 0, r.stderr
    return tmp, url


def test_registry_routes_follow_the_selected_services():
    """Only selected services answer; the others' routes are 404 (README, one service per
    process). Here: client alone, then user and provider together."""
    s = Portcullis(args=("--services", "client,token"),
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    try:
        reg = Registry(s)
        assert reg.get("/oauth2/client?page=0").status_code == 200
        assert reg.get("/oauth2/audit").status_code == 200
        for path in ("/oauth2/service?page=0", "/oauth2/user?page=1", "/oauth2/provider",
                     "/oauth2/refresh_token?page=1"):
            err(reg.get(path), 404, "ERR10007")
    finally:
        assert s.stop() == 0, s.read_log()
    s = Portcullis(args=("--services", "user,provider"), env={"PORTCULLIS_KEYS_MASTER_KEY": MASTER_KEY})
    try:
        # No token endpoint here: without a token the routes that exist answer 401, the rest 404.
        err(requests.get(s.url + "/oauth2/user?page=1", timeout=10), 401, "ERR10002")
        err(requests.get(s.url + "/oauth2/provider", timeout=10), 401, "ERR10002")
        err(requests.get(s.url + "/oauth2/client?page=0", timeout=10), 404, "ERR10007")
    finally:
        assert s.stop() == 0, s.read_log()
