#pragma once
// HTTP bindings of the token service: /oauth2/token, /oauth2/introspect, /oauth2/revoke,
// /oauth2/deref/{token}, /oauth2/signing and the discovery documents (RFC 8414).

#include <string>

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
};

void RegisterTokenApi(http::Router& router, oauth::TokenService& tokens);
// The metadata documents, served by whichever process runs the token service.
void RegisterDiscovery(http::Router& router, const Discovery& discovery);

}  // namespace api
}  // namespace portcullis
