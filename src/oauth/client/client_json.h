#pragma once
// The client's JSON model: light-oauth2's camelCase Client (reference §3.3) plus Portcullis'
// additions. Used by the admin API, the CLI (--data) and the audit log.
//
//   clientId clientType clientProfile clientName clientDesc ownerId host scope customClaim
//   redirectUri (the first redirect URI; accepted alone, as light-oauth2 sends it)
//   redirectUris grantTypes tokenProfile accessTokenTtl authMethod jwks jwksUri
//   authenticateClass derefClientId
//   postLogoutRedirectUris backchannelLogoutUri idTokenSignedResponseAlg (OpenID Connect)
//   tlsClientAuthSubjectDn tlsClientAuthSanDns tlsClientAuthSanUri tlsClientAuthSanIp
//   tlsClientAuthSanEmail tlsClientCertificateBoundAccessTokens (mTLS, RFC 8705)
//   profile ("fapi2" or null: README "FAPI 2.0 profile")
//   secondFactor ("required" or "optional"; null: optional. README "Second factor (TOTP)")
//   createdAt updatedAt (read-only)
//
// Output never carries the secret or its digest; the API adds "clientSecret" itself on the two
// calls that reveal a new secret (create, rotate).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <utility>

#include <boost/json/object.hpp>

#include "common/error.h"
#include "oauth/client/client.h"

namespace portcullis::oauth {

// The members a create or update request carries; absent members leave a stored client as it is
// (update merges). An optional text member sent as null or "" clears it.
struct ClientPatch {
  std::optional<std::string> client_id;
  std::optional<std::string> client_type;
  std::optional<std::string> client_profile;
  std::optional<std::string> client_name;
  std::optional<std::string> client_desc;
  std::optional<std::string> owner_id;
  std::optional<std::string> host;
  std::optional<std::string> scope;
  std::optional<std::string> custom_claim;  // JSON object text
  std::optional<std::vector<std::string>> redirect_uris;
  std::optional<std::vector<std::string>> grant_types;
  std::optional<std::string> token_profile;
  std::optional<std::optional<int64_t>> access_token_ttl;
  std::optional<std::string> auth_method;
  std::optional<std::string> jwks;  // JSON text
  std::optional<std::string> jwks_uri;
  std::optional<std::string> authenticate_class;
  std::optional<std::string> deref_client_id;
  std::optional<std::vector<std::string>> post_logout_redirect_uris;
  std::optional<std::string> backchannel_logout_uri;
  std::optional<std::string> id_token_signed_response_alg;
  std::optional<bool> require_par;               // requirePushedAuthorizationRequests; null: false
  std::optional<bool> dpop_bound_access_tokens;  // null: false
  // RFC 8705 §2.1.2: the one tlsClientAuth* member named (kNone with "" when it was null or
  // empty: clears the registered name); nullopt when none was sent.
  std::optional<std::pair<TlsSubjectKind, std::string>> tls_subject;
  std::optional<bool> tls_bound_tokens;
  std::optional<std::string> profile;        // null or "": none
  std::optional<std::string> second_factor;  // null or "": optional
};

// Type checks and unknown members only; value rules are ValidateClient's (client_service.h).
Result<ClientPatch> ClientPatchFromJson(const boost::json::object& body);

boost::json::object ClientToJson(const Client& client);

}  // namespace portcullis::oauth
