"""The key service (reference §16.6): JWKS with caching headers, per-kid PEM certificates with
light-oauth2's client authentication and federation prefix, rotation and revocation."""
import json
import re
import subprocess

import requests
from cryptography import x509

from conftest import Portcullis, new_pg_database, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401


def current_kid(oauth):
    return requests.get(oauth.url + "/oauth2/keys").json()["keys"][0]["kid"]


def test_jwks_shape_and_http_caching(oauth):
    r = requests.get(oauth.url + "/oauth2/keys")
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert len(keys) == 1
    k = keys[0]
    assert k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" and k["kid"]
    assert "d" not in k and "p" not in k
    assert "max-age=300" in r.headers["Cache-Control"]
    etag = r.headers["ETag"]
    r2 = requests.get(oauth.url + "/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    r3 = requests.get(oauth.url + "/oauth2/keys", headers={"If-None-Match": '"other"'})
    assert r3.status_code == 200 and r3.content == r.content


def test_certificate_by_kid_with_client_authentication(oauth):
    kid = current_kid(oauth)
    cid, secret = oauth.create_client("confidential")
    r = requests.get(f"{oauth.url}/oauth2/key/{kid}", headers={"Authorization": basic(cid, secret)})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/text")
    cert = x509.load_pem_x509_certificate(r.content)
    jwk = requests.get(oauth.url + "/oauth2/keys").json()["keys"][0]
    n = int.from_bytes(__import__("base64").urlsafe_b64decode(jwk["n"] + "=="), "big")
    assert cert.public_key().public_numbers().n == n

    def code(resp):
        return resp.status_code, resp.json()["code"]

    assert code(requests.get(f"{oauth.url}/oauth2/key/{kid}")) == (401, "ERR12002")
    assert code(requests.get(f"{oauth.url}/oauth2/key/{kid}",
                             headers={"Authorization": basic(cid, "wrong")})) == (401, "ERR12007")
    assert code(requests.get(f"{oauth.url}/oauth2/key/{kid}",
                             headers={"Authorization": basic("fake", "x")})) == (404, "ERR12014")
    assert code(requests.get(f"{oauth.url}/oauth2/key/999",
                             headers={"Authorization": basic(cid, secret)})) == (400, "ERR12030")
    # The federation path "00<kid>" is served without authentication (reference §10.1).
    r = requests.get(f"{oauth.url}/oauth2/key/00{kid}")
    assert r.status_code == 200 and r.text.startswith("-----BEGIN CERTIFICATE-----")


def test_provider_prefix_on_kids():
    s = Portcullis(args=["--set", "keys.provider_id=05"],
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    try:
        o = OAuthServer(s)
        kid = current_kid(o)
        assert kid.startswith("05") and len(kid) >= 5
        r = requests.get(f"{o.url}/oauth2/key/00{kid[2:]}")
        assert r.status_code == 200
        # A foreign prefix is another provider's key.
        r = requests.get(f"{o.url}/oauth2/key/07{kid[2:]}",
                         headers={"Authorization": basic(BOOT_ID, BOOT_SECRET)})
        assert r.status_code == 404 and r.json()["code"] == "ERR12017"
    finally:
        assert s.stop() == 0


def test_rotation_and_revocation_through_the_admin_api(oauth):
    before = current_kid(oauth)
    assert oauth.admin("POST", "/oauth2/keys/rotate").status_code == 200
    keys = requests.get(oauth.url + "/oauth2/keys").json()["keys"]
    kids = [k["kid"] for k in keys]
    assert before in kids and len(kids) == 2  # the next key is published before it signs
    states = {k["kid"]: k["state"] for k in oauth.admin("GET", "/oauth2/keys/admin").json()}
    assert states[before] == "current" and "next" in states.values()
    # Tokens are still signed by the current key until publish_ahead has passed.
    cid, secret = oauth.create_client("trusted")
    at = oauth.token({"grant_type": "client_credentials"}, client=(cid, secret)).json()["access_token"]
    header = json.loads(__import__("base64").urlsafe_b64decode(at.split(".")[0] + "=="))
    assert header["kid"] == before
    # Without the scope the admin API refuses.
    r = requests.post(oauth.url + "/oauth2/keys/rotate",
                      headers={"Authorization": "Bearer " + at})
    assert r.status_code == 403 and r.json()["code"] == "ERR10005"
    assert requests.post(oauth.url + "/oauth2/keys/rotate").status_code == 401
    # Emergency revoke: out of the JWKS at once, a new key signs, and tokens it signed stop
    # introspecting as active even when their answer was cached.
    introspect = lambda: requests.post(oauth.url + "/oauth2/introspect", data={"token": at},
                                       auth=(cid, secret)).json()["active"]
    assert introspect() is True and introspect() is True
    assert oauth.admin("POST", f"/oauth2/keys/{before}/revoke").status_code == 200
    assert introspect() is False
    kids = [k["kid"] for k in requests.get(oauth.url + "/oauth2/keys").json()["keys"]]
    assert before not in kids
    at2 = oauth.token({"grant_type": "client_credentials"}, client=(cid, secret)).json()["access_token"]
    header2 = json.loads(__import__("base64").urlsafe_b64decode(at2.split(".")[0] + "=="))
    assert header2["kid"] != before and header2["kid"] in kids


def test_keys_cli_lists_and_rotates(tmp_path):
    store = f"sqlite:{tmp_path}/k.db"
    env = {"PORTCULLIS_KEYS_MASTER_KEY": "2" * 64}
    r = run_cli("keys", "rotate", "--create", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("keys", "list", "--json", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    states = sorted(k["state"] for k in json.loads(r.stdout))
    assert states == ["current", "next"]
    r = run_cli("keys", "list", "--store", store, env={"PORTCULLIS_KEYS_MASTER_KEY": "3" * 64})
    assert r.returncode == 0  # listing needs no private key


ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_keys_cli_list_is_readable_and_its_json_matches_the_admin_api(oauth):
    """`keys list` shows ISO 8601 UTC times and "-" for times not set (never `0` or epoch
    seconds); `keys list --json` has the admin API's members (publishAt, not createdAt)."""
    store = "sqlite:" + oauth.s.tmp + "/portcullis.db"
    env = {"PORTCULLIS_KEYS_MASTER_KEY": "0" * 64}
    r = run_cli("keys", "list", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["KID", "ALG", "STATE", "PUBLISHED", "ACTIVATES", "RETIRED",
                                "EXPIRES"]
    row = lines[1].split()
    assert row[2] == "current"
    assert re.fullmatch(ISO_UTC, row[3]) and re.fullmatch(ISO_UTC, row[4]), lines[1]
    assert row[5] == "-" and row[6] == "-", lines[1]  # not retired, no expiry yet
    assert not re.search(r"\b1[0-9]{9}\b", r.stdout), r.stdout  # no epoch seconds
    assert all(line == line.rstrip() for line in lines)

    r = run_cli("keys", "list", "--json", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    cli_keys = json.loads(r.stdout)
    api = oauth.admin("GET", "/oauth2/keys/admin")
    assert api.status_code == 200, api.text
    api_keys = api.json()
    assert [set(k) for k in cli_keys] == [set(k) for k in api_keys]
    assert "publishAt" in cli_keys[0] and "createdAt" not in cli_keys[0]
    assert cli_keys == api_keys  # one published key: the same record both ways


def key_audit(oauth, kid):
    r = oauth.admin("GET", f"/oauth2/audit?entityKind=key&entityId={kid}&pageSize=100")
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_key_rotation_and_revocation_are_audited(oauth):
    before = current_kid(oauth)
    assert key_audit(oauth, before) == []  # the first key is not an admin change
    r = oauth.admin("POST", "/oauth2/keys/rotate")
    assert r.status_code == 200, r.text
    new = r.json()["kid"]
    entries = key_audit(oauth, new)
    assert [e["action"] for e in entries] == ["key.rotate"]
    assert entries[0]["actor"] == "client:" + BOOT_ID
    assert entries[0]["before"] is None and entries[0]["after"]["state"] == "next"

    r = oauth.admin("POST", f"/oauth2/keys/{before}/revoke")
    assert r.status_code == 200, r.text
    oauth._admin = None  # the admin token was signed by the revoked key
    entries = key_audit(oauth, before)
    assert [e["action"] for e in entries] == ["key.revoke"]
    assert entries[0]["before"]["state"] == "current" and entries[0]["after"]["state"] == "revoked"
    # The next key took over at once: recorded under the same revocation.
    promoted = key_audit(oauth, new)
    assert [e["action"] for e in promoted] == ["key.revoke", "key.rotate"]
    assert promoted[0]["after"]["state"] == "current"
    text = oauth.admin("GET", "/oauth2/audit?entityKind=key&pageSize=100").text
    assert "PRIVATE" not in text and "privateKey" not in text

    # A refused revocation (unknown kid) records nothing.
    assert oauth.admin("POST", "/oauth2/keys/999999/revoke").status_code == 404
    assert key_audit(oauth, "999999") == []


def test_key_cli_changes_are_audited(tmp_path):
    store = f"sqlite:{tmp_path}/k.db"
    env = {"PORTCULLIS_KEYS_MASTER_KEY": "2" * 64, "USER": "ops"}
    r = run_cli("keys", "rotate", "--create", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    kid = r.stdout.strip()
    r = run_cli("keys", "revoke", kid, "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("audit", "list", "--kind", "key", "--json", "--store", store, env=env)
    assert r.returncode == 0, r.stderr
    entries = json.loads(r.stdout)["entries"]
    mine = [(e["action"], e["actor"]) for e in entries if e["entityId"] == kid]
    assert mine == [("key.revoke", "cli:ops"), ("key.rotate", "cli:ops")]


def test_key_changes_are_audited_on_postgres():
    s = Portcullis(store=new_pg_database(),
                   env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    try:
        server = OAuthServer(s)
        before = current_kid(server)
        new = server.admin("POST", "/oauth2/keys/rotate").json()["kid"]
        assert server.admin("POST", f"/oauth2/keys/{before}/revoke").status_code == 200
        server._admin = None
        assert [e["action"] for e in key_audit(server, new)] == ["key.revoke", "key.rotate"]
        revoked = key_audit(server, before)
        assert [e["action"] for e in revoked] == ["key.revoke"]
        assert revoked[0]["actor"] == "client:" + BOOT_ID
    finally:
        assert s.stop() == 0, s.read_log()
