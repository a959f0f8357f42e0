#include "oauth/totp/password_gate.h"

#include "common/log.h"

namespace portcullis::oauth {

Result<AuthenticatedUser> PasswordGate::Authenticate(std::string_view user_id,
                                                     std::string_view password) {
  return Gate(inner_.Authenticate(user_id, password));
}

Result<AuthenticatedUser> PasswordGate::AuthenticateFrom(std::string_view user_id,
                                                         std::string_view password,
                                                         std::string_view remote_ip) {
  return Gate(inner_.AuthenticateFrom(user_id, password, remote_ip));
}

Result<AuthenticatedUser> PasswordGate::Gate(Result<AuthenticatedUser> user) {
  if (!user) return user;
  // The built-in user store's accounts are realm "" (second_factor.h).
  if (UserRequiresSecondFactor(settings_, "", user->roles)) {
    log::Info("totp.password_only_refused", {{"user_id", user->user_id}, {"why", "required"}});
    return Fail(Error::OAuth(400, "invalid_grant",
                             "This user signs in with a second factor: use the authorization "
                             "code flow."));
  }
  auto e = store_.Find(user->user_id);
  if (!e) return Fail(e.error());
  if (*e && (*e)->active) {
    log::Info("totp.password_only_refused", {{"user_id", user->user_id}});
    return Fail(Error::OAuth(400, "invalid_grant",
                             "This user signs in with a second factor: use the authorization "
                             "code flow."));
  }
  return user;
}

}  // namespace portcullis::oauth
