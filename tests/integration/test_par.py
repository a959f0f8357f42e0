"""Pushed Authorization Requests (RFC 9126), black-box: POST /oauth2/par authenticates the
client and validates the whole authorization request; the authorization endpoint takes
client_id + request_uri, ignores every other query parameter, and carries only the reference
through the sign-in and consent pages. A request_uri gives one code: a second use (by the same or
another browser), a use after expiry, or a use by another client is refused, also across two
instances on one PostgreSQL. Clients registered with requirePushedAuthorizationRequests get no
code from a plain authorization request."""
import json
import os
import time
import uuid

import requests

from code_helpers import (BROWSER, OTHER_REDIRECT, PASSWORD, REDIRECT, USER, authorize,
                          basic_user, make_client, make_user, page_form, pkce_pair, query_of,
                          redeem, submit)
from conftest import Portcullis, new_pg_database, poll, run_cli
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic, oauth  # noqa: F401

PREFIX = "urn:ietf:params:oauth:request_uri:"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def push(oauth, client, data, auth=True):
    """POSTs an authorization request to /oauth2/par; `client` is (id, secret or None)."""
    headers = {}
    body = dict(data)
    client_id, secret = client
    if secret and auth:
        headers["Authorization"] = basic(client_id, secret)
    return requests.post(oauth.url + "/oauth2/par", data=body, headers=headers, timeout=10)


def request_params(client_id, challenge, state="st-1", **extra):
    p = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
         "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
         "scope": "petstore.r"}
    p.update(extra)
    return p


def pushed(oauth, client, challenge, **extra):
    r = push(oauth, client, request_params(client[0], challenge, **extra))
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["request_uri"].startswith(PREFIX)
    assert len(body["request_uri"]) > len(PREFIX) + 40  # 256 random bits
    return body


def by_reference(client_id, request_uri, **extra):
    p = {"client_id": client_id, "request_uri": request_uri}
    p.update(extra)
    return p


def refused_page(r):
    """Shown to the user (no redirect: the pushed request, and so the redirect URI, is unknown)."""
    assert r.status_code == 400, r.text
    assert "Location" not in r.headers
    assert "request_uri" in r.text and "j_password" not in r.text


def redirected(r, status=303):
    assert r.status_code == status, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    return q


def test_discovery_publishes_the_par_endpoint(oauth):
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        m = requests.get(oauth.url + path, timeout=10).json()
        assert m["pushed_authorization_request_endpoint"] == oauth.url + "/oauth2/par"
        assert m["require_pushed_authorization_requests"] is False
        # Omitted would mean true (request objects by reference), which stays refused.
        assert m["request_uri_parameter_supported"] is False


def test_whole_flow_through_login_and_consent_then_no_second_use(oauth):
    make_user(oauth)
    client = make_client(oauth, "confidential")
    verifier, challenge = pkce_pair()
    body = pushed(oauth, client, challenge, nonce="n-1")
    assert body["expires_in"] == 60

    s = requests.Session()
    # Other query parameters are ignored (RFC 9126 §4): not this redirect_uri, not this scope.
    page = authorize(oauth, by_reference(client[0], body["request_uri"],
                                         redirect_uri="https://evil.example/cb",
                                         scope="petstore.w", state="evil"),
                     path="/oauth2/authorize", headers=BROWSER, session=s)
    assert page.status_code == 200 and 'name="j_password"' in page.text, page.text
    # The sign-in form carries the reference only, not the pushed parameters.
    hidden = page_form(page)["fields"]
    assert hidden["request_uri"] == body["request_uri"]
    assert hidden["client_id"] == client[0]
    assert "scope" not in hidden and "redirect_uri" not in hidden and "code_challenge" not in hidden
    consent = submit(s, page, {"j_username": USER, "j_password": PASSWORD})
    assert consent.status_code == 200 and "wants access to your account" in consent.text
    assert "petstore.r" in consent.text and "petstore.w" not in consent.text
    done = submit(s, consent, button=("decision", "allow"))
    q = redirected(done)
    assert q["state"] == "st-1" and q["iss"]
    t = redeem(oauth, q["code"], client, verifier=verifier)
    assert t.status_code == 200, t.text
    assert t.json()["scope"] == "petstore.r"

    # Used: the same browser, a fresh one, and an API caller are all refused.
    refused_page(authorize(oauth, by_reference(client[0], body["request_uri"]),
                           path="/oauth2/authorize", headers=BROWSER, session=s))
    refused_page(authorize(oauth, by_reference(client[0], body["request_uri"]), headers=BROWSER))
    r = authorize(oauth, by_reference(client[0], body["request_uri"]), user=USER,
                  password=PASSWORD)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri"


def test_second_browser_gets_no_code_once_the_first_has_one(oauth):
    make_user(oauth)
    make_user(oauth, "bob", PASSWORD)
    client = make_client(oauth, "trusted")
    verifier, challenge = pkce_pair()
    body = pushed(oauth, client, challenge)
    a, b = requests.Session(), requests.Session()
    page_a = authorize(oauth, by_reference(client[0], body["request_uri"]), headers=BROWSER,
                       session=a)
    page_b = authorize(oauth, by_reference(client[0], body["request_uri"]), headers=BROWSER,
                       session=b)
    assert 'name="j_password"' in page_a.text and 'name="j_password"' in page_b.text
    q = redirected(submit(a, page_a, {"j_username": USER, "j_password": PASSWORD}))
    assert redeem(oauth, q["code"], client, verifier=verifier).status_code == 200
    # The pushed request is spent: the second browser's sign-in is refused before any password
    # check, and so is the first browser posting its form again. (Two forms racing past that
    # check both sign in; the code goes to one, the other is redirected with
    # error=invalid_request_uri: authorization_service_test.cc.)
    refused_page(submit(b, page_b, {"j_username": "bob", "j_password": PASSWORD}))
    refused_page(submit(a, page_a, {"j_username": USER, "j_password": PASSWORD}))
    assert "portcullis_sso" not in b.cookies


def test_request_uri_of_another_client_or_unknown_is_refused(oauth):
    make_user(oauth)
    c1 = make_client(oauth, "trusted")
    c2 = make_client(oauth, "trusted")
    _, challenge = pkce_pair()
    body = pushed(oauth, c1, challenge)
    refused_page(authorize(oauth, by_reference(c2[0], body["request_uri"]), headers=BROWSER))
    r = authorize(oauth, by_reference(c2[0], body["request_uri"]), user=USER, password=PASSWORD)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri"
    # Unknown references, an empty one, an overlong one.
    for uri in (PREFIX + "x" * 43, PREFIX, PREFIX + "a" * 500):
        refused_page(authorize(oauth, by_reference(c1[0], uri), headers=BROWSER))
    # client_id is required beside request_uri (RFC 9126 §4).
    r = authorize(oauth, {"request_uri": body["request_uri"]}, user=USER, password=PASSWORD)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # The refusals did not spend it: its own client still gets a code.
    r = authorize(oauth, by_reference(c1[0], body["request_uri"]), user=USER, password=PASSWORD)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text


def test_request_uri_after_expiry_is_refused(tmp_path):
    """The server's clock is libfaketime's, read from a file the test rewrites."""
    assert os.path.exists(FAKETIME_LIB), "libfaketime is missing (scripts/deps.sh test)"
    clock = tmp_path / "faketime"
    clock.write_text("+0\n")
    s = Portcullis(env={"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
                        "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
                        "PORTCULLIS_PAR_REQUEST_URI_TTL_S": "5", "LD_PRELOAD": FAKETIME_LIB,
                        "FAKETIME_TIMESTAMP_FILE": str(clock), "FAKETIME_NO_CACHE": "1",
                        "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    try:
        o = OAuthServer(s)
        make_user(o)
        client = make_client(o, "trusted")
        _, challenge = pkce_pair()
        body = pushed(o, client, challenge)
        late = pushed(o, client, challenge)
        assert body["expires_in"] == 5
        # 3 s later it still works; 6 s later the other one no longer does.
        clock.write_text("+3\n")
        r = authorize(o, by_reference(client[0], body["request_uri"]), user=USER,
                      password=PASSWORD)
        assert r.status_code == 302 and "code=" in r.headers["Location"], r.text
        clock.write_text("+6\n")
        refused_page(authorize(o, by_reference(client[0], late["request_uri"]), headers=BROWSER))
    finally:
        assert s.stop() == 0, s.read_log()


def test_request_uri_lifetime_is_bounded_at_start_up(tmp_path):
    """FAPI 2.0 5.3.2.2: expires_in under 600 s (and at least 5): the server refuses to start,
    naming the key."""
    for bad in ("600", "4"):
        r = run_cli("serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{tmp_path}/db",
                    env={"PORTCULLIS_PAR_REQUEST_URI_TTL_S": bad})
        assert r.returncode != 0, r.stdout
        assert "par.request_uri_ttl_s" in r.stderr and "5 to 599" in r.stderr, r.stderr


def test_other_request_uri_values_are_still_not_supported(oauth):
    client = make_client(oauth, "trusted")
    r = authorize(oauth, {"response_type": "code", "client_id": client[0],
                          "redirect_uri": REDIRECT, "state": "st-1",
                          "request_uri": "https://client.example/request.jwt"}, headers=BROWSER)
    q = redirected(r, 302)
    assert q["error"] == "request_uri_not_supported"


def test_par_refusals(oauth):
    client = make_client(oauth, "confidential", redirects=(REDIRECT, OTHER_REDIRECT))
    public = make_client(oauth, "public")
    _, challenge = pkce_pair()
    good = request_params(client[0], challenge)

    def error(r, status, code):
        assert r.status_code == status, r.text
        assert r.json()["error"] == code, r.text
        assert r.headers["Cache-Control"] == "no-store"

    # Client authentication (RFC 9126 §2.1): missing, wrong, unknown client.
    r = push(oauth, client, good, auth=False)
    error(r, 401, "invalid_client")
    assert "WWW-Authenticate" in r.headers
    error(push(oauth, (client[0], "wrong-secret-0123456789"), good), 401, "invalid_client")
    error(push(oauth, ("no-such-client", "x"), dict(good, client_id="no-such-client")), 401,
          "invalid_client")
    # The whole request is validated as at the authorization endpoint.
    error(push(oauth, client, dict(good, redirect_uri="https://evil.example/cb")), 400,
          "invalid_request")
    error(push(oauth, client, dict(good, redirect_uri=REDIRECT + "/x")), 400, "invalid_request")
    no_redirect = dict(good)
    del no_redirect["redirect_uri"]  # two registered: required
    error(push(oauth, client, no_redirect), 400, "invalid_request")
    error(push(oauth, client, dict(good, response_type="token")), 400,
          "unsupported_response_type")
    error(push(oauth, client, dict(good, scope="admin")), 400, "invalid_scope")
    error(push(oauth, client, dict(good, code_challenge_method="plain")), 400, "invalid_request")
    error(push(oauth, client, dict(good, prompt="select_account")), 400, "invalid_request")
    error(push(oauth, client, dict(good, claims="not json")), 400, "invalid_request")
    error(push(oauth, client, dict(good, request_uri=PREFIX + "abc")), 400, "invalid_request")
    error(push(oauth, client, dict(good, request="e30.e30.")), 400, "request_not_supported")
    error(push(oauth, client, dict(good, client_id=public[0])), 400, "invalid_request")
    r = requests.post(oauth.url + "/oauth2/par", data="x=1", timeout=10,
                      headers={"Authorization": basic(*client), "Content-Type": "text/plain"})
    error(r, 400, "invalid_request")
    # Public clients push with client_id only, and must use PKCE (RFC 9700 §2.1.1).
    no_pkce = {"response_type": "code", "client_id": public[0], "redirect_uri": REDIRECT}
    error(push(oauth, public, no_pkce), 400, "invalid_request")
    r = push(oauth, public, request_params(public[0], challenge))
    assert r.status_code == 201, r.text


def test_require_par_client_refuses_plain_requests(oauth):
    make_user(oauth)
    client = make_client(oauth, "trusted", requirePushedAuthorizationRequests=True)
    got = oauth.admin("GET", "/oauth2/client/" + client[0]).json()
    assert got["requirePushedAuthorizationRequests"] is True
    other = make_client(oauth, "trusted")
    assert oauth.admin("GET", "/oauth2/client/" + other[0]).json()[
        "requirePushedAuthorizationRequests"] is False
    bad = oauth.admin("POST", "/oauth2/client", json={
        "clientType": "trusted", "clientProfile": "service", "clientName": "x", "host": "h",
        "ownerId": "admin", "scope": "a", "requirePushedAuthorizationRequests": "yes"})
    assert bad.status_code == 400, bad.text

    verifier, challenge = pkce_pair()
    plain = request_params(client[0], challenge)
    q = redirected(authorize(oauth, plain, headers=BROWSER), 302)
    assert q["error"] == "invalid_request" and "code" not in q
    r = authorize(oauth, plain, user=USER, password=PASSWORD)
    assert r.status_code == 400 and "Location" not in r.headers
    # Pushed, it works.
    body = pushed(oauth, client, challenge)
    r = authorize(oauth, by_reference(client[0], body["request_uri"]), user=USER,
                  password=PASSWORD)
    assert r.status_code == 302, r.text
    _, q = query_of(r.headers["Location"])
    assert redeem(oauth, q["code"], client, verifier=verifier).status_code == 200
    # Turned off again, plain requests work.
    r = oauth.admin("PUT", "/oauth2/client", json={
        "clientId": client[0], "requirePushedAuthorizationRequests": False})
    assert r.status_code == 200, r.text
    poll(lambda: authorize(oauth, plain, user=USER, password=PASSWORD).status_code == 302,
         "the client change to reach the catalog")


def test_push_on_one_instance_use_on_the_other():
    url = new_pg_database()
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID,
           "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET,
           "PORTCULLIS_KEYS_MASTER_KEY": "5" * 64,
           "PORTCULLIS_SERVER_ISSUER": "http://auth.par.test"}
    a = Portcullis(store=url, env=env)
    b = None
    try:
        b = Portcullis(store=url, env=env)
        oa, ob = OAuthServer(a), OAuthServer(b)
        make_user(oa)
        client = make_client(oa, "trusted")
        verifier, challenge = pkce_pair()
        body = pushed(oa, client, challenge)
        got = {}

        def use_at_b():
            got["r"] = authorize(ob, by_reference(client[0], body["request_uri"]), user=USER,
                                 password=PASSWORD)
            return got["r"].status_code == 302

        poll(use_at_b, "a code from instance B (once the client reached its catalog)")
        _, q = query_of(got["r"].headers["Location"])
        assert redeem(oa, q["code"], client, verifier=verifier).status_code == 200
        # Spent for both instances.
        for o in (oa, ob):
            r = authorize(o, by_reference(client[0], body["request_uri"]), user=USER,
                          password=PASSWORD)
            assert r.status_code == 400 and r.json()["error"] == "invalid_request_uri"
    finally:
        for s in (a, b):
            if s is not None:
                s.stop()


def test_basic_user_sign_in_is_an_api_caller_flow(oauth):
    """light-oauth2's API callers (HTTP Basic user credentials) use pushed requests too."""
    make_user(oauth)
    client = make_client(oauth, "trusted")
    verifier, challenge = pkce_pair()
    body = pushed(oauth, client, challenge, response_mode="form_post")
    r = requests.get(oauth.url + "/oauth2/code",
                     params=by_reference(client[0], body["request_uri"]),
                     headers={"Authorization": basic_user(USER, PASSWORD)}, timeout=10,
                     allow_redirects=False)
    # form_post from the pushed request: an auto-posting page, not a redirect.
    assert r.status_code == 200 and 'name="code"' in r.text, r.text


def test_private_key_jwt_client_pushes_with_the_par_endpoint_as_audience(oauth):
    """RFC 9126 §2: the issuer, the token endpoint and the PAR endpoint are all this server."""
    from jwcrypto import jwk, jwt as jwcrypto_jwt
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    jwks = json.dumps({"keys": [json.loads(key.export_public())]})
    cid, _ = make_client(oauth, "confidential", authMethod="private_key_jwt", jwks=jwks)
    _, challenge = pkce_pair()

    def push_with(aud):
        now = int(time.time())
        t = jwcrypto_jwt.JWT(header={"alg": "ES256", "kid": "k1"},
                             claims={"iss": cid, "sub": cid, "aud": aud, "iat": now,
                                     "exp": now + 60, "jti": uuid.uuid4().hex})
        t.make_signed_token(key)
        data = dict(request_params(cid, challenge), client_assertion=t.serialize(),
                    client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        return requests.post(oauth.url + "/oauth2/par", data=data, timeout=10)

    for aud in (oauth.url + "/oauth2/par", oauth.url, oauth.url + "/oauth2/token"):
        r = push_with(aud)
        assert r.status_code == 201, (aud, r.text)
    r = push_with("https://elsewhere.example/oauth2/par")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
