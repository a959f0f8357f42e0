#include "api/jwt_admin_auth.h"

#include <strings.h>

#include <algorithm>

#include "oauth/client/client.h"
#include "oauth/token/token_service.h"

namespace portcullis::api {

Result<Caller> JwtAdminAuth::Authorize(const http::Request& req,
                                       std::string_view required_scope) const {
  auto authz = req.Header("authorization");
  if (!authz || authz->size() < 8 || strncasecmp(authz->data(), "bearer ", 7) != 0) {
    Error e = Error::Status("ERR10002");
    return Fail(std::move(e));
  }
  std::string_view token = authz->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto claims = keys_.Verify(token);
  if (!claims) return Fail(claims.error());
  auto str = [&](std::string_view k) -> std::string {
    auto v = claims->if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (str("iss") != issuer_) return Fail(Error::Status("ERR10000", "Token from another issuer."));
  if (revoked_.Contains(str("jti"))) return Fail(Error::Status("ERR10000", "Token revoked."));
  Caller caller;
  caller.client_id = str("client_id");
  caller.user_id = str("user_id");
  if (auto s = claims->if_contains("scope")) {
    if (s->is_string()) {
      caller.scopes = oauth::SplitScope(s->as_string());
    } else if (s->is_array()) {
      for (const auto& v : s->as_array()) {
        if (v.is_string()) caller.scopes.emplace_back(v.as_string());
      }
    }
  }
  if (std::find(caller.scopes.begin(), caller.scopes.end(), required_scope) ==
      caller.scopes.end()) {
    return Fail(
        Error::Status("ERR10005", "The token lacks scope " + std::string(required_scope) + "."));
  }
  return caller;
}

}  // namespace portcullis::api
