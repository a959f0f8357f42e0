#pragma once
// Authenticators check a user's credentials. The built-in one reads the users table
// (user_authenticator.h); others (LDAP) can implement the same interface and be chosen per
// client by light-oauth2's authenticate_class (reference §5.3).

#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::oauth {

// The refusal of a correct password that its user must replace first (User::
// password_change_required): invalid_grant, with `message` kPasswordChangeRequired so that the
// browser sign-in can tell it apart and offer the change page instead. Only after the password
// was verified, so it tells nothing to a guesser.
inline constexpr std::string_view kPasswordChangeRequired = "PASSWORD_CHANGE_REQUIRED";
inline Error PasswordChangeRequired() {
  Error e = Error::OAuth(400, "invalid_grant",
                         "The password must be changed first: sign in with a browser to choose "
                         "a new one.");
  e.message = std::string(kPasswordChangeRequired);
  return e;
}
inline bool IsPasswordChangeRequired(const Error& e) {
  return e.message == kPasswordChangeRequired;
}

// Checks a user's password (argon2id; blocking, run on the hash pool).
struct AuthenticatedUser {
  std::string user_id;
  std::string user_type;
  std::string roles;  // space-separated
  // An account of the built-in user store, whichever authenticator answered (a chain's member,
  // an upstream provider's linked account): its second-factor enrolment is realm "".
  bool local = false;
  // The chain member (a configured authenticator's name, its realm) that answered for a
  // directory user signed in through a chain; "" otherwise. The enrolment stays the chain's, but
  // code.second_factor_realms listing the member applies to its users (second_factor.h).
  std::string chain_member;
};
class UserAuthenticator {
 public:
  virtual ~UserAuthenticator() = default;
  // invalid_grant ERR12016 on a wrong user or password, without telling which.
  virtual Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                                 std::string_view password) = 0;
  // The same for a request from `remote_ip` (the client's address, may be empty), which
  // authenticators that throttle per address use. Too many failures give 429.
  virtual Result<AuthenticatedUser> AuthenticateFrom(std::string_view user_id,
                                                     std::string_view password,
                                                     std::string_view remote_ip) {
    (void)remote_ip;
    return Authenticate(user_id, password);
  }
  virtual Result<AuthenticatedUser> Find(std::string_view user_id) = 0;
};

}  // namespace portcullis::oauth
