#pragma once
// The OpenID Connect userinfo endpoint (Core §5.3), served by the token service:
// GET and POST /oauth2/userinfo.
//
// The access token comes as a bearer token (RFC 6750) in the Authorization header (GET, POST)
// or, for POST, as `access_token` in an application/x-www-form-urlencoded body (§2.2); never in
// the query (§2.3 is not supported: URLs end up in logs), and never in two places at once.
// Answers:
//   200 JSON: sub (the user id, as in ID tokens) and the claims the token's scope releases
//       (profile, email: oauth/oidc/user_claims.h) plus those the authorization request's
//       `claims` parameter asked for in its userinfo member;
//   400 invalid_request: a token in the query or in two places, or (without the header) a POST
//       body that is not a form;
//   401 invalid_token: no valid access token (bad, expired or revoked, an ID token, a signed
//       payload, a token without a user such as client_credentials), or its user is gone or
//       locked; with no token at all, 401 without an error code (§3.1);
//   403 insufficient_scope: the token's scope lacks openid.
// Every error carries WWW-Authenticate: Bearer (RFC 6750 §3). The user is read again from the
// user store on each call (blocking: the store pool).
//
// Sender-constrained tokens (verify/sender.h, the rules of GET /oauth2/verify): a DPoP-bound
// token (cnf.jkt) must come as `Authorization: DPoP <token>` with one DPoP proof for this
// method, `binding.url`, the token (ath) and the bound key, its jti not seen before by this
// process (RFC 9449 §7); a certificate-bound token (cnf x5t#S256) only over a connection that
// presented that certificate (RFC 8705 §3). Refusals are 401 with WWW-Authenticate: DPoP
// algs="..." (invalid_token or invalid_dpop_proof) or Bearer error="invalid_token". An unbound
// token sent with the DPoP scheme is refused (it has no key to check the proof against). With
// server nonces on (dpop.require_nonce), a DPoP proof without a valid nonce gets 401
// use_dpop_nonce (RFC 9449 §9), and every answer carries DPoP-Nonce.
//
// A token of a user signed in by a configured authenticator (claim user_realm, e.g. LDAP) gets
// `sub` alone: the user store's same-named account is someone else (README "Enterprise sign-in:
// one name in two realms").

#include <string>

#include "common/clock.h"
#include "verify/sender.h"

namespace portcullis {
namespace http {
class Router;
}
namespace oauth {
class TokenService;
class UserStore;
}  // namespace oauth

namespace api {

struct UserinfoBinding {
  std::string url;            // the endpoint's public URL (issuer + /oauth2/userinfo): htu
  verify::DpopPolicy policy;  // accepted proof algorithms and iat window
  const Clock& clock;         // must outlive the router
  // The endpoint under server.mtls_base_url (RFC 8705 §5), accepted as htu too; empty: none.
  std::string alias_url = {};
};

// `tokens` and `users` must outlive the router.
void RegisterUserinfoApi(http::Router& router, oauth::TokenService& tokens, oauth::UserStore& users,
                         UserinfoBinding binding);

}  // namespace api
}  // namespace portcullis
