#pragma once
// The client model: light-oauth2's Client (reference §3.3) plus what a modern provider needs
// (redirect-URI list, allowed grants, token profile, auth method, per-client token lifetime).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace portcullis::oauth {

// The client's enumerated fields, parsed once when a client is read (JSON, store) so the token
// hot path compares integers. Each has one spelling (its Name), used in JSON and in the store.
enum class ClientType { kPublic, kConfidential, kTrusted, kExternal };
enum class TokenProfile { kRfc9068, kLight4j };
enum class AuthMethod { kClientSecretBasic, kClientSecretPost, kPrivateKeyJwt, kNone };

std::string_view ClientTypeName(ClientType t);
std::string_view TokenProfileName(TokenProfile p);
std::string_view AuthMethodName(AuthMethod m);
// nullopt for any other spelling (matching is exact, case-sensitive).
std::optional<ClientType> ParseClientType(std::string_view text);
std::optional<TokenProfile> ParseTokenProfile(std::string_view text);
std::optional<AuthMethod> ParseAuthMethod(std::string_view text);

struct Client {
  std::string client_id;
  ClientType client_type = ClientType::kConfidential;
  std::string client_profile;  // webserver | browser | mobile | service | batch
  std::string client_name;
  std::string client_desc;
  std::string secret_hash;         // empty: public client without a secret
  std::vector<std::string> scope;  // allowed scopes, in order, no duplicates
  std::string custom_claim;        // JSON object text, or empty (as given)
  // custom_claim parsed, reserved claim names (IsReservedClaim) dropped; empty when the text is
  // empty or not an object. Filled where a snapshot is built (ClientCatalog, via
  // ParseCustomClaims), so tokens do not parse it again; other copies may leave it empty.
  boost::json::object custom_claims;
  std::vector<std::string> redirect_uris;  // matched exactly
  std::vector<std::string> grant_types;    // allowed grant_type values
  TokenProfile token_profile = TokenProfile::kRfc9068;
  std::optional<int64_t> access_token_ttl;  // seconds; empty: the configured default
  AuthMethod auth_method = AuthMethod::kClientSecretBasic;
  // Whether the registration named auth_method (RFC 7591 token_endpoint_auth_method). A client
  // that did is held to it; one that did not accepts Basic and post, as light-oauth2 clients do.
  bool auth_method_explicit = false;
  std::string jwks;      // JSON (private_key_jwt)
  std::string jwks_uri;  // (private_key_jwt)
  std::string authenticate_class;
  std::string deref_client_id;  // external clients: the one client allowed to deref
  std::string owner_id;
  std::string host;
  // OpenID Connect client metadata: where RP-initiated logout may return (matched exactly,
  // RP-Initiated Logout §3.1), the back-channel logout receiver (Back-Channel Logout §2.2), and
  // the ID token's JWS algorithm (Registration §2; empty: RS256).
  std::vector<std::string> post_logout_redirect_uris;
  std::string backchannel_logout_uri;
  std::string id_token_signed_response_alg;
  // RFC 9449 §5.2 dpop_bound_access_tokens: every token request must carry a DPoP proof.
  bool dpop_bound_access_tokens = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool IsPublic() const { return client_type == ClientType::kPublic; }
  bool IsTrusted() const { return client_type == ClientType::kTrusted; }
  bool IsExternal() const { return client_type == ClientType::kExternal; }
  bool AllowsGrant(std::string_view grant) const;
  // Whether a token request authenticated with `presented` (client_secret_basic or
  // client_secret_post) uses a method this client accepts.
  bool AcceptsSecretMethod(std::string_view presented) const;
  bool HasScope(std::string_view s) const;
};

// Grants that rest on the client proving who it is (RFC 6749 §4.3, §4.4, RFC 8693, light-oauth2's
// custom grants): a public client cannot prove it, so it never gets them (RFC 6749 §2.1).
bool NeedsClientAuthentication(std::string_view grant);
// The auth method a client gets when its registration names none: `none` for public clients
// (PKCE instead of a secret, RFC 7636, RFC 9700 §2.1.1), else client_secret_basic.
AuthMethod DefaultAuthMethod(ClientType client_type);
// Whether the method authenticates with a client secret (client_secret_basic/post).
bool UsesSecret(AuthMethod auth_method);

// custom_claim text parsed for a snapshot (see Client::custom_claims).
boost::json::object ParseCustomClaims(std::string_view text);

// Scope strings are space-separated (RFC 6749 §3.3). Splitting drops empty items and duplicates.
std::vector<std::string> SplitScope(std::string_view text);
std::string JoinScope(const std::vector<std::string>& scopes);

}  // namespace portcullis::oauth
