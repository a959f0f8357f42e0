"""User registry over HTTP: light-oauth2's user tests (reference §16.5)."""
import pytest
import requests

from test_registry_common import err, reg  # noqa: F401


def user(uid, email=None, pw="123456-secret", confirm=None, **fields):
    body = {"userId": uid, "userType": "customer", "firstName": "First", "lastName": "Last",
            "email": email or f"{uid}@example.com", "password": pw,
            "passwordConfirm": pw if confirm is None else confirm, "roles": "user"}
    body.update(fields)
    return body


@pytest.fixture(scope="module", autouse=True)
def users(reg):  # noqa: F811
    for uid in ["admin", "delete"] + [f"test{i:02d}" for i in range(1, 13)]:
        r = reg.post("/oauth2/user", json=user(uid, email="admin@networknt.com" if uid == "admin"
                                               else None, userType="admin" if uid == "admin"
                                               else "customer"))
        assert r.status_code == 200, r.text


def test_create(reg):  # noqa: F811
    r = reg.post("/oauth2/user", json=user("newuser"))
    assert r.status_code == 200 and r.text == ""


def test_create_conflicts_and_password_checks(reg):  # noqa: F811
    err(reg.post("/oauth2/user", json=user("admin", email="other@example.com")), 400, "ERR12020")
    err(reg.post("/oauth2/user", json=user("other", email="admin@networknt.com")), 400, "ERR12021")
    body = user("other")
    del body["password"], body["passwordConfirm"]
    err(reg.post("/oauth2/user", json=body), 400, "ERR12011")
    err(reg.post("/oauth2/user", json=user("other", confirm="different-1")), 400, "ERR12012")
    b = err(reg.post("/oauth2/user", json=user("other", pw="short")), 400, "ERR11004")
    assert b["description"] == "password: at least 8 characters"


def test_update(reg):  # noqa: F811
    r = reg.put("/oauth2/user", json={"userId": "admin", "firstName": "Steve", "password": None})
    assert r.status_code == 200, r.text
    assert reg.get("/oauth2/user/admin").json()["firstName"] == "Steve"
    err(reg.put("/oauth2/user", json={"userId": "nobody", "firstName": "x"}), 404, "ERR12013")


def test_list_pages(reg):  # noqa: F811
    err(reg.get("/oauth2/user"), 400, "ERR11000")
    page1 = reg.get("/oauth2/user?page=1").json()
    assert len(page1) == 10 and page1[0]["userId"] == "admin"
    assert all("password" not in u for u in page1)
    page2 = reg.get("/oauth2/user?page=2").json()
    assert 3 <= len(page2) <= 5
    assert len(reg.get("/oauth2/user?page=2&userId=test").json()) == 2


def test_get_and_delete(reg):  # noqa: F811
    r = reg.get("/oauth2/user/admin")
    assert r.status_code == 200 and r.json()["userType"] == "admin"
    assert "password" not in r.json() and "argon2" not in r.text
    assert reg.delete("/oauth2/user/delete").status_code == 200
    err(reg.get("/oauth2/user/delete"), 404, "ERR12013")
    err(reg.delete("/oauth2/user/delete"), 404, "ERR12013")


def test_password_change(reg):  # noqa: F811
    r = reg.post("/oauth2/password/test01", json={
        "password": "wrong-password", "newPassword": "new-password-1",
        "newPasswordConfirm": "new-password-1"})
    assert r.status_code == 401 and "INCORRECT_PASSWORD" in r.text
    r = reg.post("/oauth2/password/test01", json={
        "password": "123456-secret", "newPassword": "new-password-1",
        "newPasswordConfirm": "new-password-2"})
    assert r.status_code == 400 and "PASSWORD_PASSWORDCONFIRM_NOT_MATCH" in r.text
    r = reg.post("/oauth2/password/test01", json={
        "password": "123456-secret", "newPassword": "new-password-1",
        "newPasswordConfirm": "new-password-1"})
    assert r.status_code == 200, r.text
    # The new password validates: the current-password check passes with it.
    r = reg.post("/oauth2/password/test01", json={
        "password": "new-password-1", "newPassword": "new-password-3",
        "newPasswordConfirm": "new-password-3"})
    assert r.status_code == 200, r.text
    err(reg.post("/oauth2/password/nobody", json={
        "password": "a", "newPassword": "b", "newPasswordConfirm": "b"}), 404, "ERR12013")


def test_unicode_and_hostile_fields(reg):  # noqa: F811
    r = reg.post("/oauth2/user", json=user("zoe", firstName="Zoë", lastName="O'Brien; --",
                                           pw="pässwörd ☃ 𝄞"))
    assert r.status_code == 200, r.text
    u = reg.get("/oauth2/user/zoe").json()
    assert u["firstName"] == "Zoë" and u["lastName"] == "O'Brien; --"
    r = reg.post("/oauth2/password/zoe", json={"password": "pässwörd ☃ 𝄞",
                                              "newPassword": "next-pässwörd",
                                              "newPasswordConfirm": "next-pässwörd"})
    assert r.status_code == 200, r.text
    for body, field in [(user("zoë"), "userId"), (user("x' OR '1'='1"), "userId"),
                        (user("u1", email="not-an-email"), "email"),
                        (user("u1", userType="root"), "userType"),
                        (user("u1", firstName="f" * 33), "firstName"),
                        (user("u1", roles=123), "roles"),
                        (user("u1", isAdmin=True), "isAdmin")]:
        b = err(reg.post("/oauth2/user", json=body), 400, "ERR11004")
        assert b["description"].startswith(field + ":"), b
