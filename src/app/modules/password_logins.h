#pragma once
// The password grant's check by the client's authenticator (oauth::PasswordLogins, token/grant.h)
// over the code service's registry: the authenticator the login page would use for the client
// (authenticateClass), with its throttling. A password grant carries no second factor, so it is
// refused (invalid_grant, "use the authorization code flow") wherever the login page would ask
// for one: a client that requires it (code.second_factor_clients), or a user store user with an
// active enrolment (oauth::PasswordGate, checked after the password as before).
//
// Ownership: borrows the registry, `local` (the user store's check) and `second_factor` (may be
// null: no second factor configured); they must outlive it. Thread-safe as they are.

#include "oauth/code/authenticators.h"
#include "oauth/token/grant.h"

namespace portcullis::oauth {
class SecondFactor;
}

namespace portcullis::app {

class RegistryPasswordLogins final : public oauth::PasswordLogins {
 public:
  RegistryPasswordLogins(const oauth::AuthenticatorRegistry& registry,
                         oauth::UserAuthenticator& local, oauth::SecondFactor* second_factor)
      : registry_(registry), local_(local), second_factor_(second_factor) {}

  Result<oauth::PasswordSignIn> Login(const oauth::Client& c, std::string_view user_id,
                                      std::string_view password,
                                      std::string_view remote_ip) override;

 private:
  const oauth::AuthenticatorRegistry& registry_;
  oauth::UserAuthenticator& local_;
  oauth::SecondFactor* second_factor_;
};

}  // namespace portcullis::app
