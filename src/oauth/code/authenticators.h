#pragma once
// Who checks a user's password at the authorization endpoint, chosen per client by
// light-oauth2's authenticate_class (reference §5.3): a registry maps names to authenticators.
// Today there is the built-in user store (LocalUserAuthenticator, with throttling per user and per
// IP); an LDAP authenticator implements LoginAuthenticator and registers under its own realm.
//
// Thread-safety: register everything before serving; afterwards the registry is read-only and
// the authenticators it holds must be safe to call from several pool threads at once.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"
#include "oauth/login/authenticator.h"

namespace portcullis::oauth {

class LocalUserAuthenticator;

class LoginAuthenticator {
 public:
  virtual ~LoginAuthenticator() = default;
  // Checks a password. Blocking (argon2id): run on the hash pool. A wrong user or password is
  // one error (ERR12016) that does not say which; too many failures give 429.
  virtual Result<AuthenticatedUser> Login(std::string_view user_id, std::string_view password,
                                          std::string_view remote_ip) = 0;
  // The account behind a session, read again so that roles are current and a deleted account
  // loses its session. Blocking (store).
  virtual Result<AuthenticatedUser> Find(std::string_view user_id) = 0;
  // Replaces a password that Login refused with PasswordChangeRequired (authenticator.h) and
  // signs the user in. Only the built-in user store has such passwords; others refuse.
  virtual Result<AuthenticatedUser> ReplaceRequiredPassword(std::string_view user_id,
                                                            std::string_view password,
                                                            std::string_view new_password,
                                                            std::string_view new_password_confirm,
                                                            std::string_view remote_ip) {
    (void)user_id, (void)password, (void)new_password, (void)new_password_confirm, (void)remote_ip;
    return Fail(Error::OAuth(400, "invalid_request", "This sign-in cannot change passwords."));
  }
  // True when its users are the built-in user store's accounts (an upstream OpenID provider's
  // linked or created accounts): codes then record user_source "users".
  virtual bool UsesUserStore() const { return false; }
};

// The built-in user store.
class UserStoreLogin final : public LoginAuthenticator {
 public:
  explicit UserStoreLogin(LocalUserAuthenticator& users) : users_(users) {}
  Result<AuthenticatedUser> Login(std::string_view user_id, std::string_view password,
                                  std::string_view remote_ip) override;
  Result<AuthenticatedUser> Find(std::string_view user_id) override;
  Result<AuthenticatedUser> ReplaceRequiredPassword(std::string_view user_id,
                                                    std::string_view password,
                                                    std::string_view new_password,
                                                    std::string_view new_password_confirm,
                                                    std::string_view remote_ip) override;

 private:
  LocalUserAuthenticator& users_;
};

// The built-in user store's names besides its realm "": "default", and light-oauth2's names of
// its DefaultAuthenticator (reference §5.3). Also code.second_factor_realms reads them.
inline constexpr std::string_view kDefaultAuthenticatorNames[] = {
    "default", "com.networknt.oauth.auth.DefaultAuth",
    "com.networknt.oauth.auth.DefaultAuthenticator",
    "com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.DefaultAuth>"};

class AuthenticatorRegistry {
 public:
  struct Entry {
    std::string realm;  // canonical name; "" for the built-in user store
    LoginAuthenticator* authenticator = nullptr;
  };

  // Registers `authenticator` as `realm`, also reachable by each alias.
  void Add(std::string realm, std::shared_ptr<LoginAuthenticator> authenticator,
           std::vector<std::string> aliases = {});
  // The built-in user store: realm "", for clients without authenticate_class and for
  // light-oauth2's names of its DefaultAuthenticator.
  void AddDefault(std::shared_ptr<LoginAuthenticator> authenticator);

  // ERR10043 when the client names an authenticator this server does not have.
  Result<Entry> ForClient(const Client& client) const;
  // The authenticator registered under `name` (a realm or an alias); ERR10043 when none is.
  Result<Entry> ByName(std::string_view name) const;
  // One entry per realm.
  std::vector<Entry> Realms() const;

 private:
  struct Named {
    std::string name;
    Entry entry;
  };
  std::vector<std::shared_ptr<LoginAuthenticator>> owned_;
  std::vector<Named> names_;
  std::vector<Entry> realms_;
};

// Where a user signed in by `entry` comes from, as a code or refresh token records it
// (AuthCode::user_source): "users" for the built-in user store, whose account the token endpoint
// reads again (also for an authenticator whose users are its accounts, UsesUserStore);
// "authenticator:<realm>" for another authenticator (LDAP), whose users the user
// store must not answer for; "" for a chain, whose members share one namespace of user ids
// (read again when the user store has the name, as before sources were recorded).
std::string UserSourceOf(const AuthenticatorRegistry::Entry& entry);

// The realm that keys `user`'s second-factor enrolment (TotpSubject, second_factor.h): "" for an
// account of the built-in user store, whichever authenticator signed it in (a chain's member, an
// upstream provider's linked account), as the admin API and CLI enrol only that key; else the
// authenticator's realm (a directory user). Borrows from `entry`.
inline std::string_view EnrolmentRealm(const AuthenticatorRegistry::Entry& entry,
                                       const AuthenticatedUser& user) {
  return user.local ? std::string_view{} : std::string_view{entry.realm};
}

}  // namespace portcullis::oauth
