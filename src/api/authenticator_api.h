#pragma once
// Admin API of the configured authenticators (README "Enterprise sign-in: LDAP"), served by
// the code service next to the sign-in it configures:
//   GET  /oauth2/authenticators              scope oauth.user.r: what is configured (no secret)
//   POST /oauth2/authenticators/{name}/test  scope oauth.user.w: connect (and bind as the
//        service account); with {"userId","password"}, a sign-in too, throttled as any sign-in
// The answer to a test is 200 with what happened ({"connection":"ok"|"failed", "reason",
// "signIn":"ok"|"refused"|"unavailable"|"throttled", "userId", "roles"}); 404 for an unknown
// name.
//
// Ownership: the router's handlers keep the entries; each borrows its authenticator, and
// `auth`, which must outlive the router. Thread-safety: as the authenticators (safe from
// several pool threads).

#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "api/admin_auth.h"
#include "http/router.h"
#include "oauth/code/authenticators.h"

namespace portcullis::api {

struct AuthenticatorInfo {
  std::string name;
  boost::json::object description;
  std::function<Status()> check;               // empty: nothing to connect to
  oauth::LoginAuthenticator* login = nullptr;  // borrowed
};

void RegisterAuthenticatorApi(http::Router& router, const AdminAuth& auth,
                              std::vector<AuthenticatorInfo> authenticators);

}  // namespace portcullis::api
