"""Federation between two deployments with different provider ids (reference §10.3): a token
from cluster A verifies at a resource server that knows only cluster B's key service."""
import base64
import json

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives import hashes

from conftest import Portcullis
from oauth_fixtures import BOOT_ID, BOOT_SECRET, OAuthServer, basic

ENV = {"PORTCULLIS_BOOTSTRAP_CLIENT_ID": BOOT_ID, "PORTCULLIS_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_token_from_cluster_a_verifies_through_cluster_b_key_service():
    a = Portcullis(args=["--set", "keys.provider_id=01"], env=ENV)
    # A serves plain http on loopback: B may fetch from it only with the opt-in (test_federation_tls
    # runs the same over https).
    b = Portcullis(args=["--set", "keys.provider_id=02", "--set", "federation.allow_http_loopback=true"],
                   env=ENV)
    try:
        oa, ob = OAuthServer(a), OAuthServer(b)
        # B learns about A in its provider registry.
        r = ob.admin("POST", "/oauth2/provider", json={
            "providerId": "01", "serverUrl": a.url, "uri": "/oauth2/key", "providerName": "cluster A"})
        assert r.status_code == 200, r.text
        cid, secret = oa.create_client("trusted", scope="orders.read")
        at = oa.token({"grant_type": "client_credentials"}, client=(cid, secret)).json()["access_token"]
        head, payload, sig = at.split(".")
        kid = json.loads(b64(head))["kid"]
        assert kid.startswith("01")

        # A resource server of cluster B asks B's key service, with B credentials.
        rs, rs_secret = ob.create_client("confidential")
        r = requests.get(f"{b.url}/oauth2/key/{kid}", headers={"Authorization": basic(rs, rs_secret)})
        assert r.status_code == 200, r.text
        cert = x509.load_pem_x509_certificate(r.content)
        cert.public_key().verify(b64(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(),
                                 hashes.SHA256())

        # Unknown providers and unknown kids of a known provider are ERR12017, and cached.
        for bad in ("07100", "01999"):
            r = requests.get(f"{b.url}/oauth2/key/{bad}", headers={"Authorization": basic(rs, rs_secret)})
            assert r.status_code == 404 and r.json()["code"] == "ERR12017", r.text
        # Federated lookups need B credentials too.
        assert requests.get(f"{b.url}/oauth2/key/{kid}").status_code == 401
    finally:
        assert a.stop() == 0
        assert b.stop() == 0
