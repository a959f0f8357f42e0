#pragma once
// The second factor's settings from the configuration (code.second_factor_clients,
// code.second_factor_roles, code.second_factor_realms, code.totp_issuer), for the code module
// (sign-in) and the user module (admin enrolment).

#include <algorithm>
#include <string>
#include <vector>

#include "app/config.h"
#include "common/error.h"
#include "oauth/code/authenticators.h"
#include "oauth/totp/second_factor.h"

namespace portcullis::app {

inline oauth::SecondFactorSettings SecondFactorSettings(const Config& c) {
  oauth::SecondFactorSettings s;
  s.issuer_label = c.code.totp_issuer;
  s.required_clients = c.code.second_factor_clients;
  s.required_roles = c.code.second_factor_roles;
  // Realms as enrolments name them: "" for the built-in user store. Resolved and checked by
  // SecondFactorRealms below where it matters (sign-in, the password grant, refresh).
  for (const auto& name : c.code.second_factor_realms) {
    s.required_realms.push_back(name == "default" ? std::string() : name);
  }
  return s;
}

// code.second_factor_realms by canonical realm, as the code service's authenticator registry
// names them: "" for the built-in user store under any of its names (kDefaultAuthenticatorNames),
// a configured authenticator's name for it or one of its `aliases`. A misspelt name would
// silently require nothing, so it is an error (start-up stops), in every process that checks
// passwords or refreshes tokens, with or without the code service.
inline Result<std::vector<std::string>> SecondFactorRealms(const Config& c) {
  std::vector<std::string> out;
  for (const auto& name : c.code.second_factor_realms) {
    if (std::ranges::find(oauth::kDefaultAuthenticatorNames, name) !=
        std::end(oauth::kDefaultAuthenticatorNames)) {
      out.push_back("");
      continue;
    }
    const AuthenticatorSpec* found = nullptr;
    for (const auto& spec : c.authenticators) {
      if (spec.name == name) found = &spec;
      auto a = spec.values.find("aliases");
      if (!found && a != spec.values.end()) {
        // As BuildAuthenticators reads `aliases`: comma-separated, spaces dropped.
        std::string list = a->second;
        std::erase(list, ' ');
        for (size_t start = 0; start <= list.size() && !found;) {
          size_t comma = list.find(',', start);
          if (list.substr(start, comma == std::string::npos ? comma : comma - start) == name) {
            found = &spec;
          }
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      if (found) break;
    }
    if (!found) {
      return Fail(Error::Internal("code.second_factor_realms: no authenticator named '" + name +
                                  "' (default is the built-in user store)"));
    }
    out.push_back(found->name);
  }
  return out;
}

// SecondFactorSettings with required_realms resolved (SecondFactorRealms).
inline Result<oauth::SecondFactorSettings> ResolvedSecondFactorSettings(const Config& c) {
  auto realms = SecondFactorRealms(c);
  if (!realms) return Fail(std::move(realms.error()));
  oauth::SecondFactorSettings s = SecondFactorSettings(c);
  s.required_realms = std::move(*realms);
  return s;
}

}  // namespace portcullis::app
