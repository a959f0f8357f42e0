#include "api/jwt_admin_auth.h"

#include <strings.h>

#include "oauth/client/client.h"
#include "oauth/client/client_catalog.h"
#include "oauth/token/claims.h"
#include "oauth/token/token_service.h"
#include "verify/claims.h"

namespace portcullis::api {

bool JwtAdminAuth::ForAdmin(const boost::json::object& claims) const {
  auto accepted = [&](std::string_view aud) {
    return aud == issuer_ ||
           std::find(audiences_.begin(), audiences_.end(), aud) != audiences_.end();
  };
  auto aud = claims.if_contains("aud");
  if (!aud) return false;
  if (aud->is_string()) return accepted(aud->as_string());
  if (aud->is_array()) {
    for (const auto& a : aud->as_array()) {
      if (a.is_string() && accepted(a.as_string())) return true;
    }
  }
  return false;
}

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
  // RFC 8725 §3.11: explicit typing keeps one kind of JWT from being taken for another.
  if (verify::IsSignedPayloadTyp(verify::HeaderTyp(token))) {
    return Fail(Error::Status("ERR10000", "A signed payload is not an access token."));
  }
  auto str = [&](std::string_view k) { return oauth::StringClaim(*claims, k); };
  if (str("iss") != issuer_) return Fail(Error::Status("ERR10000", "Token from another issuer."));
  if (revoked_.Contains(str("jti"))) return Fail(Error::Status("ERR10000", "Token revoked."));
  if (!ForAdmin(*claims)) {
    return Fail(Error::Status("ERR10000", "The token's audience is not the admin APIs."));
  }
  Caller caller;
  caller.client_id = str("client_id");
  caller.user_id = str("user_id");
  caller.roles = str("roles");
  caller.scopes = oauth::ScopeClaim(*claims);

  if (std::find(caller.scopes.begin(), caller.scopes.end(), required_scope) ==
      caller.scopes.end()) {
    return Fail(
        Error::Status("ERR10005", "The token lacks scope " + std::string(required_scope) + "."));
  }
  if (clients_ != nullptr && !caller.client_id.empty()) {
    auto c = clients_->Find(caller.client_id);
    caller.trusted = c && c->IsTrusted();
  }
  return caller;
}

}  // namespace portcullis::api
