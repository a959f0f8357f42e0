// The shared cookie helpers every page of the code service uses (sign-in and consent, device
// verification, logout): reading one cookie out of Cookie headers, and the Set-Cookie values.
#include "api/page_cookies.h"

#include <gtest/gtest.h>

namespace portcullis::api {
namespace {

http::Request WithCookies(std::initializer_list<std::string> values) {
  http::Request req;
  for (const auto& v : values) req.headers.emplace_back("cookie", v);
  return req;
}

TEST(PageCookies, ReadsOneCookieAcrossHeadersAndSpacing) {
  auto req = WithCookies({"a=1; portcullis_login=n1", " portcullis_sso = s-2 ;x=y"});
  EXPECT_EQ(RequestCookie(req, kLoginCookieName), "n1");
  EXPECT_EQ(RequestCookie(req, kSsoCookieName), "s-2");
  EXPECT_EQ(RequestCookie(req, "x"), "y");
  EXPECT_EQ(RequestCookie(req, "missing"), "");
  // A name is matched whole, never as a prefix or suffix of another.
  auto tricky = WithCookies({"xportcullis_sso=evil; portcullis_ssox=evil"});
  EXPECT_EQ(RequestCookie(tricky, kSsoCookieName), "");
  // Other headers are not cookies.
  http::Request other;
  other.headers.emplace_back("set-cookie", "portcullis_sso=nope");
  EXPECT_EQ(RequestCookie(other, kSsoCookieName), "");
}

TEST(PageCookies, SetCookieValues) {
  EXPECT_EQ(SetCookieValue(kSsoCookieName, "v", 3600, "Lax", true),
            "portcullis_sso=v; Max-Age=3600; HttpOnly; SameSite=Lax; Secure");
  EXPECT_EQ(SetCookieValue(kLoginCookieName, "n", -1, "Strict", false),
            "portcullis_login=n; HttpOnly; SameSite=Strict");
  // Deleting: what logout sends.
  EXPECT_EQ(SetCookieValue(kSsoCookieName, "", 0, "Lax", false),
            "portcullis_sso=; Max-Age=0; HttpOnly; SameSite=Lax");
}

}  // namespace
}  // namespace portcullis::api
