#pragma once
// The second factor's settings from the configuration (code.second_factor_clients,
// code.second_factor_roles, code.second_factor_realms, code.totp_issuer), for the code module
// (sign-in) and the user module (admin enrolment).

#include "app/config.h"
#include "oauth/totp/second_factor.h"

namespace portcullis::app {

inline oauth::SecondFactorSettings SecondFactorSettings(const Config& c) {
  oauth::SecondFactorSettings s;
  s.issuer_label = c.code.totp_issuer;
  s.required_clients = c.code.second_factor_clients;
  s.required_roles = c.code.second_factor_roles;
  // Realms as enrolments name them: "" for the built-in user store. The code module resolves
  // aliases and refuses unknown names (it alone knows the authenticators).
  for (const auto& name : c.code.second_factor_realms) {
    s.required_realms.push_back(name == "default" ? std::string() : name);
  }
  return s;
}

}  // namespace portcullis::app
