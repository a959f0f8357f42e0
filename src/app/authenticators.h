#pragma once
// Builds the configured authenticators (Config::authenticators, authenticator_specs.h) for the
// code service's registry and for `portcullis auth`. One place that knows each type: a new
// type adds a branch to BuildAuthenticator.
//
// Ownership: a BuiltAuthenticator owns its authenticator (shared with the registry) and borrows
// the throttle passed in, which must outlive it. Thread-safety: the functions are safe to call
// concurrently once built (each authenticator's own rules apply).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include "app/authenticator_specs.h"
#include "common/error.h"
#include "oauth/code/authenticators.h"
#include "oauth/login/throttle.h"

namespace portcullis::app {

struct BuiltAuthenticator {
  std::string name;
  std::string type;
  std::vector<std::string> aliases;  // other names clients may use (light-oauth2 classes)
  std::shared_ptr<oauth::LoginAuthenticator> login;
  // Connects and binds as the service account (or whatever the type's check is).
  std::function<Status()> check;
  // A password check without throttling, for an operator's test.
  std::function<Result<oauth::AuthenticatedUser>(std::string_view user, std::string_view password)>
      test_login;
  // What `auth list` and the admin API show: never a secret.
  boost::json::object description;
};

// Every configured authenticator, chains after their members. `builtin` is the built-in user
// store (a chain's member "default"); null where there is none (CLI commands without a store),
// and then that member answers 503.
Result<std::vector<BuiltAuthenticator>> BuildAuthenticators(
    const std::vector<AuthenticatorSpec>& specs, oauth::LoginThrottle& throttle,
    std::shared_ptr<oauth::LoginAuthenticator> builtin);

// light-oauth2 authenticate_class values that name a configured authenticator: class name ->
// authenticator name, for the importer.
std::map<std::string, std::string> LegacyClassMap(const std::vector<AuthenticatorSpec>& specs);

}  // namespace portcullis::app
