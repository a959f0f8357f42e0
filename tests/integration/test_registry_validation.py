"""Validation and hostile input on the registry APIs: oversized fields, wrong types, unknown and
duplicate members, malformed bodies, SQL metacharacters and unicode. Every refusal is 400
ERR11004 (or the field's light-oauth2 code) and names the offending field; nothing is written."""
import json

import pytest
import requests

from test_registry_common import err, reg  # noqa: F401

BASE = {"clientType": "confidential", "clientProfile": "service", "clientName": "v",
        "host": "lightapi.net"}


def post_raw(reg, path, body, content_type="application/json"):  # noqa: F811
    return reg.call("POST", path, data=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("field,size,limit", [
    ("clientName", 33, 32), ("clientDesc", 2049, 2048), ("scope", 4097, 4096),
    ("host", 65, 64), ("authenticateClass", 257, 256)])
def test_oversized_fields(reg, field, size, limit):  # noqa: F811
    b = err(reg.post("/oauth2/client", json=dict(BASE, **{field: "x" * size})), 400, "ERR11004")
    assert b["description"] == f"{field}: at most {limit} characters"
    assert reg.post("/oauth2/client", json=dict(BASE, **{field: "x" * limit})).status_code == 200


def test_length_counts_characters_not_bytes(reg):  # noqa: F811
    assert reg.post("/oauth2/client", json=dict(BASE, clientName="日" * 32)).status_code == 200
    err(reg.post("/oauth2/client", json=dict(BASE, clientName="日" * 33)), 400, "ERR11004")


@pytest.mark.parametrize("field,value,problem", [
    ("clientName", 42, "must be a string"), ("clientName", ["a"], "must be a string"),
    ("clientName", {"a": 1}, "must be a string"), ("clientName", True, "must be a string"),
    ("redirectUris", "https://a/cb", "must be an array of strings"),
    ("redirectUris", [1], "must be an array of strings"),
    ("grantTypes", {"a": 1}, "must be an array of strings"),
    ("accessTokenTtl", "600", "must be an integer"), ("accessTokenTtl", 1.5, "must be an integer"),
    ("customClaim", [1], "must be a JSON object or a string holding one"),
    ("customClaim", "not json", "not valid JSON"),
])
def test_wrong_types(reg, field, value, problem):  # noqa: F811
    b = err(reg.post("/oauth2/client", json=dict(BASE, **{field: value})), 400, "ERR11004")
    assert b["description"].startswith(field + ":") and problem in b["description"], b


def test_unknown_and_duplicate_members(reg):  # noqa: F811
    b = err(reg.post("/oauth2/client", json=dict(BASE, isAdmin=True)), 400, "ERR11004")
    assert b["description"] == "isAdmin: unknown field"
    body = '{"clientType":"public","clientType":"trusted","clientProfile":"service",' \
           '"clientName":"d","host":"h"}'
    b = err(post_raw(reg, "/oauth2/client", body), 400, "ERR11004")
    assert b["description"] == "body: duplicate member 'clientType'"
    b = err(post_raw(reg, "/oauth2/client", '{"customClaim":{"a":1,"a":2},"clientType":"public"}'),
            400, "ERR11004")
    assert "duplicate member 'a'" in b["description"]


@pytest.mark.parametrize("body", ["", "clientName=x", "{", "[]", "null", "\"x\"", "{} {}",
                                  "[" * 5000, "{\"a\":" * 100 + "1" + "}" * 100,
                                  b"{\"clientName\":\"\xff\xfe\"}"])
def test_malformed_bodies(reg, body):  # noqa: F811
    err(post_raw(reg, "/oauth2/client", body), 400, "ERR11004")


def test_duplicate_ids_are_refused(reg):  # noqa: F811
    assert reg.post("/oauth2/client", json=dict(BASE, clientId="dup-client")).status_code == 200
    err(reg.post("/oauth2/client", json=dict(BASE, clientId="dup-client")), 400, "ERR12019")
    svc = {"serviceId": "DUP1", "serviceType": "openapi", "serviceName": "d", "host": "h"}
    assert reg.post("/oauth2/service", json=svc).status_code == 200
    err(reg.post("/oauth2/service", json=svc), 400, "ERR12018")


@pytest.mark.parametrize("text", [
    "'; DROP TABLE clients; --", "\" OR \"1\"=\"1", "x') OR ('1'='1", "%_\\", "Robert'); --",
    "Zoë ☃ 𝄞 日本語 العربية", "\u202eevil"])
def test_sql_metacharacters_and_unicode_are_data(reg, text):  # noqa: F811
    r = reg.post("/oauth2/client", json=dict(BASE, clientName=text[:32], clientDesc=text))
    assert r.status_code == 200, r.text
    got = reg.get(f"/oauth2/client/{r.json()['clientId']}").json()
    assert got["clientName"] == text[:32] and got["clientDesc"] == text


def test_hostile_ids_and_query_parameters(reg):  # noqa: F811
    for path in ["/oauth2/client/x'%20OR%20'1'='1", "/oauth2/client/%00",
                 "/oauth2/client/..%2F..%2Fetc", "/oauth2/user/admin'--",
                 "/oauth2/service/%27%3B%20DROP%20TABLE%20services%3B--"]:
        r = reg.get(path)
        assert r.status_code == 404, (path, r.text)
    before = reg.get("/oauth2/client?page=0").json()["total"]
    body = reg.get("/oauth2/client?page=0&host=%27%20OR%201%3D1--").json()
    assert body["total"] == 0
    assert reg.get("/oauth2/client?page=0&host=%25").json()["total"] == 0  # not a LIKE pattern
    assert reg.get("/oauth2/client?page=0").json()["total"] == before
    err(reg.get("/oauth2/client?page=0&host=" + "h" * 65), 400, "ERR11004")
    err(reg.get("/oauth2/client?page=1e3"), 400, "ERR11004")
    err(reg.get("/oauth2/client?page=99999999999999999999"), 400, "ERR11004")


def test_control_characters_are_refused(reg):  # noqa: F811
    b = err(reg.post("/oauth2/client", json=dict(BASE, clientName="a\u0000b")), 400, "ERR11004")
    assert b["description"] == "clientName: contains a control character"
    b = err(reg.post("/oauth2/client", json=dict(BASE, clientName="a\nb")), 400, "ERR11004")
    assert reg.post("/oauth2/client", json=dict(BASE, clientDesc="line 1\nline 2")).status_code == 200


def test_body_over_the_limit_is_refused(reg):  # noqa: F811
    r = reg.post("/oauth2/client", json=dict(BASE, clientDesc="x" * 70000))
    assert r.status_code == 413
