#pragma once
// The settings of one LDAP / Active Directory authenticator (`authenticators.<name>` with
// `type: ldap` in the YAML configuration, README "Enterprise sign-in: LDAP"), and their parser.
// The parser sees the authenticator's keys as text (lists joined by ','), plus its nested maps
// (`roles`), and names the first bad key. It does no I/O (the CA file is checked when the
// authenticator is built).
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

namespace portcullis::oauth::ldap {

struct LdapSettings {
  std::string name;  // the authenticator's name (authenticators.<name>)
  // ldap://host:port or ldaps://host:port; several, separated by spaces, are tried in order.
  std::string url;
  bool start_tls = false;        // ldap:// upgraded by StartTLS (RFC 4511 §4.14)
  bool allow_plaintext = false;  // ldap:// without TLS: passwords in clear, only if asked for
  std::string ca_file;           // PEM CA(s) the server certificate must chain to; empty: system
  // Bind as the user at this DN ("uid={user},ou=people,dc=example,dc=org") ...
  std::string user_dn_template;
  // ... or find the user first: a subtree search of user_base with user_filter ({user}),
  // as bind_dn (a service account) or anonymously.
  std::string user_base;
  std::string user_filter = "(uid={user})";
  std::string bind_dn;
  Secret bind_password;
  // The attribute whose value is the user id in tokens (the name as stored, not as typed).
  std::string user_attribute = "uid";
  std::string user_type = "employee";
  // Groups: a subtree search of group_base with group_filter ({dn}, {user}); each group is
  // known by its DN and by the value of group_name_attribute. And/or the user entry's
  // member_of_attribute (Active Directory: memberOf), whose values are group DNs.
  std::string group_base;
  std::string group_filter = "(|(member={dn})(uniqueMember={dn}))";
  std::string group_name_attribute = "cn";
  std::string member_of_attribute;
  // Group (normalized DN, or lower-case name) -> roles (space-separated). Unmapped groups give
  // no role.
  std::map<std::string, std::string> roles;
  int64_t connect_timeout_ms = 3000;    // TCP connect and TLS handshake
  int64_t operation_timeout_ms = 5000;  // each bind or search
  int pool_size = 4;                    // connections kept open (and the most open at once)
  // Other names a client's authenticateClass may use for this authenticator (light-oauth2
  // class names: the importer maps those to `name`).
  std::vector<std::string> aliases;
};

using oauth::SettingError;

// Every key the ldap type knows (scalar keys; `roles` is the one nested map).
const std::vector<std::string_view>& LdapSettingKeys();
// Keys whose values are secrets (never echoed).
bool IsSecretLdapKey(std::string_view key);

// light-oauth2's class names for its LDAP-backed authenticator (reference §5.3): the aliases
// an ldap authenticator gets when `aliases` is not set.
const std::vector<std::string>& LightOauth2LdapClassNames();

std::expected<LdapSettings, SettingError> ParseLdapSettings(
    std::string_view name, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::map<std::string, std::string>>& tables);

}  // namespace portcullis::oauth::ldap
