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
enum class AuthMethod {
  kClientSecretBasic,
  kClientSecretPost,
  kPrivateKeyJwt,
  kNone,
  kTlsClientAuth,            // RFC 8705 §2.1: a CA-issued certificate with a registered name
  kSelfSignedTlsClientAuth,  // RFC 8705 §2.2: a certificate whose key is in the client's jwks
};
// The certificate name a tls_client_auth client registers, exactly one (RFC 8705 §2.1.2).
enum class TlsSubjectKind { kNone, kSubjectDn, kSanDns, kSanUri, kSanIp, kSanEmail };
// A security profile the client is held to (JSON `profile`): none, or the FAPI 2.0 Security
// Profile (README "FAPI 2.0 profile"), whose rules are checked at registration and per request.
enum class SecurityProfile { kNone, kFapi2 };

std::string_view ClientTypeName(ClientType t);
std::string_view TokenProfileName(TokenProfile p);
std::string_view AuthMethodName(AuthMethod m);
// nullopt for any other spelling (matching is exact, case-sensitive).
std::optional<ClientType> ParseClientType(std::string_view text);
std::optional<TokenProfile> ParseTokenProfile(std::string_view text);
std::optional<AuthMethod> ParseAuthMethod(std::string_view text);
// subject_dn, san_dns, san_uri, san_ip, san_email (stored spelling); "" for kNone.
std::string_view TlsSubjectKindName(TlsSubjectKind k);
std::optional<TlsSubjectKind> ParseTlsSubjectKind(std::string_view text);
// "" for kNone, "fapi2".
std::string_view SecurityProfileName(SecurityProfile p);
std::optional<SecurityProfile> ParseSecurityProfile(std::string_view text);

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
  // RFC 9126 §6 (requirePushedAuthorizationRequests): authorization requests only by PAR.
  bool require_par = false;
  // RFC 9449 §5.2 dpop_bound_access_tokens: every token request must carry a DPoP proof.
  bool dpop_bound_access_tokens = false;
  // Mutual TLS (RFC 8705): the certificate name a tls_client_auth client registered, and
  // tls_client_certificate_bound_access_tokens (§3.4: a certificate is then mandatory).
  TlsSubjectKind tls_subject_kind = TlsSubjectKind::kNone;
  std::string tls_subject;
  bool tls_bound_tokens = false;
  SecurityProfile security_profile = SecurityProfile::kNone;
  // JSON secondFactor "required": every user needs a second factor here (TOTP; users without
  // one enrol during sign-in), as for a client in code.second_factor_clients. "optional" (the
  // default): only users who have one (README "Second factor (TOTP)").
  bool second_factor_required = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool IsPublic() const { return client_type == ClientType::kPublic; }
  bool IsTrusted() const { return client_type == ClientType::kTrusted; }
  bool IsExternal() const { return client_type == ClientType::kExternal; }
  bool IsFapi2() const { return security_profile == SecurityProfile::kFapi2; }
  // RFC 9126 §6: registered with requirePushedAuthorizationRequests, or FAPI 2.0 §5.3.2.1.
  bool RequiresPar() const { return require_par || IsFapi2(); }
  bool AllowsGrant(std::string_view grant) const;
  // Whether a token request authenticated with `presented` (client_secret_basic or
  // client_secret_post) uses a method this client accepts.
  bool AcceptsSecretMethod(std::string_view presented) const;
  bool HasScope(std::string_view s) const;
};

// The auth method a client gets when its registration names none: `none` for public clients
// (PKCE instead of a secret, RFC 7636, RFC 9700 §2.1.1), else client_secret_basic.
AuthMethod DefaultAuthMethod(ClientType client_type);
// Whether the method authenticates with a client secret (client_secret_basic/post).
bool UsesSecret(AuthMethod auth_method);
// Whether the method authenticates with a client certificate (RFC 8705 §2).
bool UsesCertificate(AuthMethod auth_method);
// FAPI 2.0 §5.3.2.1: the client authentication methods a fapi2 client may use (private_key_jwt,
// tls_client_auth, self_signed_tls_client_auth).
bool Fapi2AllowsAuthMethod(AuthMethod auth_method);

// custom_claim text parsed for a snapshot (see Client::custom_claims).
boost::json::object ParseCustomClaims(std::string_view text);

// Scope strings are space-separated (RFC 6749 §3.3). Splitting drops empty items and duplicates.
std::vector<std::string> SplitScope(std::string_view text);
std::string JoinScope(const std::vector<std::string>& scopes);

}  // namespace portcullis::oauth
