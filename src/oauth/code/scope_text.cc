#include "oauth/code/scope_text.h"

#include <array>
#include <utility>

namespace portcullis::oauth {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kKnown = {{
    {"openid", "Confirm who you are"},
    {"profile", "See your name and basic profile"},
    {"email", "See your e-mail address"},
    {"address", "See your postal address"},
    {"phone", "See your phone number"},
    {"offline_access", "Keep access when you are not using it"},
    {"portal.r", "Read the portal's settings and registrations"},
    {"portal.w", "Change the portal's settings and registrations"},
    {"oauth.user.r", "Read user accounts"},
    {"oauth.user.w", "Change user accounts"},
}};

std::string Readable(std::string_view api) {
  std::string out(api);
  for (char& c : out) {
    if (c == '_' || c == '-' || c == '.' || c == ':' || c == '/') c = ' ';
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string DescribeScope(std::string_view scope) {
  for (const auto& [name, text] : kKnown) {
    if (name == scope) return std::string(text);
  }
  for (std::string_view read : {".r", ".read"}) {
    if (EndsWith(scope, read)) {
      return "Read your " + Readable(scope.substr(0, scope.size() - read.size())) + " data";
    }
  }
  for (std::string_view write : {".w", ".write"}) {
    if (EndsWith(scope, write)) {
      return "Change your " + Readable(scope.substr(0, scope.size() - write.size())) + " data";
    }
  }
  if (StartsWith(scope, "read:")) return "Read your " + Readable(scope.substr(5)) + " data";
  if (StartsWith(scope, "write:")) return "Change your " + Readable(scope.substr(6)) + " data";
  return "Use " + std::string(scope);
}

}  // namespace portcullis::oauth
