#pragma once
// The client model: light-oauth2's Client (reference §3.3) plus what a modern provider needs
// (redirect-URI list, allowed grants, token profile, auth method, per-client token lifetime).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth {

struct Client {
  std::string client_id;
  std::string client_type;     // public | confidential | trusted | external
  std::string client_profile;  // webserver | browser | mobile | service | batch
  std::string client_name;
  std::string client_desc;
  std::string secret_hash;                          // empty: public client without a secret
  std::vector<std::string> scope;                   // allowed scopes, in order, no duplicates
  std::string custom_claim;                         // JSON object text, or empty
  std::vector<std::string> redirect_uris;           // matched exactly
  std::vector<std::string> grant_types;             // allowed grant_type values
  std::string token_profile = "rfc9068";            // rfc9068 | light-4j
  std::optional<int64_t> access_token_ttl;          // seconds; empty: the configured default
  std::string auth_method = "client_secret_basic";  // client_secret_basic | client_secret_post |
                                                    // private_key_jwt | none
  std::string jwks;                                 // JSON (private_key_jwt)
  std::string jwks_uri;                             // (private_key_jwt)
  std::string authenticate_class;
  std::string deref_client_id;  // external clients: the one client allowed to deref
  std::string owner_id;
  std::string host;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool IsPublic() const { return client_type == "public"; }
  bool IsTrusted() const { return client_type == "trusted"; }
  bool IsExternal() const { return client_type == "external"; }
  bool AllowsGrant(std::string_view grant) const;
  bool HasScope(std::string_view s) const;
};

// Scope strings are space-separated (RFC 6749 §3.3). Splitting drops empty items and duplicates.
std::vector<std::string> SplitScope(std::string_view text);
std::string JoinScope(const std::vector<std::string>& scopes);

}  // namespace portcullis::oauth
