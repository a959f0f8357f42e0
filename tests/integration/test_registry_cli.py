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
