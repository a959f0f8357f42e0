#include "app/authenticators.h"

#include <boost/json.hpp>

#include <algorithm>

#include "common/clock.h"
#include "oauth/code/chain_authenticator.h"
#include "oauth/ldap/ldap_authenticator.h"
#include "oauth/upstream/upstream_login.h"

namespace portcullis::app {

namespace {

// The built-in user store where this process has none (a CLI command without a store).
class NoUserStore final : public oauth::LoginAuthenticator {
 public:
  Result<oauth::AuthenticatedUser> Login(std::string_view, std::string_view,
                                         std::string_view) override {
    return Fail(Error::Unavailable("the built-in user store is not open in this command"));
  }
  Result<oauth::AuthenticatedUser> Find(std::string_view) override {
    return Fail(Error::Unavailable("the built-in user store is not open in this command"));
  }
};

Result<BuiltAuthenticator> BuildChain(const AuthenticatorSpec& spec,
                                      const std::vector<BuiltAuthenticator>& built,
                                      const std::shared_ptr<oauth::LoginAuthenticator>& builtin) {
  BuiltAuthenticator out;
  out.name = spec.name;
  out.type = "chain";
  std::vector<oauth::ChainAuthenticator::Member> members;
  std::vector<std::function<Status()>> checks;
  boost::json::array names;
  for (const auto& m : ChainMembers(spec)) {
    names.emplace_back(m);
    if (m == "default") {
      members.push_back({m, builtin ? builtin : std::make_shared<NoUserStore>()});
      continue;
    }
    auto it = std::find_if(built.begin(), built.end(),
                           [&](const BuiltAuthenticator& b) { return b.name == m; });
    if (it == built.end()) {
      return Fail(
          Error::Internal("config: authenticators." + spec.name + ".members: no '" + m + "'"));
    }
    members.push_back({m, it->login});
    checks.push_back(it->check);
  }
  if (auto a = spec.values.find("aliases"); a != spec.values.end()) {
    std::string_view v = a->second;
    size_t start = 0;
    while (start < v.size()) {
      size_t comma = v.find(',', start);
      std::string item(v.substr(start, comma == v.npos ? v.npos : comma - start));
      std::erase(item, ' ');
      if (!item.empty()) out.aliases.push_back(item);
      if (comma == v.npos) break;
      start = comma + 1;
    }
  }
  auto chain = std::make_shared<oauth::ChainAuthenticator>(std::move(members));
  out.login = chain;
  out.check = [checks] {
    for (const auto& c : checks) {
      if (auto st = c(); !st) return st;
    }
    return Status{};
  };
  out.test_login = [chain](std::string_view user, std::string_view password) {
    return chain->Login(user, password, {});
  };
  boost::json::object d;
  d["name"] = spec.name;
  d["type"] = "chain";
  d["members"] = std::move(names);
  boost::json::array aliases;
  for (const auto& a : out.aliases) aliases.emplace_back(a);
  d["aliases"] = std::move(aliases);
  out.description = std::move(d);
  return out;
}

Result<BuiltAuthenticator> BuildAuthenticator(
    const AuthenticatorSpec& spec, oauth::LoginThrottle& throttle,
    const std::shared_ptr<oauth::LoginAuthenticator>& builtin) {
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
  if (out.type == "oidc") {
    auto settings = oauth::upstream::ParseUpstreamSettings(spec.name, spec.values, spec.tables);
    if (!settings) {
      return Fail(Error::Internal("config: authenticators." + spec.name + "." +
                                  settings.error().key + ": " + settings.error().message));
    }
    const auto& s = *settings;
    boost::json::object d;
    d["name"] = s.name;
    d["type"] = "oidc";
    d["issuer"] = s.issuer;
    d["clientId"] = s.client_id;
    d["displayName"] = s.display_name;
    boost::json::array scopes;
    for (const auto& sc : s.scopes) scopes.emplace_back(sc);
    d["scopes"] = std::move(scopes);
    d["redirectUri"] = s.redirect_uri;
    d["createUsers"] = s.create_users;
    d["linkClaim"] = s.link == oauth::upstream::LinkRule::kEmail   ? "email"
                     : s.link == oauth::upstream::LinkRule::kClaim ? s.link_claim
                                                                   : "none";
    if (s.link == oauth::upstream::LinkRule::kClaim) d["linkAttribute"] = s.link_attribute;
    d["userIdPrefix"] = s.user_id_prefix;
    d["userType"] = s.user_type;
    d["rolesClaim"] = s.roles_claim;
    boost::json::object roles;
    for (const auto& [value, r] : s.roles) roles[value] = r;
    d["roles"] = std::move(roles);
    d["defaultRoles"] = s.default_roles;
    out.description = std::move(d);
    // Discovery and the JWKS use the wall clock: ID tokens are checked against real time.
    auto provider = std::make_shared<oauth::upstream::OidcProvider>(std::move(*settings),
                                                                    SystemClock::Instance());
    out.login = std::make_shared<oauth::upstream::UpstreamLogin>(
        provider, builtin ? builtin : std::make_shared<NoUserStore>());
    out.check = [provider] { return provider->Check(); };
    out.test_login = [](std::string_view, std::string_view) -> Result<oauth::AuthenticatedUser> {
      return Fail(Error::OAuth(400, "invalid_request",
                               "An upstream OpenID provider signs users in through the browser; "
                               "the test checks its discovery and keys only."));
    };
    return out;
  }
  return Fail(Error::Internal("config: authenticators." + spec.name + ".type: unknown type '" +
                              out.type + "'"));
}

}  // namespace

Result<std::vector<BuiltAuthenticator>> BuildAuthenticators(
    const std::vector<AuthenticatorSpec>& specs, oauth::LoginThrottle& throttle,
    std::shared_ptr<oauth::LoginAuthenticator> builtin) {
  auto is_chain = [](const AuthenticatorSpec& spec) {
    auto t = spec.values.find("type");
    return t != spec.values.end() && t->second == "chain";
  };
  std::vector<BuiltAuthenticator> out;
  for (const auto& spec : specs) {
    if (is_chain(spec)) continue;
    auto b = BuildAuthenticator(spec, throttle, builtin);
    if (!b) return Fail(std::move(b.error()));
    out.push_back(std::move(*b));
  }
  for (const auto& spec : specs) {
    if (!is_chain(spec)) continue;
    auto b = BuildChain(spec, out, builtin);
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
