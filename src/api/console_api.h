#pragma once
// The admin console at /console (README "Console"): a single-page application served from the
// binary, signed in through this server's own authorization code flow with PKCE as the built-in
// public client `portcullis-console`, talking to the admin APIs through /console/api/.
//
// Sessions are HttpOnly cookies (a "backend for frontend"): /console/callback redeems the code
// at /oauth2/token itself and keeps the access token in the cookie `portcullis_console`, sealed
// (AES-256-GCM under the master key, so every instance opens it; Path=/console, SameSite=Strict,
// HttpOnly, Secure on https). Scripts never see a token, so a script injected into the page
// could not carry one away. /console/api/<path> forwards to the admin route /oauth2/<path>
// with that token as the bearer, so the admin APIs decide every call exactly as for any client
// (scopes from the user's roles, the three admin-privilege rules). Every request other than
// GET and HEAD must carry `X-CSRF-Token` equal to the random value sealed in the session
// (handed to the page by GET /console/session), or gets 403 before anything is forwarded.
//
// Pages carry a CSP without 'unsafe-inline' (scripts and styles from /console/assets only),
// frame-ancestors 'none', X-Frame-Options DENY, nosniff, no referrer; everything under
// /console is Cache-Control: no-store.
//
// Ownership: borrows the router (to reach the admin routes and the token endpoint), the master
// key, the clock and the random source; all outlive the routes. Thread-safety: the handlers are
// safe to run concurrently (no mutable state).

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "http/router.h"
#include "oauth/key/master_key.h"

namespace portcullis::api {

inline constexpr std::string_view kConsoleClientId = "portcullis-console";

struct ConsoleSettings {
  std::string issuer;  // the redirect URI is issuer + "/console/callback"
  std::string scope;   // what the console asks for: every admin scope
  bool secure_cookies = false;
};

// The redirect URI registered for the console client.
std::string ConsoleRedirectUri(const std::string& issuer);

// Adds /console, /console/assets/{name}, /console/login, /console/callback, /console/session,
// /console/logout and, for every admin route already on `router` (/oauth2/client...,
// /oauth2/service..., /oauth2/user..., /oauth2/password..., /oauth2/provider...,
// /oauth2/refresh_token..., /oauth2/audit, /oauth2/keys/..., /oauth2/instances), its
// /console/api twin. Call it after every other module registered its routes.
void RegisterConsoleApi(http::Router& router, ConsoleSettings settings,
                        const oauth::MasterKey& master, const Clock& clock, Random& random);

}  // namespace portcullis::api
