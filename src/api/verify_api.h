#pragma once
// The resource-server side, served by the token service (so `--services token` has it):
//
// GET /oauth2/verify — a gateway check compatible with nginx auth_request. The gateway's config
// passes the original request in X-Original-Method and X-Original-URI and, to have scopes
// checked, the registry service the location belongs to in X-Service-Id; the token comes in
// Authorization, optionally with the calling service's token in X-Scope-Token (light-oauth2
// reference §10.2: the scope check is made on the X-Scope-Token, the identity is the
// Authorization token's). Answers:
//   204 + X-Client-Id, X-User-Id, X-Scope (and X-Scope-Client-Id with two tokens): allowed;
//   401 + WWW-Authenticate: Bearer error="invalid_token": no, bad, expired or revoked token, a
//       token whose "aud" names only other services, or a signed payload (typ payload+jwt);
//   403 + WWW-Authenticate: Bearer error="insufficient_scope": the endpoint's scope is missing,
//       no endpoint of the service matches, the path is refused (not canonical, or a case
//       variant of a declared endpoint: verify::EndpointTable), or the service is unknown;
//   403 ERR11017: no service named (no or empty X-Service-Id and no verify.default_service).
//       Fail closed: nginx drops empty headers, so a mistyped map must not turn the scope
//       check off;
//   400: X-Original-Method / X-Original-URI missing (a config error).
// Tokens are checked against this server's own key ring (no HTTP to itself), its issuer and its
// revocation deny-list; "aud", when present, must name the service or the default token
// audience (verify::AudienceAdmits). The endpoint→scope table is the in-memory ServiceCatalog,
// matched with libportcullis-verify's EndpointTable under the service's pathCase. Nothing here
// blocks: it runs on the I/O thread.
//
// Sender-constrained tokens, with libportcullis-verify's rules (verify/sender.h, README
// "Sender-constrained tokens at the resource"):
//   - cnf.jkt (DPoP, RFC 9449 §7): the gateway forwards Authorization (scheme DPoP) and the
//     DPoP header; the proof's htm is checked against X-Original-Method and its htu against
//     X-Forwarded-Proto "://" X-Forwarded-Host + the path of X-Original-URI (or X-Original-URI
//     itself when it is absolute). Refusals: 401 with `WWW-Authenticate: DPoP algs="...",
//     error="invalid_dpop_proof"` (a bad, stale, replayed or missing proof) or
//     error="invalid_token" (a bound token sent as Bearer, a proof from another key, an
//     unbound token sent with the DPoP scheme). A DPoP request without X-Forwarded-Proto and
//     X-Forwarded-Host is a gateway config error: 400. Proof jtis are remembered in memory,
//     per Portcullis process, for the iat window (verify.dpop_window_s).
//   - cnf["x5t#S256"] (RFC 8705 §3): the client certificate comes in the header named by
//     verify.client_cert_header (nginx: $ssl_client_escaped_cert; RFC 9440 ":b64:" too), read
//     ONLY when the connection comes from server.trusted_proxies; otherwise it is ignored and
//     the bound token refused (401 Bearer error="invalid_token").
//
// GET /oauth2/revoked — the deny-list for resource servers to pull (libportcullis-verify
// Options::revoked_url): {"revoked":[{"jti":"..","exp":n},...]} with an ETag (304 on
// If-None-Match). Needs a bearer token with oauth.revoked.r (least privilege) or portal.r (the
// scope a resource server already holds for the endpoint table).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client_ip.h"
#include "jose/alg.h"

namespace portcullis {
class Clock;
namespace http {
class Router;
}
namespace oauth {
class TokenKeys;
class RevocationList;
class ServiceCatalog;
}  // namespace oauth

namespace api {

class AdminAuth;

struct VerifyApiDeps {
  const oauth::TokenKeys& keys;
  const oauth::RevocationList& revoked;
  const oauth::ServiceCatalog& services;
  const AdminAuth& auth;
  std::string issuer;
  // The "aud" of tokens requested without a resource (token.audience, else the issuer): names
  // no particular service, so every service accepts it.
  std::string default_audience;
  // verify.default_service: the service checked when the gateway sends no X-Service-Id.
  std::string default_service;
  // verify.dpop_window_s: a DPoP proof's iat may differ from now by at most this.
  int64_t dpop_window_s = 60;
  // verify.client_cert_header (lower-case) and the proxies it is believed from
  // (server.trusted_proxies). Empty header name: certificate-bound tokens are always refused.
  std::string client_cert_header = "client-cert";
  http::AddressRanges trusted_proxies;
  const Clock* clock = nullptr;  // null: the system clock; must outlive the router
  // The DPoP proof algorithms accepted with a token issued to a client (its client_id claim),
  // from the window's list: FAPI 2.0 §5.4.1 narrows it for fapi2 clients
  // (TokenService::ProofAlgorithmsFor). Empty: the list as it is. Must not block.
  std::function<std::vector<jose::Alg>(std::string_view client_id,
                                       const std::vector<jose::Alg>& allowed)>
      proof_algorithms;
};

// `deps` and what it refers to must outlive the router.
void RegisterVerifyApi(http::Router& router, const VerifyApiDeps& deps);

}  // namespace api
}  // namespace portcullis
