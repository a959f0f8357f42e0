"""Admin security: every registry route answers 401 without a token or with a bad one, and 403
with a valid Portcullis token that lacks the route's scope (reference API specs, §18.7)."""
import pytest

from test_registry_common import err, reg  # noqa: F401

ROUTES = [  # method, path, the scope that must suffice
    ("POST", "/oauth2/client", "portal.w"),
    ("PUT", "/oauth2/client", "portal.w"),
    ("GET", "/oauth2/client?page=0", "portal.r"),
    ("GET", "/oauth2/client/x", "portal.r"),
    ("DELETE", "/oauth2/client/x", "portal.w"),
    ("POST", "/oauth2/client/x/secret", "portal.w"),
    ("GET", "/oauth2/client/x/service", "portal.r"),
    ("DELETE", "/oauth2/client/x/service", "portal.w"),
    ("POST", "/oauth2/client/x/service/y", "portal.w"),
    ("GET", "/oauth2/client/x/service/y", "portal.r"),
    ("DELETE", "/oauth2/client/x/service/y", "portal.w"),
    ("POST", "/oauth2/service", "portal.w"),
    ("PUT", "/oauth2/service", "portal.w"),
    ("GET", "/oauth2/service?page=0", "portal.r"),
    ("GET", "/oauth2/service/x", "portal.r"),
    ("DELETE", "/oauth2/service/x", "portal.w"),
    ("POST", "/oauth2/service/x/endpoint", "portal.w"),
    ("GET", "/oauth2/service/x/endpoint", "portal.r"),
    ("DELETE", "/oauth2/service/x/endpoint", "portal.w"),
    ("POST", "/oauth2/user", "oauth.user.w"),
    ("PUT", "/oauth2/user", "oauth.user.w"),
    ("GET", "/oauth2/user?page=1", "oauth.user.r"),
    ("GET", "/oauth2/user/x", "oauth.user.r"),
    ("DELETE", "/oauth2/user/x", "oauth.user.w"),
    ("POST", "/oauth2/password/x", "oauth.user.w"),
    ("POST", "/oauth2/provider", "write:provider"),
    ("PUT", "/oauth2/provider", "write:provider"),
    ("GET", "/oauth2/provider", "read:provider"),
    ("GET", "/oauth2/provider/05", "read:provider"),
    ("DELETE", "/oauth2/provider/05", "write:provider"),
    ("GET", "/oauth2/refresh_token?page=1", "oauth.refresh_token.r"),
    ("GET", "/oauth2/refresh_token/x", "oauth.refresh_token.r"),
    ("DELETE", "/oauth2/refresh_token/x", "oauth.refresh_token.w"),
    ("GET", "/oauth2/audit", "oauth.audit.r"),
]


@pytest.mark.parametrize("method,path,scope", ROUTES)
def test_route_needs_a_token_with_its_scope(reg, method, path, scope):  # noqa: F811
    err(reg.call(method, path, scope=None, json={}), 401, "ERR10002")
    err(reg.call(method, path, token="not.a.jwt", json={}), 401, "ERR10000")
    r = reg.call(method, path, scope=None, headers={"Authorization": "Basic YTpi"}, json={})
    err(r, 401, "ERR10002")
    # A real Portcullis token, with every admin scope but the one this route needs.
    other = "portal.r" if scope != "portal.r" else "oauth.user.r"
    err(reg.call(method, path, scope=other, json={}), 403, "ERR10005")
    r = reg.call(method, path, scope=scope, json={})
    assert r.status_code not in (401, 403), (method, path, r.text)


def test_a_write_scope_grants_the_read_but_not_the_reverse(reg):  # noqa: F811
    assert reg.get("/oauth2/client?page=0", scope="portal.w").status_code == 200
    err(reg.delete("/oauth2/client/x", scope="portal.r"), 403, "ERR10005")
    assert reg.get("/oauth2/user?page=1", scope="oauth.user.w").status_code == 200
    err(reg.post("/oauth2/user", scope="oauth.user.r", json={}), 403, "ERR10005")


def test_tampered_and_foreign_tokens_are_invalid(reg):  # noqa: F811
    token = reg.token("portal.r")
    head, payload, sig = token.split(".")
    forged = head + "." + payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    err(reg.get("/oauth2/client?page=0", token=forged), 401, "ERR10000")
    none_alg = "eyJhbGciOiJub25lIn0." + payload + "."
    err(reg.get("/oauth2/client?page=0", token=none_alg), 401, "ERR10000")
