#pragma once
// HTTP binding of Pushed Authorization Requests (RFC 9126), in the token service:
//
//   POST /oauth2/par   §2.1 request (form, client authentication as at the token endpoint);
//                      201 {request_uri, expires_in} (§2.2); errors as RFC 6749 §5.2 JSON (§2.3),
//                      401 with WWW-Authenticate when client authentication fails. A DPoP
//                      header (RFC 9449 §10.1) binds the code to its key; with nonces on
//                      (dpop.require_nonce) every answer carries DPoP-Nonce.
//
// The authorization endpoint's side (client_id + request_uri) is in api/code_api.cc.

#include "oauth/code/pushed_authorization.h"

namespace portcullis {
namespace http {
class Router;
}

namespace api {

// Borrows `par` and `tokens` (whose DPoP nonce the answers carry when nonces are on): both must
// outlive the router.
void RegisterParApi(http::Router& router, oauth::PushedAuthorizationService& par,
                    const oauth::TokenService& tokens);

}  // namespace api
}  // namespace portcullis
