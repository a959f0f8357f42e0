#pragma once
// The built-in user store as an authenticator (light-oauth2's DefaultAuthenticator, reference
// §5.3): argon2id or legacy PBKDF2 check against the users table, with throttling per user and
// per IP, and the legacy hash upgraded on the first successful check. Other authenticators
// (LDAP) implement the same interface and are chosen per client by authenticate_class.
// Blocking: run on the hash pool.

#include "common/clock.h"
#include "oauth/login/authenticator.h"
#include "oauth/login/throttle.h"

namespace portcullis::store {
class Database;
}

namespace portcullis::oauth {

class SqlUserAuthenticator final : public UserAuthenticator {
 public:
  SqlUserAuthenticator(store::Database& db, LoginThrottle& throttle)
      : db_(db), throttle_(throttle) {}

  // `remote_ip` may be empty. Each attempt is counted before the password is checked, per
  // address and per account-and-address (see throttle.h), and refunded when it succeeds.
  Result<AuthenticatedUser> AuthenticateFrom(std::string_view user_id, std::string_view password,
                                             std::string_view remote_ip) override;
  Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                         std::string_view password) override {
    return AuthenticateFrom(user_id, password, {});
  }
  Result<AuthenticatedUser> Find(std::string_view user_id) override;

 private:
  store::Database& db_;
  LoginThrottle& throttle_;
};

}  // namespace portcullis::oauth
