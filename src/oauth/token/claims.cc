#include "oauth/token/claims.h"

#include <algorithm>

#include "oauth/client/client.h"

namespace portcullis::oauth {

std::string StringClaim(const boost::json::object& claims, std::string_view name) {
  auto v = claims.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::vector<std::string> ScopeClaim(const boost::json::object& claims) {
  std::vector<std::string> out;
  auto v = claims.if_contains("scope");
  if (!v) return out;
  if (v->is_string()) return SplitScope(v->as_string());
  if (v->is_array()) {
    for (const auto& s : v->as_array()) {
      if (s.is_string()) out.emplace_back(s.as_string());
    }
  }
  return out;
}

bool LooksLikeJwt(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2;
}

}  // namespace portcullis::oauth
