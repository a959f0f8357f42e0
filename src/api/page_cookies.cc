#include "api/page_cookies.h"

#include <strings.h>

#include "common/encoding.h"

namespace portcullis::api {

std::string RequestCookie(const http::Request& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k != "cookie") continue;
    std::string_view s = v;
    while (!s.empty()) {
      size_t semi = s.find(';');
      std::string_view pair = TrimBlanks(s.substr(0, semi));
      s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && TrimBlanks(pair.substr(0, eq)) == name) {
        return std::string(TrimBlanks(pair.substr(eq + 1)));
      }
    }
  }
  return {};
}

std::string SetCookieValue(std::string_view name, std::string_view value, int64_t max_age,
                           std::string_view same_site, bool secure) {
  std::string c(name);
  c += '=';
  c += value;
  if (max_age >= 0) c += "; Max-Age=" + std::to_string(max_age);
  c += "; HttpOnly; SameSite=";
  c += same_site;
  if (secure) c += "; Secure";
  return c;
}

bool IsPageForm(const http::Request& req) {
  auto ct = req.Header("content-type");
  if (!ct) return false;
  static constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  std::string_view v = TrimBlanks(*ct);
  return v.size() >= kForm.size() && strncasecmp(v.data(), kForm.data(), kForm.size()) == 0 &&
         (v.size() == kForm.size() || v[kForm.size()] == ';' || v[kForm.size()] == ' ');
}

}  // namespace portcullis::api
