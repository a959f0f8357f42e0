"""id_token_hint is one check (app/modules/id_token_hint.h) behind two endpoints: the
authorization endpoint (code service) and pushed authorization requests (token service). An ID
token we issued to one client is no hint for another client at either; to its own client it is."""
import base64
import json

import requests

from code_helpers import (BROWSER, PASSWORD, REDIRECT, USER, authorize, browser_login,
                          code_params, make_client, make_user, pkce_pair, query_of, redeem)
from oauth_fixtures import basic, oauth  # noqa: F401


def id_token_for(oauth, client):
    s = requests.Session()
    params = code_params(client[0], scope="openid petstore.r", nonce="n-1")
    done = browser_login(oauth, s, params)
    assert done.status_code == 303, done.text
    t = redeem(oauth, query_of(done.headers["Location"])[1]["code"], client)
    assert t.status_code == 200, t.text
    token = t.json()["id_token"]
    part = token.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["aud"] in (
        client[0], [client[0]])
    return token


def par(oauth, client, **extra):
    _, challenge = pkce_pair()
    data = {"response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT,
            "state": "st-1", "code_challenge": challenge, "code_challenge_method": "S256",
            "scope": "openid petstore.r", "nonce": "n-1"}
    data.update(extra)
    return requests.post(oauth.url + "/oauth2/par", data=data,
                         headers={"Authorization": basic(*client)}, timeout=10)


def test_an_id_token_of_another_client_is_no_hint(oauth):  # noqa: F811
    make_user(oauth)
    mine = make_client(oauth, "trusted", scope="openid petstore.r")
    other = make_client(oauth, "trusted", scope="openid petstore.r")
    hint = id_token_for(oauth, mine)

    # The authorization endpoint (code module).
    for client, ok in ((mine, True), (other, False)):
        r = authorize(oauth, code_params(client[0], scope="openid petstore.r", nonce="n-1",
                                         id_token_hint=hint), headers=BROWSER)
        if ok:
            assert r.status_code == 200 and 'name="j_password"' in r.text, r.text
        else:
            assert r.status_code == 302, r.text
            q = query_of(r.headers["Location"])[1]
            assert q["error"] == "invalid_request" and "id_token_hint" in q["error_description"]

    # Pushed authorization requests (token module).
    r = par(oauth, mine, id_token_hint=hint)
    assert r.status_code == 201, r.text
    r = par(oauth, other, id_token_hint=hint)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert "id_token_hint" in r.json()["error_description"]
    assert USER not in r.text and PASSWORD not in r.text
