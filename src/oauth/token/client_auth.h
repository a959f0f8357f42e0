#pragma once
// Client credentials as presented at the token, introspection, revocation, deref, signing and
// key endpoints (RFC 6749 §2.3.1, light-oauth2 reference §2.3). The token endpoint reads them
// once per request, into its TokenRequest (token_request.h).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/secret.h"
#include "oauth/token/mtls.h"
#include "oauth/token/params.h"

namespace portcullis::oauth {

// Owns its strings (Basic credentials are decoded into new ones); the secret cannot be logged.
struct PresentedCredentials {
  std::string client_id;
  Secret secret;          // empty for public clients and private_key_jwt
  std::string method;     // client_secret_basic | client_secret_post | private_key_jwt | none
  std::string assertion;  // private_key_jwt: the client_assertion JWT
  // The TLS client certificate of the request (RFC 8705), whatever the method; null when none.
  // Set by the HTTP binding, not by ReadClientCredentials. Shared, immutable.
  std::shared_ptr<const ClientCertificate> client_cert;
};

// Reads the Authorization header (may be absent) and, when there is none, the form. Errors use
// light-oauth2's codes: ERR12002 nothing presented, ERR12003 not Basic, ERR12004 undecodable or
// no colon. Basic credentials are percent-decoded as RFC 6749 §2.3.1 requires; the unencoded
// "Basic id:secret" form that light-oauth2's documentation uses is accepted as is.
// `form` may be null (endpoints without a form body).
Result<PresentedCredentials> ReadClientCredentials(std::optional<std::string_view> authorization,
                                                   const Params* form);

// RFC 7521 §4.2: client_id is optional next to a client assertion, which names the client in
// `sub` (RFC 7523 §3: iss and sub are the client_id). Reads `sub` from the UNVERIFIED payload,
// only to find whose keys to check the signature with; empty when unreadable. Authlib's
// PrivateKeyJWT, among others, sends no client_id.
std::string UnverifiedAssertionSubject(std::string_view assertion);

}  // namespace portcullis::oauth
