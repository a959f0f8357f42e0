#pragma once
// HTTP bindings of the code service (light-oauth2 port 6881, reference §5, §12):
//
//   GET  /oauth2/code, /oauth2/authorize    authorization request (RFC 6749 §4.1.1)
//   POST /oauth2/code, /oauth2/authorize    the sign-in form (j_username, j_password, csrf), and
//                                           the second-factor form (otp_user, otp_code, csrf)
//   POST /oauth2/consent                    the consent form (decision=allow|deny, csrf)
//   GET  /oauth2/consent                    the signed-in user's connected applications
//   POST /oauth2/consent/{clientId}/revoke  revoke one, from that page (csrf)
//   DELETE /oauth2/consent/{clientId}       revoke one (session cookie)
//   GET, POST /oauth2/logout                RP-initiated logout and sign-out: api/logout_api.h
//   GET  /oauth2/upstream/start             "Sign in with ..." (a link of the sign-in page, with
//                                           its CSRF token): off to the upstream OpenID provider
//   GET  /oauth2/upstream/callback          the provider's answer (README "Upstream OpenID
//                                           Connect providers")
//
// With SPNEGO configured (spnego.keytab), GET also accepts Authorization: Negotiate (one round,
// RFC 4559): API callers' 401 challenges name Negotiate before Basic, and a browser that must
// sign in gets the sign-in form with status 401 and WWW-Authenticate: Negotiate, so that a
// browser set up for Kerberos answers with a ticket and any other shows the form.
//
// Two kinds of callers. A request with an Authorization header, or one that does not accept
// text/html, is an API caller in light-oauth2's manner: HTTP Basic user credentials, a 302 with
// the code, 401 with WWW-Authenticate when they are missing or wrong, and every error as the
// JSON Status body with light-oauth2's codes (ERR11000, ERR11004, ERR12014, ERR12033-12036,
// ...), never redirected. A browser gets HTML pages: a sign-in form, a consent page, and errors
// as pages until the redirect URI is established, then as redirects to the client with error,
// error_description (which carries the ERR code), state and iss (RFC 6749 §4.1.2.1, RFC 9207).
//
// Store work runs on the store pool and password checks on the hash pool; validation against
// the client catalog happens on the I/O thread.

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "oauth/code/authenticators.h"
#include "oauth/code/authorization_service.h"
#include "oauth/code/consent_store.h"
#include "oauth/code/consents.h"
#include "oauth/code/csrf.h"
#include "oauth/code/session_store.h"
#include "oauth/code/sso_session.h"
#include "oauth/refresh/grant_revocation.h"
#include "oauth/totp/second_factor.h"

namespace portcullis {
namespace http {
class Router;
}
namespace store {
class Database;
}
namespace oauth {
class ClientCatalog;
class SpnegoAcceptor;
namespace upstream {
class UpstreamFlows;
}
}  // namespace oauth

namespace api {

// Everything the code service needs, built once by the composition root. Register the
// authenticators (at least authenticators.AddDefault(...)) before RegisterCodeApi. Borrows
// `clients`, `db`, `session_store`, `consent_store`, `clock` and `random`: they must outlive it.
struct CodeApiDeps {
  // `master_key`: the installation's master key, from which the CSRF key is derived.
  CodeApiDeps(oauth::AuthorizationSettings settings, const oauth::ClientCatalog& clients,
              store::Database& db, oauth::AuthCodeStore& codes, oauth::SessionStore& session_store,
              oauth::ConsentStore& consent_store, const oauth::GrantRevocation& revocation,
              const Clock& clock, Random& random, const Secret& master_key,
              oauth::SessionSettings session_settings = {});

  const oauth::ClientCatalog& clients;
  oauth::AuthorizationService authorization;
  oauth::SsoSessions sessions;
  oauth::Consents consents;
  oauth::AuthenticatorRegistry authenticators;
  oauth::CsrfGuard csrf;
  // The second factor (TOTP, recovery codes) of local users; null: none (set before
  // RegisterCodeApi; must outlive the router). See README "Second factor (TOTP)".
  oauth::SecondFactor* second_factor = nullptr;
  // Tokens of the second-factor page: bound to the user and the login cookie, valid 10 minutes.
  oauth::CsrfGuard otp_csrf;
  Random& random;
  // Kerberos sign-in (HTTP Negotiate, RFC 4559) at GET /oauth2/code; null: off, and nothing
  // about the endpoint changes. Borrowed: it must outlive these deps. A Kerberos user's account
  // and roles come from the authenticator named `spnego_roles_from`, or when that is empty from
  // the client's own (authenticate_class).
  const oauth::SpnegoAcceptor* spnego = nullptr;
  std::string spnego_roles_from;
  // Upstream OpenID providers ("Sign in with ..."); null: none configured. Borrowed: it must
  // outlive these deps.
  oauth::upstream::UpstreamFlows* upstream = nullptr;
  // Cookies get the Secure attribute when the request came over TLS or the issuer is https
  // (TLS terminated by a proxy in front).
  bool secure_cookies = false;
};

void RegisterCodeApi(http::Router& router, CodeApiDeps& deps);

}  // namespace api
}  // namespace portcullis
