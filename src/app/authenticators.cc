#include "app/authenticators.h"

#include <boost/json.hpp>

#include "oauth/ldap/ldap_authenticator.h"

namespace portcullis::app {

Result<BuiltAuthenticator> BuildAuthenticator(const AuthenticatorSpec& spec,
                                              oauth::LoginThrottle& throttle) {
  BuiltAuthenticator out;
  out.name = spec.name;
  auto type = spec.values.find("type");
  out.type = type == spec.values.end() ? "" : type->second;
  if (out.type == "ldap") {
    auto settings = oauth::ldap::ParseLdapSettings(spec.name, spec.values, spec.tables);
    if (!settings) {
      return Fail(Error::Internal("config: authenticators." + spec.name + "." +
                                  settings.error().key + ": " + settings.error().message));
    }
    auto& s = *settings;
    boost::json::object d;
    d["name"] = s.name;
    d["type"] = "ldap";
    d["url"] = s.url;
    d["tls"] = s.url.starts_with("ldaps://") ? "ldaps" : s.start_tls ? "starttls" : "none";
    d["caFile"] = s.ca_file;
    d["mode"] = s.user_base.empty() ? "bind as user (DN template)" : "search then bind";
    d["serviceAccount"] = s.bind_dn;
    d["groupBase"] = s.group_base;
    d["memberOfAttribute"] = s.member_of_attribute;
    boost::json::object roles;
    for (const auto& [group, r] : s.roles) roles[group] = r;
    d["roles"] = std::move(roles);
    d["connectTimeoutMs"] = s.connect_timeout_ms;
    d["operationTimeoutMs"] = s.operation_timeout_ms;
    d["poolSize"] = s.pool_size;
    boost::json::array aliases;
    for (const auto& a : s.aliases) aliases.emplace_back(a);
    d["aliases"] = std::move(aliases);
    out.aliases = s.aliases;
    out.description = std::move(d);
    auto ldap = oauth::ldap::LdapAuthenticator::Create(std::move(s), throttle);
    if (!ldap) return Fail(std::move(ldap.error()));
    auto a = *ldap;
    out.login = a;
    out.check = [a] { return a->Check(); };
    out.test_login = [a](std::string_view user, std::string_view password) {
      return a->TestLogin(user, password);
    };
    return out;
  }
  return Fail(Error::Internal("config: authenticators." + spec.name + ".type: unknown type '" +
                              out.type + "'"));
}

Result<std::vector<BuiltAuthenticator>> BuildAuthenticators(
    const std::vector<AuthenticatorSpec>& specs, oauth::LoginThrottle& throttle) {
  std::vector<BuiltAuthenticator> out;
  for (const auto& spec : specs) {
    auto b = BuildAuthenticator(spec, throttle);
    if (!b) return Fail(std::move(b.error()));
    out.push_back(std::move(*b));
  }
  return out;
}

std::map<std::string, std::string> LegacyClassMap(const std::vector<AuthenticatorSpec>& specs) {
  std::map<std::string, std::string> out;
  for (const auto& spec : specs) {
    auto type = spec.values.find("type");
    if (type == spec.values.end() || type->second != "ldap") continue;
    auto s = oauth::ldap::ParseLdapSettings(spec.name, spec.values, spec.tables);
    if (!s) continue;
    // The first authenticator that claims a class name keeps it.
    for (const auto& alias : s->aliases) {
      if (alias.starts_with("com.networknt.")) out.emplace(alias, spec.name);
    }
  }
  return out;
}

}  // namespace portcullis::app
