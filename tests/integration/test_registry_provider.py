"""Federation registry over HTTP: light-oauth2's provider tests (reference §16.8)."""
from test_registry_common import err, reg  # noqa: F401

PROVIDER = {"providerId": "05", "serverUrl": "https://google.ca/light-4j:8080", "uri": "/oauth/key",
            "providerName": "cloud light-4j"}


def test_provider_scenarios(reg):  # noqa: F811
    r = reg.post("/oauth2/provider", json=PROVIDER)
    assert r.status_code == 200, r.text
    assert r.json() == PROVIDER
    r = reg.get("/oauth2/provider")
    assert r.status_code == 200 and r.json() == {"05": PROVIDER}  # an object keyed by id
    r = reg.put("/oauth2/provider", json=dict(PROVIDER, serverUrl="https://light-4j.example.com"))
    assert r.status_code == 200 and r.json()["serverUrl"] == "https://light-4j.example.com"
    err(reg.delete("/oauth2/provider/11111"), 400, "ERR12047")
    err(reg.post("/oauth2/provider", json=PROVIDER), 400, "ERR12048")
    err(reg.put("/oauth2/provider", json=dict(PROVIDER, providerId="06")), 400, "ERR12049")
    assert reg.get("/oauth2/provider/05").json()["uri"] == "/oauth/key"
    assert reg.delete("/oauth2/provider/05").status_code == 200
    err(reg.get("/oauth2/provider/05"), 400, "ERR12047")


def test_provider_validation(reg):  # noqa: F811
    for body, field in [(dict(PROVIDER, providerId="5"), "providerId"),
                        (dict(PROVIDER, providerId="ab"), "providerId"),
                        (dict(PROVIDER, serverUrl="ftp://x"), "serverUrl"),
                        (dict(PROVIDER, serverUrl="http://google.ca"), "serverUrl"),
                        (dict(PROVIDER, uri="oauth2/key"), "uri"),
                        (dict(PROVIDER, region="eu"), "region")]:
        b = err(reg.post("/oauth2/provider", json=body), 400, "ERR11004")
        assert b["description"].startswith(field + ":"), b
