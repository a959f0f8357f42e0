#pragma once
// An upstream OpenID Connect provider in the authenticator registry (authenticators.<name> with
// type: oidc): clients select it by authenticateClass, alone or in a chain, and the login page
// then offers "Sign in with <display_name>". It checks no passwords (Login refuses like a wrong
// password, so that a chain moves on to its next member); its users are local accounts (created
// or linked by UpstreamFlows), so Find reads the built-in user store and sessions, consent and
// tokens treat them as local users (user_source "users": the token endpoint reads them again).
//
// Ownership: shares the provider and the built-in store's authenticator. Thread-safe.

#include <memory>

#include "oauth/code/authenticators.h"
#include "oauth/upstream/oidc_provider.h"

namespace portcullis::oauth::upstream {

class UpstreamLogin final : public LoginAuthenticator {
 public:
  UpstreamLogin(std::shared_ptr<OidcProvider> provider,
                std::shared_ptr<LoginAuthenticator> local_users)
      : provider_(std::move(provider)), local_users_(std::move(local_users)) {}

  Result<AuthenticatedUser> Login(std::string_view, std::string_view, std::string_view) override {
    return Fail(Error::Status("ERR12016", "The user name or password is incorrect."));
  }
  Result<AuthenticatedUser> Find(std::string_view user_id) override {
    return local_users_->Find(user_id);
  }
  bool UsesUserStore() const override { return true; }

  const std::shared_ptr<OidcProvider>& provider() const { return provider_; }

 private:
  std::shared_ptr<OidcProvider> provider_;
  std::shared_ptr<LoginAuthenticator> local_users_;
};

}  // namespace portcullis::oauth::upstream
