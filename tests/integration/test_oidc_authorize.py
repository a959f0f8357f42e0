"""OpenID Connect authorization request parameters, black-box (OIDC Core §3.1.2.1, §3.1.2.6,
§5.5, §6; OAuth 2.0 Form Post Response Mode): prompt, max_age, login_hint, id_token_hint,
response_mode, claims, and the refusal of request objects. Each refusal rule is tried from the
attacker's side: errors come back to the client without any page, and nothing a client puts in
the request reaches a page unescaped."""
import base64
import hashlib
import html
import json
import re
import time

import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, Form, authorize, browser_login,
                          code_params, make_client, make_user, query_of, redeem, submit)
from conftest import poll
from oauth_fixtures import oauth  # noqa: F401


def prepare(oauth, client_type="trusted", **fields):
    make_user(oauth)
    return make_client(oauth, client_type, **fields)


def signed_in(oauth, client_id):
    """A browser session signed in through a trusted client (no consent page)."""
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client_id))
    assert r.status_code == 303 and "code=" in r.headers["Location"], r.text
    return s


def redirected_error(r, error, state="st-1"):
    """The answer is a redirect to the client carrying `error`, with no page shown."""
    assert r.status_code == 302, r.text
    base, q = query_of(r.headers["Location"])
    assert base == REDIRECT
    assert q["error"] == error, q
    assert q.get("state") == state
    assert q["iss"]
    assert "<form" not in r.text and "j_password" not in r.text
    return q


def is_login_page(r):
    return r.status_code == 200 and 'name="j_password"' in r.text


# ---- prompt

def test_prompt_none_without_session_is_login_required_without_a_page(oauth):
    client = prepare(oauth)
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER)
    redirected_error(r, "login_required")
    # A session cookie that is not a session is no session.
    s = requests.Session()
    s.cookies.set("portcullis_sso", "forged-" + "a" * 40)
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER, session=s)
    redirected_error(r, "login_required")


def test_prompt_none_with_consent_missing_is_consent_required(oauth):
    client = prepare(oauth, "confidential")
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(client[0]))
    assert consent.status_code == 200 and "wants access" in consent.text
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER, session=s)
    redirected_error(r, "consent_required")


def test_prompt_none_with_session_answers_with_a_code(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    r = authorize(oauth, code_params(client[0], prompt="none"), headers=BROWSER, session=s)
    assert r.status_code == 302
    assert "code" in query_of(r.headers["Location"])[1]


def test_prompt_values_that_are_not_supported_or_not_alone_are_refused(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    for prompt in ("none login", "consent none", "select_account", "login bogus", "", "NONE"):
        r = authorize(oauth, code_params(client[0], prompt=prompt), headers=BROWSER, session=s)
        q = redirected_error(r, "invalid_request")
        assert "prompt" in q["error_description"], prompt


def test_prompt_login_signs_in_again_with_a_new_session(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    first = s.cookies.get("portcullis_sso")
    page = authorize(oauth, code_params(client[0], prompt="login"), headers=BROWSER, session=s)
    assert is_login_page(page)
    # The form carries prompt=login through; signing in answers with a code, not a loop.
    assert Form(page.text).forms[0]["fields"]["prompt"] == "login"
    done = submit(s, page, {"j_username": USER, "j_password": PASSWORD})
    assert done.status_code == 303 and "code" in query_of(done.headers["Location"])[1]
    assert s.cookies.get("portcullis_sso") != first


def test_prompt_consent_asks_again(oauth):
    client = prepare(oauth, "confidential")
    s = requests.Session()
    consent = browser_login(oauth, s, code_params(client[0]))
    assert submit(s, consent, button=("decision", "allow")).status_code == 303
    r = authorize(oauth, code_params(client[0]), headers=BROWSER, session=s)
    assert r.status_code == 302  # remembered
    again = authorize(oauth, code_params(client[0], prompt="consent"), headers=BROWSER, session=s)
    assert again.status_code == 200 and "wants access" in again.text
    # "Not you?" signs in again and still asks for consent.
    switch = re.search(r'<a href="(code\?[^"]*)">Not you\?</a>', again.text).group(1)
    _, q = query_of(html.unescape(switch))
    assert q["prompt"] == "login consent"
    # An API caller (HTTP Basic) cannot be asked: consent_required, not a silent code.
    r = authorize(oauth, code_params(client[0], prompt="consent"), user=USER, password=PASSWORD)
    redirected_error(r, "consent_required")


# ---- max_age

def test_max_age_must_be_a_non_negative_integer(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    for bad in ("-1", "", "1.5", "ten", "+5", "99999999999"):
        r = authorize(oauth, code_params(client[0], max_age=bad), headers=BROWSER, session=s)
        q = redirected_error(r, "invalid_request")
        assert "max_age" in q["error_description"]


def test_max_age_zero_asks_again_and_prompt_none_then_is_login_required(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    r = authorize(oauth, code_params(client[0], max_age="0"), headers=BROWSER, session=s)
    assert is_login_page(r)
    done = submit(s, r, {"j_username": USER, "j_password": PASSWORD})
    assert done.status_code == 303 and "code" in query_of(done.headers["Location"])[1]
    r = authorize(oauth, code_params(client[0], max_age="0", prompt="none"), headers=BROWSER,
                  session=s)
    redirected_error(r, "login_required")
    # A generous max_age is satisfied by the session.
    r = authorize(oauth, code_params(client[0], max_age="3600"), headers=BROWSER, session=s)
    assert r.status_code == 302 and "code" in query_of(r.headers["Location"])[1]


def test_max_age_forces_a_new_sign_in_once_the_session_is_older(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    # The session is at most a second old at first; wait for the condition, not the clock.
    poll(lambda: is_login_page(authorize(oauth, code_params(client[0], max_age="1"),
                                         headers=BROWSER, session=s)),
         "max_age=1 to ask for a new sign-in", deadline_s=30)
    r = authorize(oauth, code_params(client[0], max_age="1", prompt="none"), headers=BROWSER,
                  session=s)
    redirected_error(r, "login_required")


# ---- login_hint

def test_login_hint_prefills_the_user_name_escaped(oauth):
    client = prepare(oauth)
    hint = '"><script>alert(1)</script><input name="j_password" value="x'
    r = authorize(oauth, code_params(client[0], login_hint=hint), headers=BROWSER)
    assert is_login_page(r)
    assert "<script>" not in r.text
    assert "script-src" not in r.headers["Content-Security-Policy"]
    form = Form(r.text).forms[0]
    assert form["fields"]["j_username"] == hint  # prefilled, intact after unescaping
    assert form["fields"]["login_hint"] == hint  # carried through the form
    assert 'value="' + html.escape(hint, quote=True).replace("&#x27;", "&#39;") + '"' in r.text


def test_login_hint_is_never_an_identity(oauth):
    client = prepare(oauth)
    make_user(oauth, "bob", PASSWORD)
    s = requests.Session()
    page = authorize(oauth, code_params(client[0], login_hint="bob"), headers=BROWSER, session=s)
    # Without the password nothing happens, whatever the hint says.
    r = submit(s, page, {"j_password": ""})
    assert is_login_page(r)
    r = submit(s, page, {"j_username": "bob", "j_password": "wrong"})
    assert is_login_page(r) and "incorrect" in r.text
    # Another user may sign in than the one hinted; the code is theirs.
    done = submit(s, page, {"j_username": USER, "j_password": PASSWORD})
    assert done.status_code == 303
    token = redeem(oauth, query_of(done.headers["Location"])[1]["code"], client)
    assert token.status_code == 200, token.text
    payload = token.json()["access_token"].split(".")[1]
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b'"alice"' in claims and b'"bob"' not in claims


# ---- id_token_hint

def test_an_unverifiable_id_token_hint_is_invalid_request(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(b'{"sub":"alice","aud":"x"}').rstrip(b"=").decode()
    for hint in (header + "." + body + ".", "not-a-jwt", header + "." + body + ".c2ln"):
        for prompt in (None, "none"):
            params = code_params(client[0], id_token_hint=hint)
            if prompt:
                params["prompt"] = prompt
            r = authorize(oauth, params, headers=BROWSER, session=s)
            q = redirected_error(r, "invalid_request")
            assert "id_token_hint" in q["error_description"]


def id_token_of(oauth, client, location):
    """Redeems the code in a redirect Location; returns the ID token and its payload."""
    t = redeem(oauth, query_of(location)[1]["code"], client)
    assert t.status_code == 200, t.text
    token = t.json()["id_token"]
    part = token.split(".")[1]
    return token, json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def oidc_client(oauth):
    make_user(oauth)
    make_user(oauth, "bob", PASSWORD)
    return make_client(oauth, "trusted", scope="openid petstore.r")


def oidc_params(client_id, **extra):
    return code_params(client_id, scope="openid petstore.r", nonce="n-1", **extra)


def test_id_token_hint_of_the_signed_in_user_passes_prompt_none(oauth):
    client = oidc_client(oauth)
    s = requests.Session()
    done = browser_login(oauth, s, oidc_params(client[0]))
    hint, claims = id_token_of(oauth, client, done.headers["Location"])
    assert claims["sub"] == USER
    r = authorize(oauth, oidc_params(client[0], prompt="none", id_token_hint=hint),
                  headers=BROWSER, session=s)
    assert r.status_code == 302 and "code" in query_of(r.headers["Location"])[1], r.text
    # Without a session, the hinted user is not signed in.
    r = authorize(oauth, oidc_params(client[0], prompt="none", id_token_hint=hint),
                  headers=BROWSER)
    redirected_error(r, "login_required")


def test_id_token_hint_of_another_user_needs_that_user(oauth):
    client = oidc_client(oauth)
    bob = requests.Session()
    done = browser_login(oauth, bob, oidc_params(client[0]), user="bob")
    bobs_hint, _ = id_token_of(oauth, client, done.headers["Location"])
    s = signed_in(oauth, client[0])  # alice
    r = authorize(oauth, oidc_params(client[0], prompt="none", id_token_hint=bobs_hint),
                  headers=BROWSER, session=s)
    redirected_error(r, "login_required")
    page = authorize(oauth, oidc_params(client[0], id_token_hint=bobs_hint), headers=BROWSER,
                     session=s)
    assert is_login_page(page)
    # Signing in as someone else than the hint names gets no code.
    r = submit(s, page, {"j_username": USER, "j_password": PASSWORD})
    assert r.status_code == 303
    assert query_of(r.headers["Location"])[1]["error"] == "login_required"
    r = submit(s, page, {"j_username": "bob", "j_password": PASSWORD})
    assert r.status_code == 303 and "code" in query_of(r.headers["Location"])[1]
    # HTTP Basic as alice with bob's hint: no code either.
    r = authorize(oauth, oidc_params(client[0], id_token_hint=bobs_hint), user=USER,
                  password=PASSWORD)
    redirected_error(r, "login_required")


def test_id_token_hint_must_be_an_id_token_of_ours_for_this_client(oauth):
    client = oidc_client(oauth)
    other = make_client(oauth, "trusted", scope="openid petstore.r")
    s = requests.Session()
    done = browser_login(oauth, s, oidc_params(client[0]))
    t = redeem(oauth, query_of(done.headers["Location"])[1]["code"], client)
    hint, access = t.json()["id_token"], t.json()["access_token"]
    head, body, sig = hint.split(".")
    forged_body = base64.urlsafe_b64encode(
        json.dumps({**json.loads(base64.urlsafe_b64decode(body + "==")), "sub": "bob"}).encode()
    ).rstrip(b"=").decode()
    for bad in (access, head + "." + forged_body + "." + sig, head + "." + body + "." + sig[::-1]):
        r = authorize(oauth, oidc_params(client[0], prompt="none", id_token_hint=bad),
                      headers=BROWSER, session=s)
        redirected_error(r, "invalid_request")
    # Issued to another client: not a hint for this one.
    r = authorize(oauth, code_params(other[0], scope="openid petstore.r", prompt="none",
                                     id_token_hint=hint), headers=BROWSER, session=s)
    redirected_error(r, "invalid_request")


def test_the_id_token_reports_the_sign_in_that_happened(oauth):
    client = oidc_client(oauth)
    s = requests.Session()
    before = int(time.time())
    done = browser_login(oauth, s, oidc_params(client[0]))
    _, first = id_token_of(oauth, client, done.headers["Location"])
    assert before - 1 <= first["auth_time"] <= int(time.time()) + 1
    assert first["sid"] and first["amr"] == ["pwd"]
    # Single sign-on: the same sign-in, so the same auth_time and sid.
    r = authorize(oauth, oidc_params(client[0], max_age="3600"), headers=BROWSER, session=s)
    _, sso = id_token_of(oauth, client, r.headers["Location"])
    assert sso["auth_time"] == first["auth_time"] and sso["sid"] == first["sid"]
    # prompt=login: a new sign-in and a new session.
    page = authorize(oauth, oidc_params(client[0], prompt="login"), headers=BROWSER, session=s)
    again = submit(s, page, {"j_username": USER, "j_password": PASSWORD})
    _, fresh = id_token_of(oauth, client, again.headers["Location"])
    assert fresh["sid"] != first["sid"] and fresh["auth_time"] >= first["auth_time"]
    # HTTP Basic: signed in now, by password, without a session.
    r = authorize(oauth, oidc_params(client[0]), user=USER, password=PASSWORD)
    _, basic = id_token_of(oauth, client, r.headers["Location"])
    assert basic["auth_time"] >= fresh["auth_time"] and basic["amr"] == ["pwd"]
    assert "sid" not in basic


# ---- response_mode

def test_unknown_response_mode_is_invalid_request_by_query(oauth):
    client = prepare(oauth)
    for mode in ("fragment", "jwt", "form_post.jwt", ""):
        r = authorize(oauth, code_params(client[0], response_mode=mode), headers=BROWSER)
        q = redirected_error(r, "invalid_request")
        assert "response_mode" in q["error_description"]


def form_post_fields(r):
    """Checks the shape of a form_post answer and returns its fields."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Location" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action http://127.0.0.1:9" in csp
    assert "unsafe-inline" not in csp
    # One inline script, allowed by its hash, and nothing else runs.
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert len(scripts) == 1 and r.text.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert re.search(r"script-src 'sha256-" + re.escape(digest) + r"'(;|$)", csp), csp
    assert "<noscript>" in r.text and "<button" in r.text
    forms = Form(r.text).forms
    assert len(forms) == 1
    assert forms[0]["method"] == "post" and forms[0]["action"] == REDIRECT
    return forms[0]["fields"]


def test_form_post_delivers_code_state_and_iss(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    state = '"><script>alert(1)</script>'
    r = authorize(oauth, code_params(client[0], state=state, response_mode="form_post"),
                  headers=BROWSER, session=s)
    fields = form_post_fields(r)
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == state and "<script>alert" not in r.text
    assert fields["iss"] == oauth.url
    assert redeem(oauth, fields["code"], client).status_code == 200


def test_form_post_after_sign_in_and_for_errors(oauth):
    client = prepare(oauth)
    s = requests.Session()
    r = browser_login(oauth, s, code_params(client[0], response_mode="form_post"))
    assert "code" in form_post_fields(r)
    # Errors once the redirect URI is known come back the same way.
    r = authorize(oauth, code_params(client[0], response_mode="form_post", scope="nope"),
                  headers=BROWSER)
    fields = form_post_fields(r)
    assert fields["error"] == "invalid_scope" and fields["state"] == "st-1"
    r = authorize(oauth, code_params(client[0], response_mode="form_post", prompt="none"),
                  headers=BROWSER)
    assert form_post_fields(r)["error"] == "login_required"
    # ...but never before: an unregistered redirect URI gets a page, not a form to it.
    r = authorize(oauth, code_params(client[0], response_mode="form_post",
                                     redirect_uri="https://evil.example/cb"), headers=BROWSER)
    assert r.status_code == 400 and "evil.example" not in r.text.split("Details")[0]
    assert "<form" not in r.text


# ---- request objects, registration

def test_request_objects_and_registration_are_refused_by_name(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    jwt = "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."
    cases = {"request": (jwt, "request_not_supported"),
             "request_uri": ("https://app.example/r/1", "request_uri_not_supported"),
             "registration": ("{}", "registration_not_supported")}
    for name, (value, error) in cases.items():
        r = authorize(oauth, code_params(client[0], **{name: value}), headers=BROWSER, session=s)
        redirected_error(r, error)
        # API callers (HTTP Basic) too: no code.
        r = authorize(oauth, code_params(client[0], **{name: value}), user=USER, password=PASSWORD)
        assert "code=" not in r.headers.get("Location", "")
    # With an unknown client nothing is redirected.
    r = authorize(oauth, code_params("no-such-client", request=jwt), headers=BROWSER)
    assert r.status_code == 404 and "Location" not in r.headers


# ---- claims

def test_claims_parameter_must_be_a_json_object_of_objects(oauth):
    client = prepare(oauth)
    s = signed_in(oauth, client[0])
    for bad in ("[]", "{", '"email"', '{"userinfo":["email"]}', '{"id_token":{"email":true}}',
                '{"userinfo":{"email":{"essential":"yes"}}}',
                '{"userinfo":{"' + "a" * 5000 + '":null}}'):
        r = authorize(oauth, code_params(client[0], claims=bad), headers=BROWSER, session=s)
        q = redirected_error(r, "invalid_request")
        assert "claims" in q["error_description"]
    good = '{"userinfo":{"email":{"essential":true}},"id_token":{"auth_time":null}}'
    r = authorize(oauth, code_params(client[0], claims=good), headers=BROWSER, session=s)
    assert r.status_code == 302 and "code" in query_of(r.headers["Location"])[1]


def test_repeated_oidc_parameters_are_refused(oauth):
    client = prepare(oauth)
    url = (oauth.url + "/oauth2/code?response_type=code&client_id=" + client[0] +
           "&prompt=none&prompt=login")
    r = requests.get(url, headers=BROWSER, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "Location" not in r.headers


# ---- discovery

def test_discovery_lists_the_supported_parameters(oauth):
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        m = requests.get(oauth.url + path, timeout=10).json()
        assert m["response_modes_supported"] == ["query", "form_post"]
        assert m["prompt_values_supported"] == ["none", "login", "consent"]
        assert m["request_parameter_supported"] is False
        assert m["request_uri_parameter_supported"] is False
