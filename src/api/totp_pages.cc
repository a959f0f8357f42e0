#include "api/totp_pages.h"

#include "api/html.h"

namespace portcullis::api::totp_pages {

using html::Escape;

http::Response Code(int status, const CodeView& v) {
  const bool failed = !v.error.empty();
  std::string name = v.client == nullptr             ? "the application"
                     : v.client->client_name.empty() ? v.client->client_id
                                                     : v.client->client_name;
  std::string b;
  if (v.enrol) {
    b += "<h1>Set up a second factor</h1>\n<p class=\"muted\"><strong>" + Escape(name) +
         "</strong> needs a code from an authenticator app as well as your password.</p>\n";
    if (!v.secret.empty()) {
      b += "<p>Scan the QR code with your authenticator app, or add the account with the key "
           "below (or open the link on the device that has the app), then enter the code it "
           "shows.</p>\n";
      if (!v.qr_svg.empty()) b += "<p id=\"totp-qr\">" + v.qr_svg + "</p>\n";
      b += "<p>Key: <code id=\"totp-secret\">" + Escape(v.secret) + "</code></p>\n";
      b += "<p><a id=\"totp-uri\" href=\"" + Escape(v.otpauth_uri) +
           "\">Open in an authenticator app</a></p>\n";
      b += "<p>Recovery codes: each one signs you in once if you lose the app. Keep them "
           "somewhere safe; they are shown only now.</p>\n<ul id=\"recovery-codes\">\n";
      for (const auto& c : v.recovery_codes) b += "<li><code>" + Escape(c) + "</code></li>\n";
      b += "</ul>\n";
    } else {
      b += "<p>Enter the code your authenticator app shows for the key you just added.</p>\n";
    }
  } else {
    b += "<h1>Enter your code</h1>\n<p class=\"muted\">to continue to <strong>" + Escape(name) +
         "</strong>: the 6-digit code from your authenticator app, or one of your recovery "
         "codes.</p>\n";
  }
  b += "<form method=\"post\" action=\"" + Escape(v.action) + "\">\n";
  for (const auto& [k, val] : v.hidden) b += html::Hidden(k, val);
  b += html::Hidden("csrf", v.csrf) + "\n";
  b += "<div id=\"otp-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
       Escape(v.error) + "</div>\n";
  b += std::string("<label for=\"otp_code\">") + (v.enrol ? "Code" : "Code or recovery code") +
       "</label>\n<input type=\"text\" id=\"otp_code\" name=\"otp_code\" "
       "autocomplete=\"one-time-code\" autocapitalize=\"none\" spellcheck=\"false\" required "
       "maxlength=\"32\" autofocus" +
       (failed ? " aria-invalid=\"true\" aria-describedby=\"otp-error\"" : "") + ">\n";
  b += std::string("<button type=\"submit\">") + (v.enrol ? "Confirm" : "Continue") +
       "</button>\n</form>";
  return html::Render(
      status,
      {v.enrol ? "Set up a second factor" : "Enter your code", std::move(b), {v.return_to}});
}

}  // namespace portcullis::api::totp_pages
