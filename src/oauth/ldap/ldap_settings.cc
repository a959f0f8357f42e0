#include "oauth/ldap/ldap_settings.h"

#include <algorithm>

#include "oauth/ldap/ldap_escape.h"

namespace portcullis::oauth::ldap {
namespace {

using settings::Bad;
using settings::ParseInt;

bool Balanced(std::string_view filter) {
  int depth = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '\\') {
      ++i;
    } else if (filter[i] == '(') {
      ++depth;
    } else if (filter[i] == ')') {
      if (--depth < 0) return false;
    }
  }
  return depth == 0 && filter.starts_with('(') && filter.ends_with(')');
}

}  // namespace

const std::vector<std::string_view>& LdapSettingKeys() {
  static const std::vector<std::string_view> keys = {"type",
                                                     "url",
                                                     "start_tls",
                                                     "allow_plaintext",
                                                     "ca_file",
                                                     "user_dn_template",
                                                     "user_base",
                                                     "user_filter",
                                                     "bind_dn",
                                                     "bind_password",
                                                     "user_attribute",
                                                     "user_type",
                                                     "group_base",
                                                     "group_filter",
                                                     "group_name_attribute",
                                                     "member_of_attribute",
                                                     "connect_timeout_ms",
                                                     "operation_timeout_ms",
                                                     "pool_size",
                                                     "aliases"};
  return keys;
}

bool IsSecretLdapKey(std::string_view key) { return key == "bind_password"; }

const std::vector<std::string>& LightOauth2LdapClassNames() {
  // MarketPlaceAuthenticator was light-oauth2's LDAP bind (for user_type employee); LdapAuth is
  // the marker name its LDAP binding used in service.yml.
  static const std::vector<std::string> names = {
      "com.networknt.oauth.auth.LdapAuth",
      "com.networknt.oauth.auth.LdapAuthenticator",
      "com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.LdapAuth>",
      "com.networknt.oauth.auth.MarketPlaceAuth",
      "com.networknt.oauth.auth.MarketPlaceAuthenticator",
      "com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.MarketPlaceAuth>",
  };
  return names;
}

std::expected<LdapSettings, SettingError> ParseLdapSettings(
    std::string_view name, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::map<std::string, std::string>>& tables) {
  LdapSettings s;
  s.name = std::string(name);
  const auto& known = LdapSettingKeys();
  for (const auto& [key, value] : values) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Bad(key, "unknown key for type ldap");
    }
  }
  for (const auto& [key, table] : tables) {
    if (key != "roles") return Bad(key, "expected a single value");
  }
  auto get = [&](const char* key) -> const std::string* {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  };
  auto str = [&](const char* key, std::string& field) {
    if (const auto* v = get(key)) field = *v;
  };
  str("url", s.url);
  str("ca_file", s.ca_file);
  str("user_dn_template", s.user_dn_template);
  str("user_base", s.user_base);
  str("user_filter", s.user_filter);
  str("bind_dn", s.bind_dn);
  if (const auto* v = get("bind_password")) s.bind_password = Secret(*v);
  str("user_attribute", s.user_attribute);
  str("user_type", s.user_type);
  str("group_base", s.group_base);
  str("group_filter", s.group_filter);
  str("group_name_attribute", s.group_name_attribute);
  str("member_of_attribute", s.member_of_attribute);
  for (const char* key : {"start_tls", "allow_plaintext"}) {
    if (const auto* v = get(key)) {
      auto b = settings::ParseBool(*v, /*empty_is_false=*/true);
      if (!b) return Bad(key, b.error());
      (std::string_view(key) == "start_tls" ? s.start_tls : s.allow_plaintext) = *b;
    }
  }
  struct IntKey {
    const char* key;
    int64_t min, max;
    int64_t* field;
  };
  int64_t pool = s.pool_size;
  for (const IntKey& k : {IntKey{"connect_timeout_ms", 100, 600000, &s.connect_timeout_ms},
                          IntKey{"operation_timeout_ms", 100, 600000, &s.operation_timeout_ms},
                          IntKey{"pool_size", 1, 256, &pool}}) {
    if (const auto* v = get(k.key)) {
      auto n = ParseInt(*v, k.min, k.max);
      if (!n) return Bad(k.key, n.error());
      *k.field = *n;
    }
  }
  s.pool_size = static_cast<int>(pool);
  if (const auto* v = get("aliases")) {
    s.aliases = settings::SplitList(*v, ",");
  } else {
    s.aliases = LightOauth2LdapClassNames();
  }

  // The server.
  if (s.url.empty()) return Bad("url", "required (ldap://HOST:PORT or ldaps://HOST:PORT)");
  bool any_plain = false, any_ldaps = false;
  {
    size_t start = 0;
    std::string_view all(s.url);
    while (start < all.size()) {
      size_t sp = all.find(' ', start);
      std::string_view u = all.substr(start, sp == all.npos ? all.npos : sp - start);
      if (!u.empty()) {
        if (u.starts_with("ldaps://")) {
          any_ldaps = true;
        } else if (u.starts_with("ldap://")) {
          any_plain = true;
        } else {
          return Bad("url", "expected ldap://HOST:PORT or ldaps://HOST:PORT");
        }
      }
      if (sp == all.npos) break;
      start = sp + 1;
    }
  }
  if (any_ldaps && s.start_tls) {
    return Bad("start_tls", "not with ldaps:// (already TLS); use ldap:// for StartTLS");
  }
  if (any_ldaps && any_plain && !s.allow_plaintext) {
    return Bad("url", "mixes ldap:// and ldaps://");
  }
  if (any_plain && !s.start_tls && !s.allow_plaintext) {
    return Bad("url",
               "ldap:// without TLS sends passwords in clear: use ldaps://, or start_tls: true, or "
               "(tests only) allow_plaintext: true");
  }

  // Finding the user.
  if (s.user_dn_template.empty() == s.user_base.empty()) {
    return Bad("user_dn_template", "set exactly one of user_dn_template and user_base");
  }
  if (!s.user_dn_template.empty() && s.user_dn_template.find("{user}") == std::string::npos) {
    return Bad("user_dn_template", "must contain {user}");
  }
  if (!s.user_base.empty()) {
    if (s.user_filter.find("{user}") == std::string::npos) {
      return Bad("user_filter", "must contain {user}");
    }
    if (!Balanced(s.user_filter)) return Bad("user_filter", "not a parenthesised LDAP filter");
  }
  if (s.bind_dn.empty() != s.bind_password.empty()) {
    return Bad(s.bind_dn.empty() ? "bind_dn" : "bind_password",
               "bind_dn and bind_password must be set together");
  }
  if (s.user_attribute.empty()) return Bad("user_attribute", "must not be empty");
  if (!s.group_base.empty() && !Balanced(s.group_filter)) {
    return Bad("group_filter", "not a parenthesised LDAP filter");
  }

  if (auto it = tables.find("roles"); it != tables.end()) {
    for (const auto& [group, roles] : it->second) {
      if (group.empty()) return Bad("roles", "a group name must not be empty");
      std::string key = group.find('=') != std::string::npos ? NormalizeDn(group) : group;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (roles.find_first_not_of(' ') == std::string::npos) {
        return Bad("roles", "group '" + group + "' maps to no role");
      }
      s.roles[key] = roles;
    }
  }
  if (!s.roles.empty() && s.group_base.empty() && s.member_of_attribute.empty()) {
    return Bad("roles", "needs group_base or member_of_attribute (where groups are read from)");
  }
  return s;
}

}  // namespace portcullis::oauth::ldap
