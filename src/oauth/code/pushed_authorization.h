#pragma once
// POST /oauth2/par (RFC 9126 §2), independent of HTTP: authenticates the client as the token
// endpoint does (TokenService::AuthenticateFormClient: public clients send client_id,
// confidential ones authenticate, by secret, private_key_jwt or TLS client certificate), validates
// the whole authorization request exactly as the authorization endpoint would
// (AuthorizationService::Validate: registered redirect URI, response_type, PKCE, scope, OpenID
// Connect parameters), and stores it (par_store.h) under the hash of a fresh random reference. The
// answer's request_uri is kPushedRequestUriPrefix + reference; the authorization endpoint resolves
// it (AuthorizationService::ResolvePushed).
//
// Errors are the token endpoint's (RFC 9126 §2.3, RFC 6749 §5.2): invalid_client (401) when
// client authentication fails, else 400 with invalid_request, invalid_scope,
// unauthorized_client, unsupported_response_type, request_not_supported; and for a DPoP proof
// (RFC 9449 §10.1) invalid_dpop_proof or use_dpop_nonce.
//
// Ownership: borrows everything given to its constructor; each must outlive it.
// Thread-safety: Push may be called concurrently; it blocks (store, a legacy secret check):
// call it on a pool.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/code/authorization_service.h"
#include "oauth/code/par_store.h"
#include "oauth/token/mtls.h"
#include "oauth/token/params.h"

namespace portcullis::oauth {

class TokenService;

// RFC 9126 §2.2's answer.
struct PushedAuthorizationResponse {
  std::string request_uri;
  int64_t expires_in = 0;
  std::string ToJson() const;
};

class PushedAuthorizationService {
 public:
  // `ttl_s`: the request_uri's lifetime, clamped to 1..600 (RFC 9126 §2.2: short).
  PushedAuthorizationService(int64_t ttl_s, TokenService& tokens,
                             const AuthorizationService& authorization, PushedRequestStore& store,
                             const Clock& clock, Random& random);

  // `cert`: the request's TLS client certificate (RFC 8705 client authentication), or null.
  // `dpop_proofs`: the request's DPoP header fields (RFC 9449 §10.1), in order; with one, the
  // proof is checked as at the token endpoint (htu: this endpoint's URL, replay, nonce) and the
  // code is bound to its key as by dpop_jkt (which, if also sent, must name that key).
  Result<PushedAuthorizationResponse> Push(const Params& params,
                                           std::optional<std::string_view> authorization,
                                           std::shared_ptr<const ClientCertificate> cert = nullptr,
                                           std::span<const std::string> dpop_proofs = {});
  // The URL a DPoP proof sent here must name in htu: the issuer's /oauth2/par.
  std::string Endpoint() const;

  int64_t ttl_s() const { return ttl_s_; }

 private:
  int64_t ttl_s_;
  TokenService& tokens_;
  const AuthorizationService& authorization_;
  PushedRequestStore& store_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace portcullis::oauth
