#pragma once
// The settings of one upstream OpenID Connect provider ("Sign in with ...", `authenticators.
// <name>` with `type: oidc`, README "Upstream OpenID Connect providers"), and their parser. The
// parser sees the keys as text (lists joined by ','), plus the nested `roles` map, and names the
// first bad key. It does no I/O (discovery happens when the provider is first used, or at
// `portcullis auth test`).
//
// Pure; thread-safe.

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.h"
#include "oauth/login/authenticator_settings.h"

namespace portcullis::oauth::upstream {

// How an upstream identity that has no link yet finds its local account.
enum class LinkRule {
  kNone,   // never linked to an existing account: a new one is created (create_users)
  kEmail,  // the local account whose e-mail equals the `email` claim, only if email_verified
  kClaim,  // the local account whose `link_attribute` (user_id) equals the `link_claim` claim
};

struct UpstreamSettings {
  std::string name;       // authenticators.<name>
  std::string issuer;     // exactly as the provider's ID tokens and discovery name it
  std::string client_id;  // ours, at the provider
  Secret client_secret;   // sent with client_secret_basic
  std::vector<std::string> scopes = {"openid", "email", "profile"};  // always with openid
  std::string display_name;  // "Sign in with <display_name>"; default: the name
  // Our redirect URI at the provider; empty: <server.issuer>/oauth2/upstream/callback.
  std::string redirect_uri;
  bool allow_http_loopback = false;  // http:// issuer and endpoints on loopback (tests)
  std::string ca_file;               // PEM bundle for the provider's TLS; empty: system
  int64_t timeout_ms = 5000;         // each HTTP call (discovery, JWKS, token)
  int64_t clock_skew_s = 60;         // exp / iat / nbf leeway
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
  // Accounts.
  bool create_users = true;  // just-in-time accounts for identities without a link
  LinkRule link = LinkRule::kNone;
  // kClaim only: the claim (`link_claim`) whose string value names the account, and the
  // account attribute it is compared with (`link_attribute`; only "user_id" so far).
  std::string link_claim;
  std::string link_attribute;
  std::string user_id_prefix;  // default "<name>."
  std::string user_type = "customer";
  // Roles of the accounts this provider created: the values of `roles_claim` (a string or an
  // array of strings) mapped by `roles` (claim value -> space-separated roles); unmapped values
  // give nothing. `default_roles` are always given. Never admin unless the table says so.
  std::string roles_claim;
  std::map<std::string, std::string> roles;
  std::string default_roles;
};

using oauth::SettingError;

// Every scalar key the oidc type knows (`roles` is the one nested map).
const std::vector<std::string_view>& UpstreamSettingKeys();

std::expected<UpstreamSettings, SettingError> ParseUpstreamSettings(
    std::string_view name, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::map<std::string, std::string>>& tables);

// True for https://..., or http:// to localhost, 127.0.0.0/8 or [::1] when `allow_http_loopback`.
bool UrlAllowed(std::string_view url, bool allow_http_loopback);

}  // namespace portcullis::oauth::upstream
