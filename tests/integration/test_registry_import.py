"""`portcullis import light-oauth2`: a dump built from light-oauth2's seed rows (reference §3.1,
§16: user admin/123456, clients with secret f6h1FTI8Q3-7UScPZDzfXA hashed by light-4j's PBKDF2
with its odd salt format, §2.4) is imported; then the imported password and secret verify over
HTTP, and the preloaded refresh token passes light-oauth2's refresh-token tests (§16.7)."""
import hashlib
import os
import random
import subprocess
import tempfile

import pytest
import requests

from conftest import PG_URL, new_pg_database, skip_unless_available
from test_registry_common import (SEED_SECRET, Registry, basic, cli, err, require_cli,
                                  start_registry)

REFRESH = "86c0a39f-0789-4b71-9fed-d99fe6dc9281"
PETSTORE = "f7d42348-c647-4efb-a52d-4c5787421e72"
TRUSTED = "59f347a0-c92d-11e6-9d9d-cec0c932ce01"


def light4j_hash(secret):
    """light-4j HashUtil: PBKDF2-HMAC-SHA1, 1000 iterations, 64 bytes; the salt is the UTF-8 text
    of Java's Arrays.toString(16 random signed bytes)."""
    signed = [random.randint(-128, 127) for _ in range(16)]
    salt = ("[" + ", ".join(str(b) for b in signed) + "]").encode()
    dk = hashlib.pbkdf2_hmac("sha1", secret.encode(), salt, 1000, 64)
    return "1000:" + salt.hex() + ":" + dk.hex()


def seed_sql():
    admin, secret = light4j_hash("123456"), light4j_hash(SEED_SECRET)
    return f"""-- light-oauth2 seed rows (create_postgres.sql style)
INSERT INTO user_profile (user_id, user_type, first_name, last_name, email, roles, password)
VALUES('admin', 'admin', 'admin', 'admin', 'admin@networknt.com', 'user admin', '{admin}');
INSERT INTO client (client_id, client_type, client_profile, client_name, client_desc, scope,
  custom_claim, redirect_uri, owner_id, host, client_secret)
VALUES('{PETSTORE}', 'public', 'mobile', 'PetStore Web Server',
  'PetStore Web Server that calls PetStore API', 'petstore.r petstore.w',
  '{{"c1": "361", "c2": "67"}}', 'http://localhost:8080/authorization', 'admin', 'lightapi.net',
  '{secret}');
INSERT INTO client (client_id, client_type, client_profile, client_name, client_desc, scope,
  owner_id, host, client_secret)
VALUES('{TRUSTED}', 'trusted', 'service', 'Test80', 'test', 'data.w data.r', 'admin',
  'lightapi.net', '{secret}');
INSERT INTO service (service_id, service_type, service_name, service_desc, scope, owner_id, host)
VALUES ('AACT0001', 'openapi', 'Account Service', 'A microservice that serves account information',
  'a.r b.r', 'admin', 'lightapi.net');
INSERT INTO service_endpoint (service_id, endpoint, operation, scope)
VALUES ('AACT0001', '/v1/data@get', 'getData', 'data.w data.r'),
       ('AACT0001', '/v1/data@post', 'postData', 'data.w');
INSERT INTO client_service (client_id, service_id, endpoint)
VALUES ('{TRUSTED}', 'AACT0001', '/v1/data@get');
INSERT INTO oauth_provider (provider_id, server_url, uri, provider_name)
VALUES ('05', 'http://google.ca/light-4j:8080', '/oauth/key', 'cloud light-4j');
INSERT INTO refresh_token (user_id, user_type, roles, client_id, scope, remember, refresh_token)
VALUES ('admin', 'admin', 'user admin', '{TRUSTED}', 'data.r', 'N', '{REFRESH}');
"""


SCHEMA = """
CREATE TABLE user_profile (user_id VARCHAR(32) PRIMARY KEY, user_type VARCHAR(16) NOT NULL,
  first_name VARCHAR(32) NOT NULL, last_name VARCHAR(32) NOT NULL, email VARCHAR(64) NOT NULL,
  password VARCHAR(1024) NOT NULL, roles VARCHAR(2048));
CREATE TABLE client (client_id VARCHAR(36) PRIMARY KEY, client_type VARCHAR(12) NOT NULL,
  client_profile VARCHAR(10) NOT NULL, client_secret VARCHAR(1024) NOT NULL,
  client_name VARCHAR(32) NOT NULL, client_desc VARCHAR(2048), scope VARCHAR(4000),
  custom_claim VARCHAR(4000), redirect_uri VARCHAR(1024), authenticate_class VARCHAR(256),
  deref_client_id VARCHAR(36), owner_id VARCHAR(64) NOT NULL, host VARCHAR(64) NOT NULL);
CREATE TABLE service (service_id VARCHAR(32) PRIMARY KEY, service_type VARCHAR(16) NOT NULL,
  service_name VARCHAR(32) NOT NULL, service_desc VARCHAR(1024), scope VARCHAR(1024),
  owner_id VARCHAR(64) NOT NULL, host VARCHAR(64) NOT NULL);
CREATE TABLE service_endpoint (service_id VARCHAR(32) NOT NULL, endpoint VARCHAR(256) NOT NULL,
  operation VARCHAR(256) NOT NULL, scope VARCHAR(64) NOT NULL,
  PRIMARY KEY (service_id, endpoint), FOREIGN KEY (service_id) REFERENCES service(service_id));
CREATE TABLE client_service (client_id VARCHAR(36) NOT NULL, service_id VARCHAR(32) NOT NULL,
  endpoint VARCHAR(256) NOT NULL, PRIMARY KEY (client_id, service_id, endpoint),
  FOREIGN KEY (service_id, endpoint) REFERENCES service_endpoint(service_id, endpoint),
  FOREIGN KEY (client_id) REFERENCES client(client_id));
CREATE TABLE refresh_token (user_id VARCHAR(36) NOT NULL, user_type VARCHAR(36),
  roles VARCHAR(2048), client_id VARCHAR(36) NOT NULL, scope VARCHAR(64) NOT NULL,
  remember VARCHAR(1) NOT NULL, refresh_token VARCHAR(256) NOT NULL,
  PRIMARY KEY (client_id, refresh_token), FOREIGN KEY (client_id) REFERENCES client(client_id));
CREATE TABLE oauth_provider (provider_id VARCHAR(2) NOT NULL PRIMARY KEY,
  server_url VARCHAR(256) NOT NULL, uri VARCHAR(64) NOT NULL, provider_name VARCHAR(64));
"""


def check_imported(reg):
    c = reg.get(f"/oauth2/client/{PETSTORE}").json()
    assert c["tokenProfile"] == "light-4j" and c["scope"] == "petstore.r petstore.w"
    assert c["customClaim"] == '{"c1":"361","c2":"67"}'
    assert c["redirectUris"] == ["http://localhost:8080/authorization"]
    assert reg.get(f"/oauth2/client/{TRUSTED}/service").json() == {"AACT0001": ["/v1/data@get"]}
    assert len(reg.get("/oauth2/service/AACT0001/endpoint").json()) == 2
    assert reg.get("/oauth2/provider").json()["05"]["providerName"] == "cloud light-4j"
    # light-oauth2's refresh-token tests (§16.7) on the imported token.
    listed = reg.get("/oauth2/refresh_token?page=1").json()
    assert 1 <= len(listed) <= 2 and listed[0]["userId"] == "admin"
    assert REFRESH not in str(listed)
    err(reg.get("/oauth2/refresh_token"), 400, "ERR11000")
    r = reg.get(f"/oauth2/refresh_token/{REFRESH}")
    assert r.status_code == 200 and r.json()["clientId"] == TRUSTED
    err(reg.get("/oauth2/refresh_token/fake"), 404, "ERR12029")
    assert reg.delete(f"/oauth2/refresh_token/{REFRESH}").status_code == 200
    assert reg.get("/oauth2/refresh_token?page=1").json() == []
    err(reg.delete("/oauth2/refresh_token/fake"), 404, "ERR12029")
    # The imported client secret verifies at the token endpoint (and is upgraded on the way).
    r = requests.post(reg.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                      headers={"Authorization": basic(TRUSTED, SEED_SECRET)}, timeout=10)
    assert r.status_code == 200, r.text
    err(requests.post(reg.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                      headers={"Authorization": basic(TRUSTED, SEED_SECRET + "x")}, timeout=10),
        401, "ERR12007")
    # The imported password verifies: light-oauth2's password grant for admin/123456.
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "password", "username": "admin", "password": "123456",
        "scope": "data.r"}, headers={"Authorization": basic(TRUSTED, SEED_SECRET)}, timeout=10)
    assert r.status_code == 200, r.text
    # The import is in the audit trail, without secrets.
    audit = reg.get("/oauth2/audit?action=import.light_oauth2")
    assert audit.json()["total"] >= 1 and "1000:" not in audit.text


def test_import_a_sql_dump():
    require_cli("import")
    tmp = tempfile.mkdtemp(prefix="portcullis-import-")
    store = "sqlite:" + os.path.join(tmp, "portcullis.db")
    dump = os.path.join(tmp, "light-oauth2.sql")
    with open(dump, "w") as f:
        f.write(seed_sql())
    # A new store: --create, as an operator importing into a fresh installation would.
    r = cli("import", "light-oauth2", "--from", dump, "--dry-run", "--json", "--create",
            store=store)
    assert r.returncode == 0, r.stderr
    r = cli("client", "get", PETSTORE, store=store)
    assert r.returncode == 1 and "ERR12014" in r.stderr  # a dry run writes nothing
    r = cli("import", "light-oauth2", "--from", dump, store=store)
    assert r.returncode == 0, r.stderr
    assert "clients         imported 2, skipped 0" in r.stdout, r.stdout
    # light-oauth2's http provider is imported, with a warning: federation fetches over https
    # only. The legacy grant lists are checked against the grant registry, and pass.
    out = r.stdout + r.stderr
    assert "provider 05: serverUrl is not https" in out, out
    assert "is not one of" not in out, out
    # The seed client's secret verifies through the CLI too.
    r = cli("client", "verify-secret", PETSTORE, store=store, stdin=SEED_SECRET + "\n")
    assert r.returncode == 0, r.stderr
    r = cli("client", "verify-secret", PETSTORE, store=store, stdin="wrong\n")
    assert r.returncode == 1
    # Importing again skips what is there.
    r = cli("import", "light-oauth2", "--from", dump, store=store)
    assert r.returncode == 0 and "users           imported 0, skipped 1" in r.stdout, r.stdout
    s = start_registry(store=store, tmp=tmp)
    try:
        check_imported(Registry(s))
    finally:
        assert s.stop() == 0, s.read_log()


def test_import_from_a_light_oauth2_postgres_database():
    if not PG_URL:
        skip_unless_available("pg", "PORTCULLIS_TEST_PG_URL is not set")
    require_cli("import")
    source = new_pg_database()
    subprocess.run(["psql", source, "-q", "-v", "ON_ERROR_STOP=1", "-c", SCHEMA + seed_sql()],
                   check=True, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="portcullis-import-pg-")
    store = "sqlite:" + os.path.join(tmp, "portcullis.db")
    r = cli("import", "light-oauth2", "--from", source, "--json", "--create", store=store)
    assert r.returncode == 0, r.stderr
    s = start_registry(store=store, tmp=tmp)
    try:
        check_imported(Registry(s))
    finally:
        assert s.stop() == 0, s.read_log()


def test_import_refuses_a_missing_or_malformed_dump():
    require_cli("import")
    tmp = tempfile.mkdtemp(prefix="portcullis-import-bad-")
    store = "sqlite:" + os.path.join(tmp, "portcullis.db")
    r = cli("import", "light-oauth2", "--from", os.path.join(tmp, "none.sql"), "--create",
            store=store)
    assert r.returncode == 2 and "cannot read" in r.stderr
    bad = os.path.join(tmp, "bad.sql")
    with open(bad, "w") as f:
        f.write("\n\nINSERT INTO client (client_id) VALUES ('a', 'b');\n")
    r = cli("import", "light-oauth2", "--from", bad, store=store)
    assert r.returncode == 1 and "dump line 3" in r.stderr, r.stderr
