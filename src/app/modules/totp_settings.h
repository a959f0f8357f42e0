#pragma once
// The second factor's settings from the configuration (code.second_factor_clients,
// code.totp_issuer), for the code module (sign-in) and the user module (admin enrolment).

#include "app/config.h"
#include "oauth/totp/second_factor.h"

namespace portcullis::app {

inline oauth::SecondFactorSettings SecondFactorSettings(const Config& c) {
  oauth::SecondFactorSettings s;
  s.issuer_label = c.code.totp_issuer;
  s.required_clients = c.code.second_factor_clients;
  return s;
}

}  // namespace portcullis::app
