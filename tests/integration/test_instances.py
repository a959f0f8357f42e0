"""The instances a deployment runs, black-box (README "Console", dashboard "instances seen"):
every serving process records itself in the store at start and on a heartbeat; GET
/oauth2/instances lists them, marking stale one that stopped beating; a clean stop removes the
instance. Two processes share one PostgreSQL database here, as a cluster does."""
import requests

from conftest import Portcullis, new_pg_database, poll
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer

BOOT = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def instances(oauth):
    r = oauth.admin("GET", "/oauth2/instances")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def test_two_processes_on_one_postgres_see_each_other(tmp_path):
    url = new_pg_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Portcullis(store=url, tmp=str(tmp_path / "a"), env=BOOT)
    b = Portcullis(store=url, tmp=str(tmp_path / "b"), env=BOOT,
                   args=("--services", "code,token,user,client,service,console,key,"
                                       "provider,refresh-token"))
    try:
        oauth = OAuthServer(a)
        both = poll(lambda: (lambda l: l if len(l) == 2 else None)(instances(oauth)),
                    "both instances listed")
        by_pid = {i["pid"]: i for i in both}
        assert set(by_pid) == {a.proc.pid, b.proc.pid}, both
        for i in both:
            assert i["instanceId"] and i["host"] and i["version"], i
            assert i["stale"] is False, i
            assert i["lastSeen"] >= i["startedAt"] > 0, i
        assert by_pid[a.proc.pid]["instanceId"] != by_pid[b.proc.pid]["instanceId"]
        # `all` is listed as the services it stands for; b runs fewer.
        assert {"code", "token", "console", "user"} <= set(by_pid[a.proc.pid]["services"])
        assert by_pid[b.proc.pid]["services"] == ["code", "token", "user", "client", "service",
                                                  "console", "key", "provider", "refresh-token"]
        # The other process answers the same list.
        assert {i["pid"] for i in instances(OAuthServer(b))} == set(by_pid)
        # Heartbeats move lastSeen on.
        first = by_pid[b.proc.pid]["lastSeen"]
        poll(lambda: next(i for i in instances(oauth) if i["pid"] == b.proc.pid)["lastSeen"] >
             first, "a second heartbeat of b", deadline_s=30)

        # b dies without a word (SIGKILL): it turns stale; a stays running.
        b.proc.kill()
        b.proc.wait()
        stale = poll(lambda: [i for i in instances(oauth) if i["stale"]], "b marked stale",
                     deadline_s=60, interval_s=0.5)
        assert [i["pid"] for i in stale] == [b.proc.pid], stale
        assert [i["stale"] for i in instances(oauth) if i["pid"] == a.proc.pid] == [False]
    finally:
        b.stop()
        code = a.stop()
    assert code == 0, a.read_log()

    # A clean stop removed a's row; b's stale row stays until purged.
    c = Portcullis(store=url, tmp=str(tmp_path / "a"), env=BOOT)
    try:
        pids = {i["pid"] for i in instances(OAuthServer(c))}
        assert a.proc.pid not in pids and b.proc.pid in pids and c.proc.pid in pids, pids
    finally:
        c.stop()


def test_instances_need_an_admin_token(tmp_path):
    s = Portcullis(tmp=str(tmp_path), env=BOOT)
    try:
        r = requests.get(s.url + "/oauth2/instances", timeout=10)
        assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"], r.text
        oauth = OAuthServer(s)
        cid, secret = oauth.create_client("confidential", scope="portal.r")
        token = oauth.token({"grant_type": "client_credentials"}, client=(cid, secret))
        r = requests.get(s.url + "/oauth2/instances", timeout=10,
                         headers={"Authorization": "Bearer " + token.json()["access_token"]})
        assert r.status_code == 403, r.text
        [me] = instances(oauth)
        assert me["pid"] == s.proc.pid and me["stale"] is False, me
    finally:
        assert s.stop() == 0, s.read_log()
