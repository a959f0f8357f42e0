#pragma once
// Authenticators check a user's credentials. The built-in one reads the users table
// (user_authenticator.h); others (LDAP) can implement the same interface and be chosen per
// client by light-oauth2's authenticate_class (reference §5.3).

#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::oauth {

// Checks a user's password (argon2id; blocking, run on the hash pool).
struct AuthenticatedUser {
  std::string user_id;
  std::string user_type;
  std::string roles;  // space-separated
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
