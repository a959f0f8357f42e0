#pragma once
// The second-factor pages of the sign-in (api/code_api.cc): the code page shown after a correct
// password, and the enrolment page for a user who must set up a second factor on the way. Both
// post back to the authorization endpoint with the authorization request in hidden fields, the
// user id (otp_user) and a CSRF token bound to the user and the browser's login cookie.
// Every value is escaped.

#include <string>
#include <vector>

#include "common/encoding.h"
#include "http/message.h"
#include "oauth/client/client.h"

namespace portcullis::api::totp_pages {

struct CodeView {
  std::string action;  // "code" or "authorize"
  const oauth::Client* client = nullptr;
  FormFields hidden;  // the authorization request, otp_user, remember
  std::string csrf;
  std::string error;  // plain text; empty for none
  std::string return_to;
  // Enrolment: shown once when the enrolment was just made; empty when re-asking for the code.
  bool enrol = false;
  std::string secret;  // base32
  std::string otpauth_uri;
  std::string qr_svg;  // trusted markup from oauth::qr::Svg (inline: no data: URI under the CSP)
  std::vector<std::string> recovery_codes;
};
http::Response Code(int status, const CodeView& view);

}  // namespace portcullis::api::totp_pages
