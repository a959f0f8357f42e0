#pragma once
// The pages of the authorization endpoint: sign-in, consent, connected applications, sign-out
// and errors. Plain HTML forms that work without JavaScript; labelled fields, the first field
// focused, errors in an alert region tied to the fields they concern. Every value is escaped.
//
// Form actions and links are relative ("code", "consent", "logout"), so the pages keep working
// when a proxy serves /oauth2/ under a prefix.

#include <string>
#include <vector>

#include "common/encoding.h"
#include "http/message.h"
#include "oauth/client/client.h"
#include "oauth/code/consent_store.h"

namespace portcullis::api::code_pages {

struct LoginView {
  std::string action;  // "code" or "authorize": where the form posts
  const oauth::Client* client = nullptr;
  FormFields hidden;  // the authorization request, passed through
  std::string csrf;
  std::string username;  // echoed after a failed attempt
  std::string error;     // plain text; empty for none
  bool remember = false;
  std::string return_to;  // CSP source of the client's redirect URI
  // "Sign in with <label>" links (upstream OpenID providers), each a same-site GET that starts
  // that provider's flow; `password`: whether the user name and password form is shown too.
  struct Upstream {
    std::string label;
    std::string href;
  };
  std::vector<Upstream> upstreams;
  bool password = true;
};
http::Response Login(int status, const LoginView& view);

// The sign-in's second step for a user whose password was set by someone else (first run,
// `portcullis user create --admin`): the current password again, and a new one twice. It posts
// to the same action as the sign-in form, with the same CSRF token and hidden request.
struct ChangePasswordView {
  std::string action;
  FormFields hidden;
  std::string csrf;
  std::string username;
  std::string error;  // plain text; empty for none
  std::string return_to;
};
http::Response ChangePassword(int status, const ChangePasswordView& view);

struct ConsentView {
  const oauth::Client* client = nullptr;
  std::string user_id;
  std::vector<std::string> scope;
  FormFields hidden;
  std::string csrf;
  std::string switch_user_href;  // starts again with prompt=login
  std::string return_to;         // CSP source of the redirect URI, also shown to the user
  // Prefix of the page's relative links and form action ("../" on a page answered from
  // /oauth2/upstream/callback).
  std::string base;
};
http::Response Consent(const ConsentView& view);

struct ConsentListItem {
  oauth::Consent consent;
  std::string client_name;  // empty when the client is unknown
};
http::Response ConsentList(const std::string& user_id, const std::vector<ConsentListItem>& items,
                           const std::string& csrf);

struct LogoutView {
  FormFields hidden;  // client_id, post_logout_redirect_uri, state
  std::string csrf;
  std::string user_id;
  std::string return_to;
};
http::Response LogoutConfirm(const LogoutView& view);
http::Response SignedOut();
// A redirect to `location`, never cached, with no Referer sent onwards.
http::Response Redirect(int status, std::string location);
// A short page with a heading and one paragraph.
http::Response Message(int status, const std::string& title, const std::string& text);

// OAuth 2.0 Form Post Response Mode §2: a page whose script posts `params` to `action` (the
// client's redirect URI) at once, with a button for browsers without scripts. Its CSP allows
// that one script (by hash) and a form post to the redirect URI's origin, nothing else; the
// page is never cached or framed.
http::Response FormPost(const std::string& action, const FormFields& params);

// An error shown to the user. `restart_href`, when set, offers to start the sign-in again.
http::Response ErrorPage(const Error& error, const std::string& restart_href = {});

}  // namespace portcullis::api::code_pages
