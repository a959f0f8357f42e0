#include "oauth/code/authenticators.h"

#include "oauth/code/chain_authenticator.h"
#include "oauth/login/user_authenticator.h"

namespace portcullis::oauth {

Result<AuthenticatedUser> UserStoreLogin::Login(std::string_view user_id, std::string_view password,
                                                std::string_view remote_ip) {
  return users_.AuthenticateFrom(user_id, password, remote_ip);
}

Result<AuthenticatedUser> UserStoreLogin::Find(std::string_view user_id) {
  return users_.Find(user_id);
}

Result<AuthenticatedUser> UserStoreLogin::ReplaceRequiredPassword(
    std::string_view user_id, std::string_view password, std::string_view new_password,
    std::string_view new_password_confirm, std::string_view remote_ip) {
  return users_.ReplaceRequiredPassword(user_id, password, new_password, new_password_confirm,
                                        remote_ip);
}

void AuthenticatorRegistry::Add(std::string realm, std::shared_ptr<LoginAuthenticator> a,
                                std::vector<std::string> aliases) {
  Entry entry{realm, a.get()};
  owned_.push_back(std::move(a));
  realms_.push_back(entry);
  names_.push_back({realm, entry});
  for (auto& alias : aliases) names_.push_back({std::move(alias), entry});
}

void AuthenticatorRegistry::AddDefault(std::shared_ptr<LoginAuthenticator> a) {
  // light-oauth2 names the DefaultAuthenticator by its marker interface (reference §5.3).
  Add("", std::move(a),
      std::vector<std::string>(std::begin(kDefaultAuthenticatorNames),
                               std::end(kDefaultAuthenticatorNames)));
}

Result<AuthenticatorRegistry::Entry> AuthenticatorRegistry::ForClient(const Client& c) const {
  for (const auto& n : names_) {
    if (n.name == c.authenticate_class) return n.entry;
  }
  return Fail(Error::Status(
      "ERR10043", "The authenticator " + c.authenticate_class + " of the client is not available.",
      "authenticate_class '" + c.authenticate_class + "' of client " + c.client_id));
}

Result<AuthenticatorRegistry::Entry> AuthenticatorRegistry::ByName(std::string_view name) const {
  for (const auto& n : names_) {
    if (n.name == name) return n.entry;
  }
  return Fail(Error::Status("ERR10043",
                            "The authenticator " + std::string(name) + " is not available.",
                            "no authenticator named '" + std::string(name) + "'"));
}

std::vector<AuthenticatorRegistry::Entry> AuthenticatorRegistry::Realms() const { return realms_; }

std::string UserSourceOf(const AuthenticatorRegistry::Entry& entry) {
  if (entry.realm.empty() || entry.authenticator->UsesUserStore()) return "users";
  if (dynamic_cast<const ChainAuthenticator*>(entry.authenticator) != nullptr) return "";
  return "authenticator:" + entry.realm;
}

}  // namespace portcullis::oauth
