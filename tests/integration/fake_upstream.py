"""A small OpenID Connect provider for tests of Portcullis's upstream sign-in (README "Upstream
OpenID Connect providers"), on loopback over real HTTP, that misbehaves on request: discovery,
a JWKS, an authorization endpoint that signs the user in at once (302 back with code and
state), and a token endpoint that checks client_secret_basic, the redirect URI and the PKCE
verifier, then answers an ID token built from `behaviour`:

    nonce: "echo" (the one from the authorization request) | any other string
    iss: None (the configured issuer) | a foreign issuer
    aud: None (the client id) | a string or list
    azp: None (absent) | a string
    exp_in: seconds from now (negative: expired)
    iat_in: seconds from now
    bad_signature: True signs with a key the JWKS does not hold, under the JWKS key's kid
    iss_param: None (not sent) | a value for the RFC 9207 iss response parameter
    advertise_iss: True puts authorization_response_iss_parameter_supported in discovery
    claims: extra claims (sub, email, email_verified, groups, ...)

jwcrypto (Debian python3-jwcrypto) signs; a missing package fails the tests."""
import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse

from jwcrypto import jwk, jwt


class FakeUpstream:
    def __init__(self, client_id="portcullis-rp", client_secret="s3cret:&%+ x"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = jwk.JWK.generate(kty="RSA", size=2048, kid="up-1", alg="RS256", use="sig")
        self.first_key = self.key
        self.kid = "up-1"
        self.rogue = jwk.JWK.generate(kty="RSA", size=2048, kid="up-1", alg="RS256", use="sig")
        self.codes = {}
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self.token_requests = []
        self.behaviour = {}
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def rotate(self, kid):
        """A new signing key under `kid`, published instead of the old one."""
        self.key = jwk.JWK.generate(kty="RSA", size=2048, kid=kid, alg="RS256", use="sig")
        self.kid = kid

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self, **behaviour):
        self.behaviour = {"nonce": "echo", "exp_in": 300, "iat_in": 0,
                          "claims": {"sub": "u-1001"}}
        self.behaviour.update(behaviour)

    def id_token(self, nonce):
        b = self.behaviour
        now = int(time.time())
        claims = {"iss": b.get("iss") or self.issuer, "aud": b.get("aud") or self.client_id,
                  "exp": now + b["exp_in"], "iat": now + b["iat_in"]}
        if b["nonce"] == "echo":
            claims["nonce"] = nonce
        elif b["nonce"] is not None:
            claims["nonce"] = b["nonce"]
        if b.get("azp"):
            claims["azp"] = b["azp"]
        claims.update(b["claims"])
        key = self.rogue if b.get("bad_signature") else self.key
        kid = "up-1" if b.get("bad_signature") else self.kid
        t = jwt.JWT(header={"alg": "RS256", "kid": kid, "typ": "JWT"}, claims=claims)
        t.make_signed_token(key)
        return t.serialize()

    def _handler(self):
        up = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    up.discovery_fetches += 1
                    if up.behaviour.get("discovery_down"):
                        return self.send_json(503, {"error": "down"})
                    return self.send_json(200, {
                        "issuer": up.issuer,
                        "authorization_endpoint": up.issuer + "/authorize",
                        "token_endpoint": up.issuer + "/token",
                        "jwks_uri": up.issuer + "/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "authorization_response_iss_parameter_supported":
                            bool(up.behaviour.get("advertise_iss"))})
                if url.path == "/jwks":
                    up.jwks_fetches += 1
                    return self.send_json(200, {"keys": [json.loads(up.key.export_public())]})
                if url.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    up.codes[code] = q
                    back = {"code": code, "state": q.get("state", "")}
                    if up.behaviour.get("iss_param"):
                        back["iss"] = up.behaviour["iss_param"]
                    sep = "&" if "?" in q["redirect_uri"] else "?"
                    self.send_response(302)
                    self.send_header("Location",
                                     q["redirect_uri"] + sep + urllib.parse.urlencode(back))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_json(404, {"error": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                auth = self.headers.get("Authorization", "")
                up.token_requests.append({"form": form, "authorization": auth})
                if self.path != "/token":
                    return self.send_json(404, {"error": "not_found"})
                # client_secret_basic: both parts form-urlencoded (RFC 6749 §2.3.1).
                expected = "Basic " + base64.b64encode(
                    (urllib.parse.quote(up.client_id, safe="") + ":" +
                     urllib.parse.quote(up.client_secret, safe="")).encode()).decode()
                if auth != expected:
                    return self.send_json(401, {"error": "invalid_client"})
                req = up.codes.pop(form.get("code", ""), None)
                if req is None or form.get("grant_type") != "authorization_code":
                    return self.send_json(400, {"error": "invalid_grant"})
                if form.get("redirect_uri") != req.get("redirect_uri"):
                    return self.send_json(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(
                    hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if req.get("code_challenge_method") != "S256" or \
                        req.get("code_challenge") != challenge:
                    return self.send_json(400, {"error": "invalid_grant",
                                                "error_description": "PKCE"})
                self.send_json(200, {"access_token": "upstream-at", "token_type": "Bearer",
                                     "expires_in": 300,
                                     "id_token": up.id_token(req.get("nonce"))})

        return Handler
