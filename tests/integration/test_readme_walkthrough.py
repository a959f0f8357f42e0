"""README "The first ten minutes, with curl", run as written: the ```sh walkthrough blocks, in
order, as one bash script against a fresh server started the way the ```sh walkthrough-start
block says (bootstrap client from the environment, default SQLite store). Only the address
changes (the README's 127.0.0.1:6880 becomes this server's port). When the README drifts from
the server, this fails."""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import Portcullis

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
DEFAULT_URL = "http://127.0.0.1:6880"
# Variables the blocks set, echoed after the script so the test can check every step.
CHECKED = ["SERVICE", "ENDPOINTS", "BILLING_ID", "LINK", "CC", "WEB_ID", "VERIFIER", "CHALLENGE",
           "LOCATION", "TOKENS", "REFRESHED", "INTROSPECTION"]


def blocks(tag):
    """The fenced code blocks whose info string is `sh <tag>`, in README order."""
    with open(README) as f:
        text = f.read()
    return re.findall(r"^```sh " + re.escape(tag) + r"\n(.*?)^```$", text, re.M | re.S)


def test_the_readme_declares_the_walkthrough():
    start = blocks("walkthrough-start")
    assert len(start) == 1
    # The test starts its server with exactly these two variables, as the README tells users to.
    assert "export PORTCULLIS_BOOTSTRAP_CLIENT_ID=admin PORTCULLIS_BOOTSTRAP_CLIENT_SECRET=" in start[0]
    steps = blocks("walkthrough")
    assert len(steps) >= 9, "a block per step: token, service, endpoints, client, link, " \
                            "client_credentials, code + PKCE, refresh, introspection"
    joined = "\n".join(steps)
    for needle in ("/oauth2/service", "/endpoint", "/oauth2/client", "/service/orders",
                   "grant_type=client_credentials", "code_challenge_method=S256",
                   "grant_type=authorization_code", "grant_type=refresh_token",
                   "/oauth2/introspect"):
        assert needle in joined, needle


@pytest.fixture
def server(tmp_path):
    for tool in ("bash", "curl", "jq", "openssl", "basenc"):
        assert shutil.which(tool), f"{tool} is needed to run the README walkthrough"
    secret = base64.b16encode(os.urandom(24)).decode().lower()
    env = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": "admin", "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": secret}
    s = Portcullis(env=env, tmp=str(tmp_path))
    yield s, env
    assert s.stop() == 0, s.read_log()


def test_the_readme_walkthrough_runs(server):
    s, env = server
    script = "set -euo pipefail\n" + "\n".join(blocks("walkthrough"))
    assert DEFAULT_URL in script
    script = script.replace(DEFAULT_URL, s.url)
    for name in CHECKED:
        script += f'\nprintf "@@{name} %s\\n" "${name}"'
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    full_env.update(env)
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=full_env,
                       timeout=120)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\nlog:\n{s.read_log()}"
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("@@"):
            name, _, value = line[2:].partition(" ")
            out[name] = value
    assert set(out) == set(CHECKED), r.stdout

    # service and endpoints
    assert json.loads(out["SERVICE"])["serviceId"] == "orders"
    assert {e["endpoint"]: e["scope"] for e in json.loads(out["ENDPOINTS"])} == {
        "/v1/orders@get": "orders.r", "/v1/orders@post": "orders.w"}
    # the link replaced the scope given at creation, as the README says
    assert json.loads(out["LINK"]) == {"old_scope": "reports.r", "new_scope": "orders.r"}
    assert "# {\"old_scope\":\"reports.r\",\"new_scope\":\"orders.r\"}" in script
    # client_credentials
    cc = json.loads(out["CC"])
    assert cc["scope"] == "orders.r" and cc["token_type"].lower() == "bearer"
    assert claims(cc["access_token"])["client_id"] == out["BILLING_ID"]
    # PKCE: the challenge is S256 of the verifier (RFC 7636 §4.2), the verifier long enough
    verifier = out["VERIFIER"]
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert out["CHALLENGE"] == expected.decode()
    location = urllib.parse.urlsplit(out["LOCATION"])
    query = dict(urllib.parse.parse_qsl(location.query))
    assert location.netloc == "127.0.0.1:8080" and query["state"] == "s1" and query["code"]
    assert query["iss"] == s.url
    # code redeemed, then refreshed (rotated)
    tokens = json.loads(out["TOKENS"])
    assert tokens["scope"] == "orders.r" and tokens["refresh_token"]
    assert claims(tokens["access_token"])["sub"] == "alice"
    refreshed = json.loads(out["REFRESHED"])
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    # introspection of the refreshed token
    intro = json.loads(out["INTROSPECTION"])
    assert intro["active"] is True and intro["sub"] == "alice"
    assert intro["client_id"] == out["WEB_ID"] and intro["scope"] == "orders.r"


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
