"""Refresh-token admin over HTTP: light-oauth2's refresh-token tests (reference §16.7). The
token light-oauth2 preloads into its grid is obtained here through the password grant."""
import pytest
import requests

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
