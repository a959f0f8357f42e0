#pragma once
// The code service's browser cookies, shared by every page that reads or sets them (sign-in and
// consent in api/code_api.cc, the device verification page in api/device_api.cc, logout in
// api/logout_api.cc): one name and one set of attributes, so a sign-in on any page is one SSO
// session.
//
//   portcullis_sso    the SSO session, SameSite=Lax, HttpOnly
//   portcullis_login  the pre-login nonce binding login-form CSRF tokens, SameSite=Strict
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"

namespace portcullis::api {

inline constexpr std::string_view kSsoCookieName = "portcullis_sso";
inline constexpr std::string_view kLoginCookieName = "portcullis_login";

// The value of cookie `name` (RFC 6265 §5.4, possibly over several Cookie headers); empty when
// absent.
std::string RequestCookie(const http::Request& req, std::string_view name);
// A Set-Cookie value: HttpOnly, the given SameSite, Secure when asked. max_age < 0: a
// browser-session cookie; 0: delete it. No Path: the directory of the page (/oauth2).
std::string SetCookieValue(std::string_view name, std::string_view value, int64_t max_age,
                           std::string_view same_site, bool secure);

// A page's form post: Content-Type application/x-www-form-urlencoded, blanks around it and
// parameters (charset) allowed.
bool IsPageForm(const http::Request& req);

}  // namespace portcullis::api
