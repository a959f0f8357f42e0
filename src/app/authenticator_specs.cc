#include "app/authenticator_specs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "oauth/ldap/ldap_settings.h"
#include "oauth/upstream/upstream_settings.h"

namespace portcullis::app {
namespace {

Error ConfigFailure(std::string line) {
  Error e = Error::Internal(line);
  e.description = std::move(line);
  return e;
}

std::string Where(const AuthenticatorSpec& s, const std::string& key) {
  auto it = s.sources.find(key);
  return it == s.sources.end() ? std::string() : " (" + it->second + ")";
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::vector<std::string> ChainMembers(const AuthenticatorSpec& spec) {
  std::vector<std::string> out;
  auto it = spec.values.find("members");
  if (it == spec.values.end()) return out;
  std::string_view v = it->second;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string_view item = v.substr(start, comma == v.npos ? v.npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == v.npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {

// type: chain: members (a list of other authenticators' names, or default), aliases.
Status ValidateChain(const AuthenticatorSpec& s, const std::vector<AuthenticatorSpec>& specs) {
  const std::string where = "config: authenticators." + s.name;
  for (const auto& [key, value] : s.values) {
    if (key != "type" && key != "members" && key != "aliases") {
      return Fail(
          ConfigFailure(where + "." + key + Where(s, key) + ": unknown key for type chain"));
    }
  }
  if (!s.tables.empty()) {
    return Fail(
        ConfigFailure(where + "." + s.tables.begin()->first + ": unknown key for type chain"));
  }
  auto members = ChainMembers(s);
  if (members.empty()) {
    return Fail(ConfigFailure(where + ".members" + Where(s, "members") +
                              ": required (a list of authenticator names, or default)"));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    if (std::find(members.begin(), members.begin() + static_cast<long>(i), m) !=
        members.begin() + static_cast<long>(i)) {
      return Fail(ConfigFailure(where + ".members" + Where(s, "members") + ": '" + m +
                                "' is listed twice"));
    }
    if (m == "default") continue;
    auto other = std::find_if(specs.begin(), specs.end(),
                              [&](const AuthenticatorSpec& o) { return o.name == m; });
    if (other == specs.end()) {
      return Fail(ConfigFailure(where + ".members" + Where(s, "members") + ": no authenticator '" +
                                m + "'"));
    }
    auto t = other->values.find("type");
    if (t != other->values.end() && t->second == "chain") {
      return Fail(ConfigFailure(where + ".members" + Where(s, "members") + ": '" + m +
                                "' is a chain; chains do not nest"));
    }
  }
  return {};
}

}  // namespace

Status ReadAuthenticators(const YAML::Node& section, const std::string& file,
                          std::vector<AuthenticatorSpec>& out) {
  if (!section.IsMap()) {
    return Fail(ConfigFailure("config: " + file + ": section 'authenticators' must be a map"));
  }
  for (const auto& item : section) {
    AuthenticatorSpec spec;
    spec.name = item.first.as<std::string>();
    const std::string where = "config: authenticators." + spec.name;
    if (!ValidName(spec.name)) {
      return Fail(ConfigFailure(where + " (" + file +
                                "): a name is 1-64 letters, digits, '-', '_' or '.'"));
    }
    if (spec.name == "default") {
      return Fail(
          ConfigFailure(where + " (" + file + "): 'default' is the built-in user store's name"));
    }
    if (!item.second.IsMap()) {
      return Fail(ConfigFailure(where + " (" + file + "): expected a map of settings"));
    }
    for (const auto& kv : item.second) {
      std::string key = kv.first.as<std::string>();
      const std::string at = where + "." + key + " (" + file + ")";
      if (kv.second.IsMap()) {
        auto& table = spec.tables[key];
        for (const auto& row : kv.second) {
          if (!row.second.IsScalar() && !row.second.IsSequence()) {
            return Fail(ConfigFailure(at + ": expected NAME: VALUE entries"));
          }
          std::string value;
          if (row.second.IsSequence()) {
            for (const auto& v : row.second)
              value += (value.empty() ? "" : " ") + v.as<std::string>();
          } else {
            value = row.second.as<std::string>();
          }
          table[row.first.as<std::string>()] = value;
        }
      } else if (kv.second.IsSequence()) {
        std::string value;
        for (const auto& v : kv.second) {
          if (!v.IsScalar()) return Fail(ConfigFailure(at + ": expected a list of single values"));
          value += (value.empty() ? "" : ",") + v.as<std::string>();
        }
        spec.values[key] = value;
      } else {
        spec.values[key] = kv.second.IsNull() ? "" : kv.second.as<std::string>();
      }
      spec.sources[key] = file;
    }
    if (std::any_of(out.begin(), out.end(), [&](const AuthenticatorSpec& o) {
          return AuthenticatorEnvPrefix(o.name) == AuthenticatorEnvPrefix(spec.name);
        })) {
      return Fail(ConfigFailure(where + " (" + file +
                                "): another authenticator has the same environment name " +
                                AuthenticatorEnvPrefix(spec.name)));
    }
    out.push_back(std::move(spec));
  }
  return {};
}

std::string AuthenticatorEnvPrefix(const std::string& name) {
  std::string out = "PORTCULLIS_AUTHENTICATORS_";
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_');
  }
  return out + "_";
}

Result<std::vector<std::string>> ApplyAuthenticatorEnv(
    const std::map<std::string, std::string>& env, std::vector<AuthenticatorSpec>& specs) {
  std::vector<std::string> used;
  for (const auto& [name, value] : env) {
    if (!name.starts_with("PORTCULLIS_AUTHENTICATORS_")) continue;
    // The longest declared name that prefixes the variable: "ldap" and "ldap-corp" both exist.
    AuthenticatorSpec* best = nullptr;
    size_t best_len = 0;
    for (auto& s : specs) {
      std::string prefix = AuthenticatorEnvPrefix(s.name);
      if (name.starts_with(prefix) && name.size() > prefix.size() && prefix.size() > best_len) {
        best = &s;
        best_len = prefix.size();
      }
    }
    if (best == nullptr) continue;  // reported as an unknown variable
    std::string key = name.substr(best_len);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    best->values[key] = value;
    best->sources[key] = "env " + name;
    used.push_back(name);
  }
  return used;
}

Status ValidateAuthenticators(const std::vector<AuthenticatorSpec>& specs) {
  for (const auto& s : specs) {
    const std::string where = "config: authenticators." + s.name;
    auto type = s.values.find("type");
    if (type == s.values.end() || type->second.empty()) {
      return Fail(ConfigFailure(where + ".type: required (ldap, oidc or chain)"));
    }
    if (type->second == "ldap") {
      auto parsed = oauth::ldap::ParseLdapSettings(s.name, s.values, s.tables);
      if (!parsed) {
        return Fail(ConfigFailure(where + "." + parsed.error().key + Where(s, parsed.error().key) +
                                  ": " + parsed.error().message));
      }
      continue;
    }
    if (type->second == "oidc") {
      auto parsed = oauth::upstream::ParseUpstreamSettings(s.name, s.values, s.tables);
      if (!parsed) {
        return Fail(ConfigFailure(where + "." + parsed.error().key + Where(s, parsed.error().key) +
                                  ": " + parsed.error().message));
      }
      continue;
    }
    if (type->second == "chain") {
      if (auto st = ValidateChain(s, specs); !st) return st;
      continue;
    }
    return Fail(ConfigFailure(where + ".type" + Where(s, "type") + ": unknown type '" +
                              type->second + "'; expected ldap, oidc or chain"));
  }
  return {};
}

}  // namespace portcullis::app
