"""The audit trail: every admin change records who, what, when and the state before and after,
with no secrets; it is queryable over the API (and the CLI, see test_registry_cli.py)."""
from test_registry_common import BOOT_ID, err, reg  # noqa: F401


def test_changes_are_audited_without_secrets(reg):  # noqa: F811
    r = reg.post("/oauth2/client", json={"clientType": "confidential", "clientProfile": "service",
                                         "clientName": "audited", "host": "h"})
    assert r.status_code == 200
    cid, secret = r.json()["clientId"], r.json()["clientSecret"]
    assert reg.put("/oauth2/client", json={"clientId": cid, "clientName": "audited 2"}).status_code == 200
    rotated = reg.post(f"/oauth2/client/{cid}/secret").json()["clientSecret"]
    assert reg.post("/oauth2/user", json={
        "userId": "audit-user", "userType": "customer", "email": "a@example.com",
        "password": "audit-password-1", "passwordConfirm": "audit-password-1"}).status_code == 200
    assert reg.post("/oauth2/password/audit-user", json={
        "password": "audit-password-1", "newPassword": "audit-password-2",
        "newPasswordConfirm": "audit-password-2"}).status_code == 200
    assert reg.delete(f"/oauth2/client/{cid}").status_code == 200

    r = reg.get(f"/oauth2/audit?entityKind=client&entityId={cid}")
    assert r.status_code == 200, r.text
    body = r.json()
    actions = [e["action"] for e in body["entries"]]
    assert actions == ["client.delete", "client.rotate_secret", "client.update", "client.create"]
    assert body["total"] == 4
    update = body["entries"][2]
    assert update["actor"] == "client:" + BOOT_ID
    assert update["before"]["clientName"] == "audited" and update["after"]["clientName"] == "audited 2"
    assert body["entries"][0]["after"] is None and body["entries"][3]["before"] is None
    assert isinstance(update["at"], int) and update["at"] > 1_600_000_000
    r = reg.get("/oauth2/audit?pageSize=100")
    for s in (secret, rotated, "audit-password-1", "audit-password-2", "hs256$", "$argon2id$"):
        assert s not in r.text, s
    users = reg.get("/oauth2/audit?entityKind=user&entityId=audit-user").json()
    assert [e["action"] for e in users["entries"]] == ["user.password", "user.create"]


def test_audit_filters_and_paging(reg):  # noqa: F811
    r = reg.get("/oauth2/audit?action=client.&pageSize=1")
    assert r.status_code == 200 and len(r.json()["entries"]) == 1 and r.json()["total"] >= 1
    assert reg.get("/oauth2/audit?since=4000000000").json()["total"] == 0
    err(reg.get("/oauth2/audit?since=yesterday"), 400, "ERR11004")
    err(reg.get("/oauth2/audit?pageSize=5000"), 400, "ERR11004")
    err(reg.get("/oauth2/audit", scope="portal.r portal.w"), 403, "ERR10005")
