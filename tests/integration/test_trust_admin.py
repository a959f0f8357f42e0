"""Trust on the admin side (README "Admin privileges"): no privilege escalation through the admin
APIs, admin scopes in user tokens only for users with the `admin` role, password-change guesses
throttled like sign-ins, and admin APIs that take only tokens meant for them.

Each test is named after a hole found in commit 2f08f83; each would fail there.

The attacker in most tests is `low`: a confidential client that the bootstrap admin gave
`portal.r portal.w` (the client registry), acting with its own client_credentials token."""
import base64
import json

import pytest
import requests

from code_helpers import (REDIRECT, authorize, code_params, make_client, query_of, record_consent,
                          redeem)
from oauth_fixtures import OAuthServer, oauth  # noqa: F401
from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET

ESCALATED = "portal.r portal.w oauth.user.w oauth.key.w"


def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def call(oauth, token, method, path, **kw):
    return requests.request(method, oauth.url + path, timeout=10,
                            headers={"Authorization": "Bearer " + token}, **kw)


def cc_token(oauth, client, scope=None, **extra):
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    data.update(extra)
    return oauth.token(data, client=client)


class Low:
    """A registry client holding portal.r portal.w only, and its token."""

    def __init__(self, oauth, scope="portal.r portal.w"):
        self.oauth = oauth
        self.id, self.secret = oauth.create_client("confidential", scope=scope)
        r = cc_token(oauth, (self.id, self.secret))
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]

    def __call__(self, method, path, **kw):
        return call(self.oauth, self.token, method, path, **kw)


def refused(r, status=403, code="ERR10005"):
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


def make_service(oauth, service_id, endpoint_scope, who=None):
    """A service with one endpoint of `endpoint_scope`, made by `who` (default: the admin)."""
    do = who or oauth.admin
    r = do("POST", "/oauth2/service", json={
        "serviceId": service_id, "serviceType": "openapi", "serviceName": service_id,
        "host": "lightapi.net"})
    assert r.status_code == 200, r.text
    r = do("POST", f"/oauth2/service/{service_id}/endpoint",
           json=[{"endpoint": "/v1/x@get", "operation": "getX", "scope": endpoint_scope}])
    assert r.status_code == 200, r.text


# ---- no privilege escalation through the admin APIs


def test_client_cannot_grant_itself_admin_scope_by_put(oauth):  # noqa: F811
    low = Low(oauth)
    record = low("GET", f"/oauth2/client/{low.id}").json()
    record["scope"] = ESCALATED
    refused(low("PUT", "/oauth2/client", json=record))
    # Nothing changed: the next token cannot carry the admin scopes it tried to take.
    r = cc_token(oauth, (low.id, low.secret), scope="oauth.key.w")
    assert r.status_code == 400 and r.json()["code"] == "ERR12027", r.text
    token = cc_token(oauth, (low.id, low.secret)).json()["access_token"]
    assert claims(token)["scope"] == "portal.r portal.w"
    # What it holds it may keep, and ordinary edits still work.
    record["scope"] = "portal.r portal.w petstore.r"
    record["clientDesc"] = "edited by itself"
    r = low("PUT", "/oauth2/client", json=record)
    assert r.status_code == 200, r.text


def test_client_cannot_create_a_client_with_admin_scope_it_lacks(oauth):  # noqa: F811
    low = Low(oauth)
    body = {"clientType": "confidential", "clientProfile": "service", "clientName": "sidekick",
            "host": "lightapi.net", "scope": "oauth.key.w"}
    refused(low("POST", "/oauth2/client", json=body))
    body["scope"] = "portal.r petstore.r"
    assert low("POST", "/oauth2/client", json=body).status_code == 200


def test_client_cannot_take_over_an_admin_client_by_rotating_its_secret(oauth):  # noqa: F811
    low = Low(oauth)
    refused(low("POST", f"/oauth2/client/{BOOT_ID}/secret"))
    # The bootstrap secret still works: it was not rotated.
    assert cc_token(oauth, (BOOT_ID, BOOT_SECRET), scope="portal.r").status_code == 200
    record = oauth.admin("GET", f"/oauth2/client/{BOOT_ID}").json()
    record["redirectUris"] = [REDIRECT]
    refused(low("PUT", "/oauth2/client", json=record))
    refused(low("DELETE", f"/oauth2/client/{BOOT_ID}"))


def test_client_cannot_gain_admin_scope_by_linking_endpoints(oauth):  # noqa: F811
    make_service(oauth, "keyadmin", "oauth.key.w")
    low = Low(oauth)
    sidekick = oauth.create_client("confidential", scope="petstore.r", ownerId="admin")
    refused(low("POST", f"/oauth2/client/{sidekick[0]}/service/keyadmin", json=["/v1/x@get"]))
    refused(low("POST", f"/oauth2/client/{low.id}/service/keyadmin", json=["/v1/x@get"]))
    r = cc_token(oauth, sidekick, scope="oauth.key.w")
    assert r.status_code == 400 and r.json()["code"] == "ERR12027", r.text
    # The admin, who holds oauth.key.w, may link.
    r = oauth.admin("POST", f"/oauth2/client/{sidekick[0]}/service/keyadmin", json=["/v1/x@get"])
    assert r.status_code == 200 and r.json()["new_scope"] == "oauth.key.w", r.text


def test_service_endpoint_scope_change_cannot_escalate_linked_clients(oauth):  # noqa: F811
    low = Low(oauth)
    # low makes a client (it learns the secret), a service, and links the two: all harmless.
    r = low("POST", "/oauth2/client", json={
        "clientType": "confidential", "clientProfile": "service", "clientName": "pawn",
        "host": "lightapi.net", "scope": "petstore.r"})
    assert r.status_code == 200, r.text
    pawn = (r.json()["clientId"], r.json()["clientSecret"])
    make_service(oauth, "svcb", "petstore.r", who=low)
    r = low("POST", f"/oauth2/client/{pawn[0]}/service/svcb", json=["/v1/x@get"])
    assert r.status_code == 200, r.text
    # Turning the endpoint's scope into an admin scope would hand it to every linked client.
    refused(low("POST", "/oauth2/service/svcb/endpoint",
                json=[{"endpoint": "/v1/x@get", "operation": "getX",
                       "scope": "petstore.r oauth.key.w"}]))
    refused(low("POST", "/oauth2/service/svcb/endpoint",
                json=[{"endpoint": "/v1/y@get", "operation": "getY", "scope": "oauth.user.w"}]))
    for scope in ("oauth.key.w", "oauth.user.w"):
        r = cc_token(oauth, pawn, scope=scope)
        assert r.status_code == 400 and r.json()["code"] == "ERR12027", r.text
    # Non-admin scopes still flow as before.
    r = low("POST", "/oauth2/service/svcb/endpoint",
            json=[{"endpoint": "/v1/x@get", "operation": "getX", "scope": "petstore.r petstore.w"}])
    assert r.status_code == 200, r.text
    assert cc_token(oauth, pawn, scope="petstore.w").status_code == 200
    # And an admin-scoped service is out of low's reach altogether.
    make_service(oauth, "keysvc", "oauth.key.r")
    refused(low("DELETE", "/oauth2/service/keysvc/endpoint"))


def test_delegation_policy_cannot_name_admin_scope_the_caller_lacks(oauth):  # noqa: F811
    make_service(oauth, "svcd", "petstore.r")
    low = Low(oauth)
    r = low("POST", "/oauth2/client", json={
        "clientType": "confidential", "clientProfile": "service", "clientName": "delegate",
        "host": "lightapi.net", "scope": "petstore.r"})
    delegate = r.json()["clientId"]
    refused(low("PUT", f"/oauth2/client/{delegate}/delegation",
                json=[{"audience": "svcd", "scope": "petstore.r oauth.key.w"}]))
    assert low("GET", f"/oauth2/client/{delegate}/delegation").json() == []
    r = low("PUT", f"/oauth2/client/{delegate}/delegation",
            json=[{"audience": "svcd", "scope": "petstore.r"}])
    assert r.status_code == 200, r.text
    # Nor may low touch the policy of a client holding admin scopes it lacks.
    refused(low("PUT", f"/oauth2/client/{BOOT_ID}/delegation",
                json=[{"audience": "svcd", "scope": "petstore.r"}]))


def test_client_cannot_make_a_client_trusted(oauth):  # noqa: F811
    low = Low(oauth)
    body = {"clientType": "trusted", "clientProfile": "service", "clientName": "insider",
            "host": "lightapi.net", "scope": "petstore.r",
            "grantTypes": ["client_credentials", "client_authenticated_user"]}
    refused(low("POST", "/oauth2/client", json=body), 400, "ERR11620")
    body["clientType"] = "confidential"
    body["grantTypes"] = ["client_credentials"]
    r = low("POST", "/oauth2/client", json=body)
    assert r.status_code == 200, r.text
    record = r.json()
    record["clientType"] = "trusted"
    refused(low("PUT", "/oauth2/client", json=record), 400, "ERR11620")
    # Nor take trust away from one.
    admin_made = oauth.create_client("trusted", scope="petstore.r")
    record = oauth.admin("GET", f"/oauth2/client/{admin_made[0]}").json()
    record["clientType"] = "confidential"
    record["grantTypes"] = ["client_credentials"]
    refused(low("PUT", "/oauth2/client", json=record), 400, "ERR11620")
    # The bootstrap client is trusted: it may.
    assert oauth.admin("PUT", "/oauth2/client", json=record).status_code == 200


def test_user_admin_cannot_give_the_admin_role_without_trust(oauth):  # noqa: F811
    low = Low(oauth, scope="oauth.user.r oauth.user.w")
    user = {"userId": "mallory", "userType": "employee", "email": "mallory@example.com",
            "password": "mallory-password-1", "passwordConfirm": "mallory-password-1",
            "roles": "user admin"}
    refused(low("POST", "/oauth2/user", json=user), 400, "ERR11620")
    user["roles"] = "user"
    assert low("POST", "/oauth2/user", json=user).status_code == 200
    refused(low("PUT", "/oauth2/user", json={"userId": "mallory", "roles": "user admin"}), 400,
            "ERR11620")
    assert oauth.admin("GET", "/oauth2/user/mallory").json()["roles"] == "user"


# ---- admin scopes in user tokens follow the user's roles


def code_flow_token(oauth, client, user, password, scope):
    # HTTP Basic sign-in needs the user's recorded consent for a client that is not trusted.
    record_consent(oauth, client[0], user=user, password=password, scope=scope)
    r = authorize(oauth, code_params(client[0], scope=scope), user, password)
    assert r.status_code == 302, r.text
    _, q = query_of(r.headers["Location"])
    r = redeem(oauth, q["code"], client)
    assert r.status_code == 200, r.text
    return r.json()


def test_code_flow_user_without_admin_role_gets_no_admin_scope(oauth):  # noqa: F811
    client = make_client(oauth, "confidential", scope="petstore.r portal.r portal.w")
    oauth.create_user("bob", "bob-password-123", roles="user")
    oauth.create_user("alice", "alice-password-123", roles="user admin")
    wanted = "petstore.r portal.r portal.w"
    bob = code_flow_token(oauth, client, "bob", "bob-password-123", wanted)
    assert bob["scope"] == "petstore.r"
    assert claims(bob["access_token"])["scope"] == "petstore.r"
    assert call(oauth, bob["access_token"], "GET", "/oauth2/client?page=0").status_code == 403
    # The refresh token cannot win them back.
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": bob["refresh_token"],
                     "scope": "portal.r"}, client=client)
    assert r.status_code == 400 and r.json()["code"] == "ERR12027", r.text
    alice = code_flow_token(oauth, client, "alice", "alice-password-123", wanted)
    assert alice["scope"] == wanted
    assert call(oauth, alice["access_token"], "GET", "/oauth2/client?page=0").status_code == 200


def test_password_grant_user_without_admin_role_gets_no_admin_scope(oauth):  # noqa: F811
    client = oauth.create_client("trusted", scope="petstore.r portal.r")
    oauth.create_user("bob", "bob-password-123", roles="user")
    r = oauth.token({"grant_type": "password", "username": "bob", "password": "bob-password-123",
                     "scope": "petstore.r portal.r"}, client=client)
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "petstore.r"
    assert "portal.r" not in claims(r.json()["access_token"])["scope"]


# ---- password changes are throttled like sign-ins


def test_password_change_guesses_are_throttled(oauth):  # noqa: F811
    oauth.create_user("carol", "carol-password-123", roles="user")
    statuses = []
    for i in range(20):
        r = oauth.admin("POST", "/oauth2/password/carol", json={
            "password": f"guess-{i}", "newPassword": "new-password-456",
            "newPasswordConfirm": "new-password-456"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            break
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert r.json()["error"] == "slow_down", r.text
    # Locked means locked: the right password gets no answer either, and nothing changes.
    r = oauth.admin("POST", "/oauth2/password/carol", json={
        "password": "carol-password-123", "newPassword": "new-password-456",
        "newPasswordConfirm": "new-password-456"})
    assert r.status_code == 429, r.text
    # The bucket is the password endpoint's own: an admin caller's guesses do not lock the user
    # out of signing in (sign-in has per-address buckets, src/oauth/login/throttle.h).
    r = oauth.token({"grant_type": "password", "username": "carol",
                     "password": "carol-password-123"},
                    client=oauth.create_client("trusted", scope="petstore.r"))
    assert r.status_code == 200, r.text


# ---- admin APIs take only tokens meant for them


def test_admin_api_refuses_token_for_another_audience(oauth):  # noqa: F811
    # svcc declares portal.r, so resource=svcc keeps it (RFC 8707 narrowing) and only the
    # audience tells this token from an admin one.
    make_service(oauth, "svcc", "portal.r")
    r = cc_token(oauth, (BOOT_ID, BOOT_SECRET), scope="portal.r", resource="svcc")
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims(token)["aud"] == "svcc"
    r = call(oauth, token, "GET", "/oauth2/client?page=0")
    assert r.status_code == 401 and r.json()["code"] == "ERR10000", r.text
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    # The ordinary admin token, asked without a resource, is for the issuer and keeps working.
    plain = cc_token(oauth, (BOOT_ID, BOOT_SECRET), scope="portal.r").json()["access_token"]
    assert claims(plain)["aud"] == oauth.url
    assert call(oauth, plain, "GET", "/oauth2/client?page=0").status_code == 200


def test_admin_401_and_403_carry_a_bearer_challenge(oauth):  # noqa: F811
    r = requests.get(oauth.url + "/oauth2/client?page=0", timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="portcullis"'  # RFC 6750 §3.1
    for path in ("/oauth2/client?page=0", "/oauth2/user?page=1", "/oauth2/keys/admin", "/oauth2/audit",
                 "/oauth2/client/x/delegation"):
        r = requests.get(oauth.url + path, headers={"Authorization": "Bearer not.a.jwt"},
                         timeout=10)
        assert r.status_code == 401, (path, r.text)
        assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", ""), path
    low = Low(oauth)
    r = low("GET", "/oauth2/user?page=1")
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]


@pytest.mark.parametrize("admin_audience", ["", "urn:portcullis:admin"])
def test_admin_audience_setting_names_the_tokens_admin_apis_take(admin_audience):
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_TOKEN_AUDIENCE": "urn:com.networknt"}
    if admin_audience:
        env["PORTCULLIS_ADMIN_AUDIENCE"] = admin_audience
    s = Portcullis(env=env)
    try:
        oauth = OAuthServer(s)
        token = cc_token(oauth, (BOOT_ID, BOOT_SECRET), scope="portal.r").json()["access_token"]
        assert claims(token)["aud"] == "urn:com.networknt"
        r = call(oauth, token, "GET", "/oauth2/client?page=0")
        # Empty admin.audience: token.audience is the admin audience. Set: only what it names.
        assert r.status_code == (200 if not admin_audience else 401), r.text
    finally:
        assert s.stop() == 0, s.read_log()
