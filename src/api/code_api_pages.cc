#include "api/code_api_pages.h"

#include <openssl/sha.h>

#include <ctime>

#include "api/html.h"
#include "oauth/code/scope_text.h"

namespace portcullis::api::code_pages {
namespace {

using html::Escape;

std::string HiddenFields(const FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += html::Hidden(k, v);
  return out;
}

std::string ClientName(const oauth::Client* c) {
  if (c == nullptr) return "the application";
  return c->client_name.empty() ? c->client_id : c->client_name;
}

std::string Date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The form post's only script; the CSP names its hash, so nothing else can run.
constexpr std::string_view kSubmitScript = "document.forms[0].submit();";

const std::string& SubmitScriptHash() {
  static const std::string hash = [] {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(kSubmitScript.data()), kSubmitScript.size(),
           digest);
    return "'sha256-" +
           Base64Encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest)) + "'";
  }();
  return hash;
}

}  // namespace

http::Response FormPost(const std::string& action, const FormFields& params) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>Returning to the application"
      "</title></head>\n<body>\n<form method=\"post\" action=\"" +
      Escape(action) + "\">\n" + HiddenFields(params) +
      "\n<noscript><p>Scripts are off: continue to the application.</p>"
      "<button type=\"submit\">Continue</button></noscript>\n</form>\n<script>";
  html += kSubmitScript;
  html += "</script>\n</body></html>\n";
  http::Response r = http::Response::Text(200, std::move(html), "text/html; charset=utf-8");
  std::string csp = "default-src 'none'; script-src " + SubmitScriptHash();
  // A redirect URI whose origin cannot be written into the header leaves form-action open: the
  // page has one fixed form and no other content.
  if (std::string target = html::CspSource(action); !target.empty()) {
    csp += "; form-action " + target;
  }
  csp += "; frame-ancestors 'none'; base-uri 'none'";
  r.With("Content-Security-Policy", csp);
  r.With("X-Frame-Options", "DENY");
  r.With("Referrer-Policy", "no-referrer");
  r.With("Cache-Control", "no-store");
  r.With("Pragma", "no-cache");
  r.With("X-Content-Type-Options", "nosniff");
  return r;
}

http::Response Login(int status, const LoginView& v) {
  const bool failed = !v.error.empty();
  // After a failed attempt the password field gets the focus and both fields point at the
  // message, so a screen reader reads it with them.
  const std::string invalid =
      failed ? " aria-invalid=\"true\" aria-describedby=\"login-error\"" : "";
  std::string b;
  b += "<h1>Sign in</h1>\n<p class=\"muted\">to continue to <strong>" +
       Escape(ClientName(v.client)) + "</strong></p>\n";
  for (const auto& u : v.upstreams) {
    b += "<p><a class=\"button upstream\" href=\"" + Escape(u.href) + "\">Sign in with " +
         Escape(u.label) + "</a></p>\n";
  }
  if (!v.password) {
    b += "<div id=\"login-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
         Escape(v.error) + "</div>\n";
    return html::Render(status, {"Sign in", std::move(b), {v.return_to}});
  }
  if (!v.upstreams.empty()) b += "<p class=\"muted\">or with your user name and password:</p>\n";
  b += "<form method=\"post\" action=\"" + Escape(v.action) + "\">\n";
  b += HiddenFields(v.hidden) + html::Hidden("csrf", v.csrf) + "\n";
  b += "<div id=\"login-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
       Escape(v.error) + "</div>\n";
  b += "<label for=\"j_username\">User name</label>\n"
       "<input type=\"text\" id=\"j_username\" name=\"j_username\" autocomplete=\"username\" "
       "autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"256\"" +
       invalid + (failed ? "" : " autofocus") + " value=\"" + Escape(v.username) + "\">\n";
  b += "<label for=\"j_password\">Password</label>\n"
       "<input type=\"password\" id=\"j_password\" name=\"j_password\" "
       "autocomplete=\"current-password\" required" +
       invalid + (failed ? " autofocus" : "") + ">\n";
  b +=
      std::string("<label class=\"check\"><input type=\"checkbox\" name=\"remember\" value=\"Y\"") +
      (v.remember ? " checked" : "") + "> Keep me signed in on this device</label>\n";
  b += "<button type=\"submit\">Sign in</button>\n</form>";
  return html::Render(status, {"Sign in", std::move(b), {v.return_to}});
}

http::Response ChangePassword(int status, const ChangePasswordView& v) {
  const bool failed = !v.error.empty();
  const std::string invalid =
      failed ? " aria-invalid=\"true\" aria-describedby=\"change-error\"" : "";
  std::string b;
  b += "<h1>Choose a new password</h1>\n<p class=\"muted\">The password of <strong>" +
       Escape(v.username) +
       "</strong> was set for you. Choose your own before you continue; it must have at least 8 "
       "characters.</p>\n";
  b += "<form method=\"post\" action=\"" + Escape(v.action) + "\">\n";
  b += HiddenFields(v.hidden) + html::Hidden("csrf", v.csrf) +
       html::Hidden("j_username", v.username) + "\n";
  b += "<div id=\"change-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
       Escape(v.error) + "</div>\n";
  b += "<input type=\"text\" name=\"username\" autocomplete=\"username\" value=\"" +
       Escape(v.username) + "\" hidden>\n";
  b += "<label for=\"j_password\">Current password</label>\n"
       "<input type=\"password\" id=\"j_password\" name=\"j_password\" "
       "autocomplete=\"current-password\" required autofocus>\n";
  b += "<label for=\"new_password\">New password</label>\n"
       "<input type=\"password\" id=\"new_password\" name=\"new_password\" "
       "autocomplete=\"new-password\" minlength=\"8\" maxlength=\"256\" required" +
       invalid + ">\n";
  b += "<label for=\"new_password_confirm\">New password again</label>\n"
       "<input type=\"password\" id=\"new_password_confirm\" name=\"new_password_confirm\" "
       "autocomplete=\"new-password\" minlength=\"8\" maxlength=\"256\" required" +
       invalid + ">\n";
  b += "<button type=\"submit\">Change password and continue</button>\n</form>";
  return html::Render(status, {"Choose a new password", std::move(b), {v.return_to}});
}

http::Response Consent(const ConsentView& v) {
  const std::string name = Escape(ClientName(v.client));
  std::string b;
  b += "<h1>" + name + " wants access to your account</h1>\n";
  b += "<p class=\"muted\">Signed in as <strong>" + Escape(v.user_id) + "</strong>. <a href=\"" +
       Escape(v.switch_user_href) + "\">Not you?</a></p>\n";
  if (v.scope.empty()) {
    b += "<p>It asks to know that you signed in, and for nothing else.</p>\n";
  } else {
    b += "<p>If you allow it, " + name + " will be able to:</p>\n<ul>\n";
    for (const auto& s : v.scope) {
      b += "<li>" + Escape(oauth::DescribeScope(s)) + " <code>" + Escape(s) + "</code></li>\n";
    }
    b += "</ul>\n";
  }
  if (!v.return_to.empty()) {
    b += "<p class=\"muted\">You will then return to <strong>" + Escape(v.return_to) +
         "</strong>. You can withdraw your permission at any time under "
         "<a href=\"" +
         Escape(v.base) + "consent\">Connected applications</a>.</p>\n";
  }
  b += "<form method=\"post\" action=\"" + Escape(v.base) + "consent\">\n" +
       HiddenFields(v.hidden) + html::Hidden("csrf", v.csrf) + "\n";
  b += "<div class=\"actions\">"
       "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button>"
       "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button></div>\n</form>";
  return html::Render(200, {"Allow access?", std::move(b), {v.return_to}});
}

http::Response ConsentList(const std::string& user_id, const std::vector<ConsentListItem>& items,
                           const std::string& csrf) {
  std::string b = "<h1>Connected applications</h1>\n<p class=\"muted\">Signed in as <strong>" +
                  Escape(user_id) + "</strong></p>\n";
  if (items.empty()) {
    b += "<p>You have not allowed any application to access your account.</p>";
  } else {
    b += "<table><thead><tr><th scope=\"col\">Application</th><th scope=\"col\">Access</th>"
         "<th scope=\"col\"><span class=\"muted\">Action</span></th></tr></thead><tbody>\n";
    for (const auto& item : items) {
      const auto& c = item.consent;
      std::string name = item.client_name.empty() ? c.client_id : item.client_name;
      b += "<tr><td>" + Escape(name) + "<br><span class=\"muted\">since " + Date(c.created_at) +
           "</span></td><td>";
      for (const auto& s : c.scope) b += Escape(oauth::DescribeScope(s)) + "<br>";
      b += "</td><td><form method=\"post\" action=\"consent/" + Escape(PercentEncode(c.client_id)) +
           "/revoke\">" + html::Hidden("csrf", csrf) +
           "<button type=\"submit\" class=\"secondary\" aria-label=\"Revoke access of " +
           Escape(name) + "\">Revoke</button></form></td></tr>\n";
    }
    b += "</tbody></table>";
  }
  return html::Render(200, {"Connected applications", std::move(b), {}});
}

http::Response LogoutConfirm(const LogoutView& v) {
  std::string b = "<h1>Sign out?</h1>\n<p>You are signed in as <strong>" + Escape(v.user_id) +
                  "</strong>. Signing out ends your session on this device; applications you "
                  "used keep the access you gave them until it expires.</p>\n";
  b += "<form method=\"post\" action=\"logout\">\n" + HiddenFields(v.hidden) +
       html::Hidden("csrf", v.csrf) +
       "\n<button type=\"submit\" autofocus>Sign out</button>\n</form>";
  return html::Render(200, {"Sign out", std::move(b), {v.return_to}});
}

http::Response SignedOut() {
  return html::Render(
      200, {"Signed out", "<h1>You are signed out</h1>\n<p>You can close this window.</p>", {}});
}

http::Response Redirect(int status, std::string location) {
  http::Response r;
  r.status = status;
  r.content_type.clear();
  r.With("Location", std::move(location));
  r.With("Cache-Control", "no-store");
  r.With("Referrer-Policy", "no-referrer");
  return r;
}

http::Response Message(int status, const std::string& title, const std::string& text) {
  return html::Render(status,
                      {title, "<h1>" + Escape(title) + "</h1>\n<p>" + Escape(text) + "</p>", {}});
}

http::Response ErrorPage(const Error& e, const std::string& restart_href) {
  std::string title = "Something went wrong";
  std::string text = "Portcullis could not complete this request. Please try again in a moment.";
  if (e.code == "ERR12025" || e.code == "ERR12026") {
    title = "This sign-in link cannot be used";
    text =
        "The application asked to send you back to an address it has not registered, so "
        "Portcullis will not send you there. Nothing about you was shared. Return to the "
        "application and try again, or tell its owner.";
  } else if (e.oauth_error == "invalid_request_uri") {
    title = "This sign-in link has expired";
    text =
        "The sign-in link was already used, has expired, or belongs to another application. "
        "Return to the application and start again.";
  } else if (e.code == "ERR12014") {
    title = "Unknown application";
    text = "The application that sent you here is not registered with Portcullis.";
  } else if (e.code == "ERR10043") {
    title = "Sign-in is not available";
    text = "Sign-in for this application is not set up correctly. Please tell its owner.";
  } else if (e.http_status == 403) {
    title = "Please start again";
    text =
        "For your safety this form could not be accepted: it was open for too long, it did not "
        "come from this site, or your browser did not keep the cookie it needs.";
  } else if (e.http_status == 429) {
    title = "Too many attempts";
    text = "There were too many failed sign-in attempts. Wait a few minutes and try again.";
  } else if (e.http_status >= 400 && e.http_status < 500) {
    title = "This sign-in link is not valid";
    text =
        "The application sent an incomplete or malformed request. Return to the application "
        "and try again.";
  }
  std::string b = "<h1>" + Escape(title) + "</h1>\n<p>" + Escape(text) + "</p>\n";
  if (!restart_href.empty()) {
    b += "<p><a href=\"" + Escape(restart_href) + "\">Start again</a></p>\n";
  }
  if (e.http_status < 500 && !e.description.empty()) {
    b += "<p class=\"muted\">Details: " + Escape(e.description) +
         (e.code.empty() ? "" : " (" + Escape(e.code) + ")") + "</p>";
  }
  http::Response r = html::Render(e.http_status, {title, std::move(b), {}});
  if (e.http_status == 503) r.With("Retry-After", "1");
  if (e.http_status == 429) {
    r.With("Retry-After", e.retry_after > 0 ? std::to_string(e.retry_after) : "60");
  }
  return r;
}

}  // namespace portcullis::api::code_pages
