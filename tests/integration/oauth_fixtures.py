"""Helpers shared by the OAuth black-box tests: a server with a bootstrap admin client, admin
calls through the registry APIs, and token requests."""
import base64
import urllib.parse

import pytest
import requests

from conftest import Portcullis

BOOT_ID = "f7d42348-c647-4efb-a52d-4c5787421e00"
BOOT_SECRET = "bootstrap-secret-for-tests-0123456789"
# Every admin scope of the bootstrap client: an admin can give a client only admin scopes its
# own token holds (README "Admin privileges").
ADMIN_SCOPES = ("portal.r portal.w oauth.user.r oauth.user.w oauth.refresh_token.r "
                "oauth.refresh_token.w read:provider write:provider oauth.key.r oauth.key.w "
                "oauth.audit.r oauth.revoked.r")


def basic(client_id, secret):
    raw = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return "Basic " + base64.b64encode(raw.encode()).decode()


class OAuthServer:
    def __init__(self, server):
        self.s = server
        self.url = server.url
        self._admin = None

    def token(self, data, client=None, auth=None, **kw):
        headers = kw.pop("headers", {})
        if client:
            headers["Authorization"] = basic(*client)
        if auth:
            headers["Authorization"] = auth
        return requests.post(self.url + "/oauth2/token", data=data, headers=headers, timeout=10, **kw)

    def admin_token(self):
        if not self._admin:
            r = self.token({"grant_type": "client_credentials", "scope": ADMIN_SCOPES},
                           client=(BOOT_ID, BOOT_SECRET))
            assert r.status_code == 200, r.text
            self._admin = r.json()["access_token"]
        return self._admin

    def admin(self, method, path, **kw):
        headers = kw.pop("headers", {})
        headers["Authorization"] = "Bearer " + self.admin_token()
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kw)

    def create_client(self, client_type="trusted", scope="petstore.r petstore.w", **fields):
        body = {"clientType": client_type, "clientProfile": "service", "clientName": "test client",
                "clientDesc": "made by a test", "host": "lightapi.net", "ownerId": "admin",
                "scope": scope}
        body.update(fields)
        r = self.admin("POST", "/oauth2/client", json=body)
        assert r.status_code == 200, r.text
        c = r.json()
        return c["clientId"], c.get("clientSecret")

    def create_user(self, user_id="alice", password="correct horse battery", roles="user admin",
                    user_type="employee"):
        r = self.admin("POST", "/oauth2/user", json={
            "userId": user_id, "userType": user_type, "firstName": "A", "lastName": "B",
            "email": user_id + "@example.com", "password": password, "passwordConfirm": password,
            "roles": roles})
        assert r.status_code == 200, r.text
        return user_id, password


@pytest.fixture
def oauth(tmp_path):
    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET})
    yield OAuthServer(s)
    code = s.stop()
    assert code == 0, s.read_log()
