#include "api/html.h"

#include <gtest/gtest.h>

#include "api/code_api_pages.h"

namespace portcullis::api {
namespace {

std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(HtmlTest, EscapesMarkupAndQuotes) {
  EXPECT_EQ(html::Escape("<a href=\"x\" title='y'>&amp;</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(html::Hidden("st\"ate", "\"><script>"),
            "<input type=\"hidden\" name=\"st&quot;ate\" value=\"&quot;&gt;&lt;script&gt;\">");
}

TEST(HtmlTest, PagesCarrySecurityHeaders) {
  auto r = html::Render(200, {"T<", "<p>b</p>", {"https://app.example.com"}});
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>T&lt; - Portcullis</title>"), std::string::npos);
  std::string csp = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("style-src 'sha256-"), std::string::npos);
  EXPECT_NE(csp.find("form-action 'self' https://app.example.com;"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("script-src"), std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
}

TEST(HtmlTest, CspSourceIsTheOriginOrNothing) {
  EXPECT_EQ(html::CspSource("https://app.example.com:8443/cb?x=1"), "https://app.example.com:8443");
  EXPECT_EQ(html::CspSource("http://127.0.0.1:9000/cb"), "http://127.0.0.1:9000");
  EXPECT_EQ(html::CspSource("http://[::1]:9000/cb"), "http://[::1]:9000");
  EXPECT_EQ(html::CspSource("com.example.app:/oauth"), "com.example.app:");
  EXPECT_EQ(html::CspSource("https://a.example;script-src *"), "");
  EXPECT_EQ(html::CspSource("https://u@a.example/"), "");
  EXPECT_EQ(html::CspSource("not a uri"), "");
  EXPECT_EQ(html::CspSource(""), "");
}

TEST(HtmlTest, LoginPageEscapesEverythingAndIsAccessible) {
  oauth::Client c;
  c.client_name = "<b>Evil</b>";
  code_pages::LoginView v;
  v.action = "code";
  v.client = &c;
  v.hidden = {{"state", "\"><script>alert(1)</script>"}};
  v.csrf = "1.abc";
  v.username = "<img src=x>";
  v.error = "The user name or password is incorrect.";
  auto r = code_pages::Login(200, v);
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  EXPECT_EQ(r.body.find("<b>Evil"), std::string::npos);
  EXPECT_EQ(r.body.find("<img"), std::string::npos);
  EXPECT_NE(r.body.find("&lt;b&gt;Evil&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(r.body.find("<label for=\"j_username\">"), std::string::npos);
  EXPECT_NE(r.body.find("<label for=\"j_password\">"), std::string::npos);
  EXPECT_NE(r.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(r.body.find("aria-describedby=\"login-error\""), std::string::npos);
  EXPECT_NE(r.body.find("name=\"csrf\" value=\"1.abc\""), std::string::npos);
  // After an error the password field takes the focus.
  size_t pw = r.body.find("id=\"j_password\"");
  EXPECT_NE(r.body.find("autofocus", pw), std::string::npos);
}

// authorize: the form_post answer page (OAuth 2.0 Form Post Response Mode).
TEST(HtmlTest, FormPostPageRunsOnlyItsOwnScriptAndPostsToTheRedirectUri) {
  auto r = code_pages::FormPost("https://app.example.com/cb?t=a&b",
                                {{"code", "c"}, {"state", "\"><script>alert(1)</script>"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<form method=\"post\" action=\"https://app.example.com/cb?t=a&amp;b\">"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""),
            std::string::npos);
  EXPECT_EQ(r.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(r.body.find("<noscript>"), std::string::npos);
  std::string csp = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'; script-src 'sha256-"), std::string::npos) << csp;
  EXPECT_NE(csp.find("; form-action https://app.example.com;"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
}

}  // namespace
}  // namespace portcullis::api
