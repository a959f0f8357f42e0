#pragma once
// Password-only sign-ins (the password grant, RFC 6749 §4.3) cannot carry a second factor, so a
// user with an active TOTP enrolment is refused there after a correct password: invalid_grant,
// "use the authorization code flow"; so is a user whose roles (or the built-in store as a whole)
// require a second factor (SecondFactorSettings::required_roles, required_realms "").
// Wraps the UserAuthenticator the token service checks passwords with; Find (no password) passes
// through.
//
// Ownership: borrows `inner` and `store`; they must outlive it. Thread-safe as `inner` is.

#include "oauth/login/authenticator.h"
#include "oauth/totp/second_factor.h"
#include "oauth/totp/totp_store.h"

namespace portcullis::oauth {

class PasswordGate final : public UserAuthenticator {
 public:
  PasswordGate(UserAuthenticator& inner, TotpStore& store, SecondFactorSettings settings = {})
      : inner_(inner), store_(store), settings_(std::move(settings)) {}

  Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                         std::string_view password) override;
  Result<AuthenticatedUser> AuthenticateFrom(std::string_view user_id, std::string_view password,
                                             std::string_view remote_ip) override;
  Result<AuthenticatedUser> Find(std::string_view user_id) override { return inner_.Find(user_id); }

 private:
  Result<AuthenticatedUser> Gate(Result<AuthenticatedUser> user);
  UserAuthenticator& inner_;
  TotpStore& store_;
  SecondFactorSettings settings_;
};

}  // namespace portcullis::oauth
