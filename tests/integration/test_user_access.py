"""What an administrator sees and ends of a user, black-box (README "Console", user page): the
user's SSO sessions and consents with revoke, and the password reset that makes the user choose
a new password (GET/DELETE /oauth2/user/{id}/sessions[/{sid}], GET/DELETE
/oauth2/user/{id}/consents[/{clientId}], POST /oauth2/user/{id}/password), with back-channel
logout for the sessions ended. Refusals: no token, no user scope, a non-admin user's token, a
caller without trust resetting an admin's password, an unknown user, and another user's session
id."""
import requests

from code_helpers import (BROWSER, authorize, browser_login, code_params, make_client, make_user,
                          query_of, record_consent, redeem, submit)
from conftest import poll
from oauth_fixtures import oauth  # noqa: F401 (fixture)
from test_oidc_logout import Receiver, start_oauth, verify_logout_token
from test_oidc_logout import signed_in as logout_signed_in
from test_trust_admin import Low, call, code_flow_token, refused


def sessions(oauth, user):
    r = oauth.admin("GET", f"/oauth2/user/{user}/sessions")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def signed_in(oauth, browser, client_id):
    """Whether the browser's SSO session still signs it in: a code at once, not the login page."""
    r = authorize(oauth, code_params(client_id), headers=BROWSER, session=browser)
    if r.status_code == 302 and "code=" in r.headers["Location"]:
        return True
    assert r.status_code == 200 and 'name="j_password"' in r.text, (r.status_code, r.text)
    return False


def audit_actions(oauth, user):
    r = oauth.admin("GET", "/oauth2/audit", params={"entityKind": "user", "entityId": user,
                                                     "page": 0, "pageSize": 100})
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()["entries"]]


def test_an_admin_lists_and_revokes_a_users_sessions(oauth):  # noqa: F811
    client = make_client(oauth)
    oauth.create_user("alice", "alice-password-123", roles="user")
    one = record_consent(oauth, client[0], user="alice", password="alice-password-123")
    two = requests.Session()
    done = browser_login(oauth, two, code_params(client[0]), user="alice",
                         password="alice-password-123")
    assert done.status_code in (302, 303) and "code=" in done.headers["Location"], done.text
    listed = sessions(oauth, "alice")
    assert len(listed) == 2, listed
    for s in listed:
        assert s["sid"] and s["amr"] == "pwd" and s["expiresAt"] > s["createdAt"] > 0, s
        assert set(s) <= {"sid", "createdAt", "expiresAt", "remember", "amr", "acr"}, s
    assert signed_in(oauth, one, client[0]) and signed_in(oauth, two, client[0])

    # One session ends: exactly one browser is signed out; once only.
    sid = listed[0]["sid"]
    r = oauth.admin("DELETE", f"/oauth2/user/alice/sessions/{sid}")
    assert r.status_code == 200, r.text
    assert [s["sid"] for s in sessions(oauth, "alice")] == [listed[1]["sid"]]
    assert sorted([signed_in(oauth, one, client[0]), signed_in(oauth, two, client[0])]) == \
        [False, True]
    r = oauth.admin("DELETE", f"/oauth2/user/alice/sessions/{sid}")
    assert r.status_code == 404 and r.json()["error"] == "not_found", r.text

    # All of them.
    r = oauth.admin("DELETE", "/oauth2/user/alice/sessions")
    assert r.status_code == 200 and r.json() == {"revoked": 1}, r.text
    assert sessions(oauth, "alice") == []
    assert not signed_in(oauth, one, client[0]) and not signed_in(oauth, two, client[0])
    actions = audit_actions(oauth, "alice")
    assert "user.session_revoke" in actions and "user.sessions_revoke" in actions, actions


def test_another_users_session_id_is_refused(oauth):  # noqa: F811
    client = make_client(oauth)
    oauth.create_user("alice", "alice-password-123", roles="user")
    oauth.create_user("bob", "bob-password-123", roles="user")
    record_consent(oauth, client[0], user="alice", password="alice-password-123")
    bob = record_consent(oauth, client[0], user="bob", password="bob-password-123")
    bob_sid = sessions(oauth, "bob")[0]["sid"]
    r = oauth.admin("DELETE", f"/oauth2/user/alice/sessions/{bob_sid}")
    assert r.status_code == 404, r.text
    assert [s["sid"] for s in sessions(oauth, "bob")] == [bob_sid]
    assert signed_in(oauth, bob, client[0])
    assert len(sessions(oauth, "alice")) == 1
    # Nor another user's consent: alice's revocation leaves bob's.
    assert oauth.admin("DELETE", f"/oauth2/user/nobody/consents/{client[0]}").status_code == 404


def test_an_admin_lists_and_revokes_a_consent_with_its_grants(oauth):  # noqa: F811
    client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
    oauth.create_user("alice", "alice-password-123", roles="user")
    oauth.create_user("bob", "bob-password-123", roles="user")
    issued = code_flow_token(oauth, client, "alice", "alice-password-123", "petstore.r")
    code_flow_token(oauth, client, "bob", "bob-password-123", "petstore.r")
    r = oauth.admin("GET", "/oauth2/user/alice/consents")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    [c] = r.json()
    assert c["clientId"] == client[0] and c["scope"] == "petstore.r" and c["createdAt"] > 0, c

    r = oauth.admin("DELETE", f"/oauth2/user/alice/consents/{client[0]}")
    assert r.status_code == 200, r.text
    assert oauth.admin("GET", "/oauth2/user/alice/consents").json() == []
    # The refresh token at that client ended with it; bob's consent stays.
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                    client=client)
    assert r.status_code == 400, r.text
    assert len(oauth.admin("GET", "/oauth2/user/bob/consents").json()) == 1
    # Without consent, an API caller's sign-in is refused again (consent_required).
    r = authorize(oauth, code_params(client[0]), "alice", "alice-password-123")
    assert r.status_code == 302 and query_of(r.headers["Location"])[1]["error"] == \
        "consent_required", r.headers
    r = oauth.admin("DELETE", f"/oauth2/user/alice/consents/{client[0]}")
    assert r.status_code == 404, r.text
    assert "user.consent_revoke" in audit_actions(oauth, "alice")


def test_an_admin_resets_a_password_and_the_user_must_change_it(oauth):  # noqa: F811
    client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
    oauth.create_user("alice", "alice-password-123", roles="user")
    issued = code_flow_token(oauth, client, "alice", "alice-password-123", "petstore.r")
    r = oauth.admin("POST", "/oauth2/user/alice/password",
                    json={"password": "temporary-pass-1", "passwordConfirm": "other-pass-1"})
    assert r.status_code == 400 and r.json()["code"] == "ERR12012", r.text
    r = oauth.admin("POST", "/oauth2/user/alice/password", json={"password": "short"})
    assert r.status_code == 400 and r.json()["code"] == "ERR11004", r.text
    r = oauth.admin("POST", "/oauth2/user/alice/password", json={"newPassword": "x" * 12})
    assert r.status_code == 400, r.text
    r = oauth.admin("POST", "/oauth2/user/alice/password", json={"password": "temporary-pass-1"})
    assert r.status_code == 200, r.text
    u = oauth.admin("GET", "/oauth2/user/alice").json()
    assert u["passwordChangeRequired"] is True, u
    # Grants ended; the old password is wrong; the new one must be changed before any use.
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                    client=client)
    assert r.status_code == 400, r.text
    r = authorize(oauth, code_params(client[0]), "alice", "alice-password-123")
    assert r.status_code == 401, r.text
    r = authorize(oauth, code_params(client[0]), "alice", "temporary-pass-1")
    assert r.status_code == 400 and "changed" in r.json()["error_description"], r.text
    entries = oauth.admin("GET", "/oauth2/audit", params={
        "action": "user.password_reset", "entityId": "alice", "page": 0}).json()["entries"]
    assert len(entries) == 1 and "temporary" not in str(entries), entries


def test_refusals(oauth):  # noqa: F811
    oauth.create_user("root2", "root2-password-123", roles="user admin")
    oauth.create_user("alice", "alice-password-123", roles="user")
    routes = [("GET", "/oauth2/user/{}/sessions", None),
              ("DELETE", "/oauth2/user/{}/sessions", None),
              ("DELETE", "/oauth2/user/{}/sessions/some-sid", None),
              ("GET", "/oauth2/user/{}/consents", None),
              ("DELETE", "/oauth2/user/{}/consents/some-client", None),
              ("POST", "/oauth2/user/{}/password", {"password": "temporary-pass-1"})]
    for method, path, body in routes:
        # No token; a token without the user scopes.
        r = requests.request(method, oauth.url + path.format("alice"), json=body, timeout=10)
        assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"], (path, r.text)
        portal = Low(oauth, scope="portal.r portal.w")
        refused(portal(method, path.format("alice"), json=body), 403, "ERR10005")
        # An unknown user.
        r = oauth.admin(method, path.format("nobody"), json=body)
        assert r.status_code == 404 and r.json()["code"] == "ERR12013", (path, r.text)

    # A non-admin user's token carries no user scopes (roles decide): refused.
    client = make_client(oauth, scope="petstore.r oauth.user.r oauth.user.w")
    alice = code_flow_token(oauth, client, "alice", "alice-password-123",
                            "petstore.r oauth.user.r oauth.user.w")
    assert alice["scope"] == "petstore.r"
    for method, path, body in routes:
        r = call(oauth, alice["access_token"], method, path.format("root2"), json=body)
        assert r.status_code == 403, (path, r.text)

    # A client holding oauth.user.w but no trust may not take over an admin account by
    # resetting its password; a non-admin user's password it may.
    low = Low(oauth, scope="oauth.user.r oauth.user.w")
    refused(low("POST", "/oauth2/user/root2/password", json={"password": "temporary-pass-1"}),
            400, "ERR11620")
    r = authorize(oauth, code_params(client[0]), "root2", "root2-password-123")
    assert r.status_code != 401, r.text  # the admin's password is unchanged
    assert low("POST", "/oauth2/user/alice/password",
               json={"password": "temporary-pass-1"}).status_code == 200


def test_ending_sessions_tells_the_clients_that_registered_for_back_channel_logout():
    """An administrator's revocation is a session's end like a sign-out: the logout token names
    that session's sid (OIDC Back-Channel Logout §2.5); ending all of them tells the rest."""
    receiver = Receiver()
    op = start_oauth()
    try:
        make_user(op)
        client_id, _ = make_client(op, "trusted", backchannelLogoutUri=receiver.url)
        logout_signed_in(op, client_id)
        logout_signed_in(op, client_id)
        listed = sessions(op, "alice")
        assert len(listed) == 2, listed
        r = op.admin("DELETE", f"/oauth2/user/alice/sessions/{listed[0]['sid']}")
        assert r.status_code == 200, r.text
        poll(lambda: receiver.count() >= 1, "the logout token of one session")
        claims = verify_logout_token(op, receiver.token(0), client_id)
        assert claims["sub"] == "alice" and claims["sid"] == listed[0]["sid"], claims
        r = op.admin("DELETE", "/oauth2/user/alice/sessions")
        assert r.status_code == 200 and r.json() == {"revoked": 1}, r.text
        poll(lambda: receiver.count() >= 2, "the logout token of the other session")
        assert verify_logout_token(op, receiver.token(1), client_id)["sid"] == listed[1]["sid"]
    finally:
        receiver.close()
        assert op.s.stop() == 0, op.s.read_log()


def browser_tokens(oauth, client, user, password):
    """Signs in with the browser (a new SSO session each time; the consent page the first time)
    and redeems a code issued in that session."""
    browser = requests.Session()
    r = browser_login(oauth, browser, code_params(client[0]), user=user, password=password)
    if r.status_code == 200 and "wants access to your account" in r.text:
        r = submit(browser, r, button=("decision", "allow"))
    assert r.status_code in (302, 303) and "code=" in r.headers["Location"], r.text
    t = redeem(oauth, query_of(r.headers["Location"])[1]["code"], client)
    assert t.status_code == 200 and "refresh_token" in t.json(), t.text
    return t.json()


def refreshes(oauth, client, issued):
    r = oauth.token({"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                    client=client)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"] == "invalid_grant", r.text
    return r.status_code == 200


def test_ending_a_session_ends_the_refresh_tokens_issued_in_it(oauth):  # noqa: F811
    client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
    oauth.create_user("alice", "alice-password-123", roles="user")
    first = browser_tokens(oauth, client, "alice", "alice-password-123")
    second = browser_tokens(oauth, client, "alice", "alice-password-123")
    listed = sessions(oauth, "alice")
    assert len(listed) == 2, listed
    # One session ends: the refresh token issued in it is refused, the other one's still works.
    ended = listed[0]["sid"]
    r = oauth.admin("DELETE", f"/oauth2/user/alice/sessions/{ended}")
    assert r.status_code == 200, r.text
    alive = [refreshes(oauth, client, t) for t in (first, second)]
    assert sorted(alive) == [False, True], (ended, alive)


def test_ending_all_sessions_ends_their_refresh_tokens(oauth):  # noqa: F811
    client = make_client(oauth, grantTypes=["authorization_code", "refresh_token"])
    oauth.create_user("alice", "alice-password-123", roles="user")
    oauth.create_user("bob", "bob-password-123", roles="user")
    issued = [browser_tokens(oauth, client, "alice", "alice-password-123") for _ in range(2)]
    bobs = browser_tokens(oauth, client, "bob", "bob-password-123")
    r = oauth.admin("DELETE", "/oauth2/user/alice/sessions")
    assert r.status_code == 200 and r.json() == {"revoked": 2}, r.text
    assert [refreshes(oauth, client, t) for t in issued] == [False, False]
    assert refreshes(oauth, client, bobs)
