#include "app/modules/password_logins.h"

#include "common/log.h"
#include "oauth/totp/second_factor.h"

namespace portcullis::app {

Result<oauth::PasswordSignIn> RegistryPasswordLogins::Login(const oauth::Client& c,
                                                            std::string_view user_id,
                                                            std::string_view password,
                                                            std::string_view remote_ip) {
  auto entry = registry_.ForClient(c);
  if (!entry) return Fail(std::move(entry.error()));
  // The built-in user store through `local`, which also refuses users with an active second
  // factor; any other authenticator (LDAP, a chain) as the login page calls it.
  auto user = entry->realm.empty() ? local_.AuthenticateFrom(user_id, password, remote_ip)
                                   : entry->authenticator->Login(user_id, password, remote_ip);
  if (!user) return Fail(std::move(user.error()));
  // After the password, as the login page asks for the second factor only then: the client
  // requires one (its field or code.second_factor_clients), the user's realm or a role does
  // (code.second_factor_realms, code.second_factor_roles), or the user (of any realm) enrolled.
  bool needed = false;
  if (second_factor_ != nullptr) {
    // A built-in store account answered by a chain keeps its realm-"" enrolment.
    auto n =
        second_factor_->NeededFor(oauth::EnrolmentRealm(*entry, *user), user->user_id, user->roles,
                                  c.client_id, c.second_factor_required, user->chain_member);
    if (!n) return Fail(std::move(n.error()));
    needed = *n;
  }
  if (needed) {
    log::Info("totp.password_only_refused",
              {{"user_id", user->user_id}, {"client_id", c.client_id}});
    return Fail(Error::OAuth(400, "invalid_grant",
                             "A second factor is required: use the authorization code flow."));
  }
  return oauth::PasswordSignIn{std::move(*user), oauth::UserSourceOf(*entry)};
}

}  // namespace portcullis::app
