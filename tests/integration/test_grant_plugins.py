"""Grants as plug-ins, seen from outside: a client secret imported from light-oauth2 (a PBKDF2
digest, reference §2.4) is upgraded to the keyed digest on its first successful use at the token
endpoint, and the old secret keeps working; a client_credentials request that names a resource
or audience reads the service registry on a pool, never on an I/O thread."""
import os
import sqlite3
import tempfile

import requests

from test_registry_common import SEED_SECRET, Registry, basic, cli, err, require_cli, \
    start_registry
from test_registry_import import TRUSTED, seed_sql


def stored_hash(db_path, client_id):
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT secret_hash FROM clients WHERE client_id = ?",
                         (client_id,)).fetchone()
    return row[0]


def token(url, secret, **data):
    return requests.post(url + "/oauth2/token", data={"grant_type": "client_credentials", **data},
                         headers={"Authorization": basic(TRUSTED, secret)}, timeout=10)


def imported_store():
    require_cli("import")
    tmp = tempfile.mkdtemp(prefix="portcullis-grants-")
    db_path = os.path.join(tmp, "portcullis.db")
    dump = os.path.join(tmp, "light-oauth2.sql")
    with open(dump, "w") as f:
        f.write(seed_sql())
    r = cli("import", "light-oauth2", "--from", dump, "--create", store="sqlite:" + db_path)
    assert r.returncode == 0, r.stderr
    return tmp, db_path


def test_an_imported_pbkdf2_secret_is_upgraded_on_its_first_token_request():
    tmp, db_path = imported_store()
    before = stored_hash(db_path, TRUSTED)
    assert before.startswith("1000:"), before  # light-4j's PBKDF2 format, as imported
    s = start_registry(store="sqlite:" + db_path, tmp=tmp)
    try:
        # A wrong secret upgrades nothing.
        err(token(s.url, SEED_SECRET + "x"), 401, "ERR12007")
        assert stored_hash(db_path, TRUSTED) == before
        r = token(s.url, SEED_SECRET)
        assert r.status_code == 200, r.text
        after = stored_hash(db_path, TRUSTED)
        assert after != before and after.startswith("hs256$"), after
        # The same secret still works, now against the keyed digest (and on the I/O thread).
        for _ in range(2):
            r = token(s.url, SEED_SECRET)
            assert r.status_code == 200, r.text
        assert stored_hash(db_path, TRUSTED) == after
        err(token(s.url, SEED_SECRET + "x"), 401, "ERR12007")
        # The upgrade is audited, once, without the secret.
        audit = Registry(s).get("/oauth2/audit?action=client.upgrade_secret")
        assert audit.status_code == 200, audit.text
        assert audit.json()["total"] == 1, audit.text
        assert SEED_SECRET not in audit.text and "1000:" not in audit.text
    finally:
        assert s.stop() == 0, s.read_log()
    log = s.read_log()
    assert "secret_upgrade_failed" not in log, log
    assert "blocking_on_io_thread" not in log, log


def test_client_credentials_naming_a_target_runs_where_it_may_read_the_store():
    tmp, db_path = imported_store()
    s = start_registry(store="sqlite:" + db_path, tmp=tmp)
    try:
        assert token(s.url, SEED_SECRET).status_code == 200  # upgraded: now a hot-path client
        for field in ("audience", "resource"):
            r = token(s.url, SEED_SECRET, **{field: "AACT0001"})
            assert r.status_code == 200, r.text
            # The service's endpoints define data.w and data.r; the client holds both.
            assert set(r.json()["scope"].split()) == {"data.r", "data.w"}, r.text
            r = token(s.url, SEED_SECRET, **{field: "no-such-service"})
            assert r.status_code == 400 and r.json()["error"] == "invalid_target", r.text
    finally:
        assert s.stop() == 0, s.read_log()
    assert "blocking_on_io_thread" not in s.read_log()
