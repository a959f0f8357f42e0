#pragma once
// HTTP bindings of the token service: /oauth2/token, /oauth2/introspect, /oauth2/revoke,
// /oauth2/deref/{token}, /oauth2/signing and the discovery documents (RFC 8414).
//
// POST /oauth2/token builds one TokenRequest (TokenService::Prepare) and asks TokenService::Needs
// where it may run: on the I/O thread when the grant declares it needs nothing for this request
// (the client_credentials hot path), else on the store or the password-hashing pool. Discovery's
// grant_types_supported lists GrantRegistry::Default(). The registered handlers borrow `tokens`,
// which must outlive the router.

#include <string>
#include <vector>

namespace portcullis {
namespace http {
class Router;
}
namespace oauth {
class TokenService;
}

namespace api {

struct Discovery {
  std::string issuer;
  bool code_service = true;  // publish authorization_endpoint
  bool key_service = true;   // publish jwks_uri
  // OpenID Connect: the algorithms ID tokens can be signed with (oidc::IdTokenAlgs).
  std::vector<std::string> id_token_signing_algs = {"RS256"};
  // RFC 9449 §5.1: dpop_signing_alg_values_supported (empty: not published).
  std::vector<std::string> dpop_signing_algs;
  // RFC 8705: whether client certificates can arrive at all (server.tls_client_certs or
  // server.client_cert_header): tls_client_certificate_bound_access_tokens (§3.3) and the
  // tls_client_auth and self_signed_tls_client_auth methods (§2) are published only then.
  bool mtls = false;
  // RFC 8705 §5: base URL of a separate mTLS front (server.mtls_base_url); empty: no
  // mtls_endpoint_aliases.
  std::string mtls_base_url;
};

void RegisterTokenApi(http::Router& router, oauth::TokenService& tokens);
// The metadata documents, served by whichever process runs the token service.
void RegisterDiscovery(http::Router& router, const Discovery& discovery);

}  // namespace api
}  // namespace portcullis
