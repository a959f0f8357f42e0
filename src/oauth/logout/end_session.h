#pragma once
// OpenID Connect RP-Initiated Logout 1.0: what an end-session request (GET or POST
// /oauth2/logout, the end_session_endpoint) asks for, checked against the client registry.
//
//   id_token_hint             an ID token we issued (expired is fine, the signature is not
//                             optional: read by the injected HintReader). Its aud/azp names
//                             the client; its sub and sid name the user and session (§2).
//   client_id                 when given with a hint, it must be the hint's client (§2).
//   post_logout_redirect_uri  followed only when it matches one of that client's registered
//                             postLogoutRedirectUris EXACTLY (§3), and only when the client is
//                             known from client_id or the hint; otherwise never.
//   state                     returned on that redirect (§3).
//   ui_locales, logout_hint   accepted and ignored (no localisation; the session cookie, not a
//                             hint, says who is signed in).
//
// A hint that does not verify, or a client_id that is not the hint's, is refused (400
// invalid_request): the OP "MUST validate that it was the issuer of the ID Token" (§2), and a
// request whose parts disagree is not followed anywhere.
//
// Pure logic over a borrowed ClientCatalog; thread-safe; no I/O but the catalog lookup.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/error.h"

namespace portcullis::oauth {

class ClientCatalog;

// What an id_token_hint tells.
struct LogoutHint {
  std::string sub;
  std::string sid;        // empty: none
  std::string client_id;  // azp, else the first aud
  std::vector<std::string> audience;
};
// Verifies an ID token we issued (signature, iss; not exp). Fails for anything else.
using LogoutHintReader = std::function<Result<LogoutHint>(std::string_view id_token)>;

struct EndSessionRequest {
  std::string id_token_hint;
  std::string client_id;
  std::string post_logout_redirect_uri;
  std::string state;
  bool has_state = false;

  // Each parameter at most once (a repeated one is ambiguous: 400 invalid_request).
  static Result<EndSessionRequest> FromFields(const FormFields& fields);
  // The parameters to carry through the confirmation form.
  FormFields ToFields() const;
};

struct EndSessionTarget {
  std::string client_id;  // the client the request is from, when known
  std::optional<LogoutHint> hint;
  std::string redirect;  // empty: show the signed-out page
  std::string state;
  bool has_state = false;

  // The registered post-logout URI with state appended (§3), or empty.
  std::string RedirectLocation() const;
};

class EndSession {
 public:
  // Borrows `clients`; it must outlive this object.
  EndSession(const ClientCatalog& clients, LogoutHintReader read_hint);

  Result<EndSessionTarget> Resolve(const EndSessionRequest& r) const;

 private:
  const ClientCatalog& clients_;
  LogoutHintReader read_hint_;
};

}  // namespace portcullis::oauth
