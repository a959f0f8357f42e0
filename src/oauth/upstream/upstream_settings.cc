#include "oauth/upstream/upstream_settings.h"

#include <algorithm>

#include "oauth/token/client_jwks.h"

namespace portcullis::oauth::upstream {
namespace {

using settings::Bad;
using settings::ParseInt;

}  // namespace

const std::vector<std::string_view>& UpstreamSettingKeys() {
  static const std::vector<std::string_view> keys = {
      "type",           "issuer",       "client_id",           "client_secret", "scopes",
      "display_name",   "redirect_uri", "allow_http_loopback", "ca_file",       "timeout_ms",
      "clock_skew_s",   "algorithms",   "create_users",        "link_claim",    "link_attribute",
      "user_id_prefix", "user_type",    "roles_claim",         "default_roles"};
  return keys;
}

bool UrlAllowed(std::string_view url, bool allow_http_loopback) {
  return JwksUriAllowed(url, allow_http_loopback);
}

std::expected<UpstreamSettings, SettingError> ParseUpstreamSettings(
    std::string_view name, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::map<std::string, std::string>>& tables) {
  UpstreamSettings s;
  s.name = std::string(name);
  for (const auto& [key, value] : values) {
    const auto& known = UpstreamSettingKeys();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Bad(key, "unknown key for type oidc");
    }
  }
  for (const auto& [key, table] : tables) {
    if (key != "roles") return Bad(key, "unknown key for type oidc");
  }
  auto get = [&](const char* key) -> const std::string* {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  };
  if (auto v = get("allow_http_loopback")) {
    auto b = settings::ParseBool(*v, /*empty_is_false=*/false);
    if (!b) return Bad("allow_http_loopback", b.error());
    s.allow_http_loopback = *b;
  }
  auto v = get("issuer");
  if (v == nullptr || v->empty()) return Bad("issuer", "required (https://...)");
  s.issuer = *v;
  if (!UrlAllowed(s.issuer, s.allow_http_loopback) || s.issuer.find('?') != std::string::npos ||
      s.issuer.find('#') != std::string::npos) {
    return Bad("issuer",
               "must be an https URL without query or fragment (http only to loopback with "
               "allow_http_loopback: true)");
  }
  v = get("client_id");
  if (v == nullptr || v->empty()) return Bad("client_id", "required");
  s.client_id = *v;
  v = get("client_secret");
  if (v == nullptr || v->empty()) return Bad("client_secret", "required");
  s.client_secret = Secret(*v);
  if (auto sc = get("scopes")) {
    s.scopes = settings::SplitList(*sc, ", \t");
    if (std::find(s.scopes.begin(), s.scopes.end(), "openid") == s.scopes.end()) {
      s.scopes.insert(s.scopes.begin(), "openid");
    }
  }
  s.display_name = s.name;
  if (auto d = get("display_name"); d && !d->empty()) {
    if (d->size() > 64) return Bad("display_name", "at most 64 characters");
    s.display_name = *d;
  }
  if (auto r = get("redirect_uri"); r && !r->empty()) {
    if (!UrlAllowed(*r, true) || r->find('#') != std::string::npos) {
      return Bad("redirect_uri", "must be an absolute http(s) URL without fragment");
    }
    s.redirect_uri = *r;
  }
  if (auto c = get("ca_file")) s.ca_file = *c;
  if (auto t = get("timeout_ms")) {
    auto n = ParseInt(*t, 100, 60000);
    if (!n) return Bad("timeout_ms", n.error());
    s.timeout_ms = *n;
  }
  if (auto t = get("clock_skew_s")) {
    auto n = ParseInt(*t, 0, 300);
    if (!n) return Bad("clock_skew_s", n.error());
    s.clock_skew_s = *n;
  }
  if (auto a = get("algorithms")) {
    s.algorithms = settings::SplitList(*a, ", \t");
    static const std::vector<std::string> allowed = {"RS256", "PS256", "ES256", "EdDSA"};
    if (s.algorithms.empty()) return Bad("algorithms", "at least one");
    for (const auto& alg : s.algorithms) {
      if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end()) {
        return Bad("algorithms", "'" + alg + "' is not an asymmetric JWS algorithm");
      }
    }
  }
  if (auto c = get("create_users")) {
    auto b = settings::ParseBool(*c, /*empty_is_false=*/false);
    if (!b) return Bad("create_users", b.error());
    s.create_users = *b;
  }
  const std::string* attribute = get("link_attribute");
  if (auto l = get("link_claim")) {
    if (*l == "email") {
      s.link = LinkRule::kEmail;
    } else if (*l == "none" || l->empty()) {
      s.link = LinkRule::kNone;
    } else {
      // Any other claim links only with an explicit attribute: a typo of `email` must not
      // quietly become linking by user id.
      if (attribute == nullptr) {
        return Bad("link_claim", "expected none, email, or a claim name with link_attribute");
      }
      if (l->size() > 64) return Bad("link_claim", "at most 64 characters");
      s.link = LinkRule::kClaim;
      s.link_claim = *l;
    }
  }
  if (attribute != nullptr) {
    if (*attribute != "user_id") return Bad("link_attribute", "expected user_id");
    if (s.link != LinkRule::kClaim) {
      return Bad("link_attribute", "needs link_claim naming a claim other than email or none");
    }
    s.link_attribute = *attribute;
  }
  s.user_id_prefix = s.name + ".";
  if (auto p = get("user_id_prefix")) {
    if (p->size() > 32) return Bad("user_id_prefix", "at most 32 characters");
    for (char c : *p) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '~' ||
                c == '@' || c == '+' || c == '-';
      if (!ok) return Bad("user_id_prefix", "may contain only letters, digits and . _ ~ @ + -");
    }
    s.user_id_prefix = *p;
  }
  if (auto t = get("user_type")) {
    if (*t != "employee" && *t != "customer" && *t != "partner") {
      return Bad("user_type", "expected employee, customer or partner (never admin)");
    }
    s.user_type = *t;
  }
  if (auto r = get("roles_claim")) s.roles_claim = *r;
  if (auto r = get("default_roles")) {
    for (const auto& role : settings::SplitList(*r, ", \t"))
      s.default_roles += (s.default_roles.empty() ? "" : " ") + role;
  }
  if (auto t = tables.find("roles"); t != tables.end()) {
    if (s.roles_claim.empty()) return Bad("roles", "needs roles_claim");
    s.roles = t->second;
  }
  return s;
}

}  // namespace portcullis::oauth::upstream
