#pragma once
// The built-in user store as an authenticator (light-oauth2's DefaultAuthenticator, reference
// §5.3): argon2id or legacy PBKDF2 check against the UserStore, with throttling per user and
// per IP, and the legacy hash upgraded on the first successful check. Other authenticators
// (LDAP) implement the same interface and are chosen per client by authenticate_class.
//
// Ownership: borrows `db` (for the upgrade's transaction; no SQL goes through it), `users`,
// `throttle` and `audit`; they must outlive it. Thread-safety: safe from any thread. Blocking
// (argon2id and the store): run on the hash pool.

#include "common/clock.h"
#include "oauth/audit/audit.h"
#include "oauth/login/authenticator.h"
#include "oauth/login/throttle.h"
#include "oauth/user/user_store.h"

namespace portcullis::store {
class Database;
}

namespace portcullis::oauth {

class LocalUserAuthenticator final : public UserAuthenticator {
 public:
  // `clock` (the system clock when null) dates a replaced password.
  LocalUserAuthenticator(store::Database& db, UserStore& users, LoginThrottle& throttle,
                         audit::AuditLog& audit, const Clock* clock = nullptr)
      : db_(db),
        users_(users),
        throttle_(throttle),
        audit_(audit),
        clock_(clock ? *clock : SystemClock::Instance()) {}

  // `remote_ip` may be empty. Each attempt is counted before the password is checked, per
  // address and per account-and-address (see throttle.h), and refunded when it succeeds.
  Result<AuthenticatedUser> AuthenticateFrom(std::string_view user_id, std::string_view password,
                                             std::string_view remote_ip) override;
  Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                         std::string_view password) override {
    return AuthenticateFrom(user_id, password, {});
  }
  // ERR12013 when the user is unknown or locked, or must change the password (such a user
  // holds no session: it signs in again and meets the change page).
  Result<AuthenticatedUser> Find(std::string_view user_id) override;
  // A user whose password must change (User::password_change_required) replaces it: the
  // current password is checked as AuthenticateFrom does (throttled), then the new one against
  // the policy (ERR11004), its confirmation (ERR12012) and the current one (ERR11004 when
  // equal), and stored by a conditional update that clears the flag, audited as "user.password"
  // by "user:<id>" in the same transaction. The user, signed in, on success. A user without the
  // flag gets invalid_request (the form was stale).
  Result<AuthenticatedUser> ReplaceRequiredPassword(std::string_view user_id,
                                                    std::string_view password,
                                                    std::string_view new_password,
                                                    std::string_view new_password_confirm,
                                                    std::string_view remote_ip);

 private:
  // The password check shared by sign-in and the replacement: throttled, locked accounts
  // refused like a wrong password. The stored user on success.
  Result<User> Verify(std::string_view user_id, std::string_view password,
                      std::string_view remote_ip);

  store::Database& db_;
  UserStore& users_;
  LoginThrottle& throttle_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
