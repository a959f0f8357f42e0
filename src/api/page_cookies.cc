#include "api/page_cookies.h"

namespace portcullis::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string RequestCookie(const http::Request& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k != "cookie") continue;
    std::string_view s = v;
    while (!s.empty()) {
      size_t semi = s.find(';');
      std::string_view pair = Trim(s.substr(0, semi));
      s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
        return std::string(Trim(pair.substr(eq + 1)));
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

}  // namespace portcullis::api
