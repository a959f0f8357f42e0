"""Refresh-token admin over HTTP: light-oauth2's refresh-token tests (reference §16.7). The
token light-oauth2 preloads into its grid is obtained here through the password grant."""
import pytest
import requests

from oauth_fixtures import oauth  # noqa: F401 (fixture)
from test_registry_common import basic, err, reg  # noqa: F401


@pytest.fixture(scope="module")
def issued(reg):  # noqa: F811
    r = reg.post("/oauth2/client", json={
        "clientType": "trusted", "clientProfile": "mobile", "clientName": "PetStore",
        "host": "lightapi.net", "scope": "petstore.r petstore.w"})
    assert r.status_code == 200, r.text
    cid, secret = r.json()["clientId"], r.json()["clientSecret"]
    r = reg.post("/oauth2/user", json={
        "userId": "admin", "userType": "admin", "email": "admin@networknt.com",
        "password": "123456-secret", "passwordConfirm": "123456-secret", "roles": "user admin"})
    assert r.status_code == 200, r.text
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "password", "username": "admin", "password": "123456-secret",
        "scope": "petstore.r"}, headers={"Authorization": basic(cid, secret)}, timeout=10)
    assert r.status_code == 200 and "refresh_token" in r.json(), \
        "the password grant must issue a refresh token: " + r.text
    return cid, secret, r.json()["refresh_token"]


def test_refresh_token_scenarios(reg, issued):  # noqa: F811
    cid, secret, token = issued
    r = reg.get("/oauth2/refresh_token?page=1")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert 1 <= len(listed) <= 2 and listed[0]["userId"] == "admin"
    assert token not in r.text  # stored hashed: the token itself is never shown
    err(reg.get("/oauth2/refresh_token"), 400, "ERR11000")
    r = reg.get("/oauth2/refresh_token/" + token)
    assert r.status_code == 200 and r.json()["clientId"] == cid
    assert r.json()["scope"] == "petstore.r" and r.json()["userType"] == "admin"
    # The listed handle (the token's hash) works too.
    assert reg.get("/oauth2/refresh_token/" + listed[0]["refreshToken"]).status_code == 200
    err(reg.get("/oauth2/refresh_token/fake"), 404, "ERR12029")
    assert reg.delete("/oauth2/refresh_token/" + token).status_code == 200
    assert reg.get("/oauth2/refresh_token?page=1").json() == []
    err(reg.delete("/oauth2/refresh_token/fake"), 404, "ERR12029")
    # The revoked token no longer refreshes.
    r = requests.post(reg.url + "/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": token},
        headers={"Authorization": basic(cid, secret)}, timeout=10)
    assert r.status_code in (400, 401, 404), r.text


def test_list_by_client_and_by_user_pages_in_the_server_with_a_total(oauth):  # noqa: F811
    """GET /oauth2/refresh_token?clientId=... filters in the store (exact client id, with or
    without a userId prefix), pages there, and says in X-Total-Count how many match in all; the
    user list does the same."""
    clients = [oauth.create_client("trusted", clientProfile="mobile") for _ in range(2)]
    for user in ("u1", "u2"):
        oauth.create_user(user_id=user, password="password-of-" + user)

    def issue(client, user):
        r = oauth.token({"grant_type": "password", "username": user,
                         "password": "password-of-" + user, "scope": "petstore.r"}, client=client)
        assert r.status_code == 200 and "refresh_token" in r.json(), r.text
        return r.json()["refresh_token"]

    a, b = clients
    for i in range(7):
        issue(a, "u1" if i < 4 else "u2")
    issue(b, "u1")
    issue(b, "u2")

    def listing(**params):
        r = oauth.admin("GET", "/oauth2/refresh_token", params={"page": 1, **params})
        assert r.status_code == 200, r.text
        return r.json(), int(r.headers["X-Total-Count"])

    seen = []
    for page in (1, 2, 3):
        items, total = listing(clientId=a[0], pageSize=3, page=page)
        assert total == 7
        assert len(items) == (3 if page < 3 else 1), items
        assert {t["clientId"] for t in items} == {a[0]}
        seen += [t["refreshToken"] for t in items]
    assert len(set(seen)) == 7
    items, total = listing(clientId=b[0])
    assert total == 2 and {t["clientId"] for t in items} == {b[0]}
    items, total = listing(clientId=a[0], userId="u2")
    assert total == 3 and {(t["clientId"], t["userId"]) for t in items} == {(a[0], "u2")}
    assert listing(clientId=a[0][:-1]) == ([], 0)  # exact, not a prefix
    assert listing(pageSize=1)[1] == 9
    r = oauth.admin("GET", "/oauth2/refresh_token", params={"page": 1, "clientId": "x" * 256})
    assert r.status_code == 400, r.text

    # Revoking a family leaves the count right.
    assert oauth.admin("DELETE", "/oauth2/refresh_token/" + seen[0]).status_code == 200
    assert listing(clientId=a[0])[1] == 6
    assert listing()[1] == 8

    r = oauth.admin("GET", "/oauth2/user", params={"page": 1, "pageSize": 1})
    assert r.status_code == 200 and len(r.json()) == 1, r.text
    assert r.headers["X-Total-Count"] == "2"
    r = oauth.admin("GET", "/oauth2/user", params={"page": 1, "userId": "u2"})
    assert r.headers["X-Total-Count"] == "1"
