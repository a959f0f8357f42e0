#include "api/jwt_admin_auth.h"

#include <strings.h>

#include <algorithm>

#include "oauth/client/client.h"
#include "oauth/token/claims.h"
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
  auto str = [&](std::string_view k) { return oauth::StringClaim(*claims, k); };
  if (str("iss") != issuer_) return Fail(Error::Status("ERR10000", "Token from another issuer."));
  if (revoked_.Contains(str("jti"))) return Fail(Error::Status("ERR10000", "Token revoked."));
  Caller caller;
  caller.client_id = str("client_id");
  caller.user_id = str("user_id");
  caller.scopes = oauth::ScopeClaim(*claims);

  if (std::find(caller.scopes.begin(), caller.scopes.end(), required_scope) ==
      caller.scopes.end()) {
    return Fail(
        Error::Status("ERR10005", "The token lacks scope " + std::string(required_scope) + "."));
  }
  return caller;
}

}  // namespace portcullis::api
