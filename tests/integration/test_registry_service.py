"""Service registry over HTTP: light-oauth2's service tests (reference §16.4)."""
import pytest

from test_registry_common import err, reg  # noqa: F401


def service(sid, **fields):
    body = {"serviceId": sid, "serviceType": "openapi", "serviceName": "Account Service",
            "serviceDesc": "A microservice that serves account information", "scope": "a.r b.r",
            "ownerId": "admin", "host": "lightapi.net"}
    body.update(fields)
    return body


ENDPOINTS = [{"endpoint": "/v1/data@get", "operation": "getData", "scope": "data.w data.r"},
             {"endpoint": "/v1/data@post", "operation": "postData", "scope": "data.w"}]


@pytest.fixture(scope="module", autouse=True)
def fixtures(reg):  # noqa: F811
    for sid in ("AACT0001", "AACT0002", "AACT0003"):
        assert reg.post("/oauth2/service", json=service(sid)).status_code == 200
    assert reg.post("/oauth2/service/AACT0003/endpoint", json=ENDPOINTS).status_code == 200


def test_list_needs_a_page(reg):  # noqa: F811
    err(reg.get("/oauth2/service"), 400, "ERR11000")


def test_list_page_0_and_1(reg):  # noqa: F811
    body = reg.get("/oauth2/service?page=0").json()
    assert body["total"] >= 2 and body["services"][0]["serviceId"] == "AACT0001"
    assert reg.get("/oauth2/service?page=1").json()["services"] == []


def test_create_update_get_delete(reg):  # noqa: F811
    r = reg.post("/oauth2/service", json=service("AACT0005", serviceName="Retail"))
    assert r.status_code == 200, r.text
    assert r.json()["serviceName"] == "Retail"
    err(reg.post("/oauth2/service", json=service("AACT0005")), 400, "ERR12018")
    r = reg.put("/oauth2/service", json=service("AACT0005", serviceName="Retail 2"))
    assert r.status_code == 200 and r.json()["serviceName"] == "Retail 2"
    err(reg.put("/oauth2/service", json=service("nope")), 404, "ERR12015")
    r = reg.get("/oauth2/service/AACT0005")
    assert r.status_code == 200 and r.json()["serviceId"] == "AACT0005"
    err(reg.get("/oauth2/service/nope"), 404, "ERR12015")
    r = reg.delete("/oauth2/service/AACT0002")
    assert r.status_code == 200 and r.json() == {"serviceId": "AACT0002"}
    err(reg.delete("/oauth2/service/AACT0002"), 404, "ERR12015")


def test_endpoints(reg):  # noqa: F811
    r = reg.post("/oauth2/service/AACT0001/endpoint", json=ENDPOINTS)
    assert r.status_code == 200 and r.text == ""
    err(reg.post("/oauth2/service/fake/endpoint", json=ENDPOINTS), 404, "ERR12015")
    r = reg.get("/oauth2/service/AACT0001/endpoint")
    assert r.status_code == 200
    assert {e["endpoint"] for e in r.json()} == {"/v1/data@get", "/v1/data@post"}
    err(reg.get("/oauth2/service/AACT0004/endpoint"), 404, "ERR12042")
    assert reg.delete("/oauth2/service/AACT0003/endpoint").status_code == 200
    err(reg.delete("/oauth2/service/AACT0004/endpoint"), 404, "ERR12042")


def test_health_and_server_info(reg):  # noqa: F811
    assert reg.get("/health/com.networknt.oauth2-service-1.0.0", scope=None).status_code == 200
    assert reg.get("/server/info", scope=None).status_code == 200


def test_validation(reg):  # noqa: F811
    for body, field in [(service("A B"), "serviceId"), (service("x" * 33), "serviceId"),
                        (service("S1", serviceType="soap"), "serviceType"),
                        (service("S1", serviceName="n" * 33), "serviceName"),
                        (service("S1", extra=1), "extra")]:
        b = err(reg.post("/oauth2/service", json=body), 400, "ERR11004")
        assert b["description"].startswith(field + ":"), b
    b = err(reg.post("/oauth2/service", json=service("S1", host="")), 400, "ERR12051")
    for eps, field in [([{"endpoint": "/a@get"}], "[0].scope"),
                       ([{"endpoint": "/a@get", "scope": "a"}, {"endpoint": "/a@get", "scope": "b"}],
                        "[1].endpoint"),
                       ([{"endpoint": "/a@get", "scope": "a", "verb": "GET"}], "[0].verb"),
                       ({"endpoint": "/a@get"}, "body")]:
        b = err(reg.post("/oauth2/service/AACT0001/endpoint", json=eps), 400, "ERR11004")
        assert b["description"].startswith(field + ":"), b
