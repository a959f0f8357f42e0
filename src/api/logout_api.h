#pragma once
// HTTP bindings of OpenID Connect RP-Initiated Logout 1.0 (the end_session_endpoint) and the
// sign-out page of the code service:
//
//   GET  /oauth2/logout   an end-session request (id_token_hint, client_id,
//                         post_logout_redirect_uri, state, ui_locales): asks the user to
//                         confirm, or signs out at once when a valid id_token_hint names the
//                         browser's current session (§2: the OP must ask unless the hint shows
//                         that the RP asking is in this session with this user)
//   POST /oauth2/logout   the same request form-encoded (§2: GET and POST); with the
//                         confirmation form's csrf field (or an empty body), the confirmation:
//                         signs out (csrf bound to the session cookie, else 403)
//
// Signing out deletes the SSO session and, in the same transaction, queues a back-channel
// logout token for every client that took part in it (oauth/logout/backchannel.h). Then the
// browser goes to the registered post-logout URI with state (oauth/logout/end_session.h), or
// sees the "signed out" page. An unverifiable id_token_hint, or a client_id that is not the
// hint's, is a 400 error page; nothing is redirected.
//
// Store work runs on the store pool; validation happens on the I/O thread.

#include "api/code_api.h"
#include "oauth/code/session_store.h"
#include "oauth/logout/backchannel.h"
#include "oauth/logout/end_session.h"

namespace portcullis {
namespace http {
class Router;
}
namespace store {
class Database;
}

namespace api {

// Borrows everything; all of it must outlive the routes.
struct LogoutApiDeps {
  CodeApiDeps& code;  // SSO sessions, CSRF guard, realms, cookie policy
  oauth::SessionStore& session_store;
  store::Database& db;
  const oauth::EndSession& end_session;
  oauth::BackchannelLogout& backchannel;
};

void RegisterLogoutApi(http::Router& router, LogoutApiDeps deps);

}  // namespace api
}  // namespace portcullis
