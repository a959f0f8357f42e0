#pragma once
// Authorization of admin calls: every admin API needs a bearer JWT issued by Portcullis for
// the admin APIs (its `aud` names the issuer or an admin.audience) that carries the scope the
// call needs (reference API specs: portal.r/portal.w, oauth.user.r/w, oauth.refresh_token.r/w,
// read:provider/write:provider, oauth.key.r/w). What a caller may then grant is decided by the
// domain services from its Authority (oauth/client/authority.h).

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "http/message.h"
#include "oauth/client/authority.h"

namespace portcullis::api {

struct Caller {
  std::string client_id;
  std::string user_id;
  std::string roles;  // the token's `roles` claim (user tokens)
  std::vector<std::string> scopes;
  bool trusted = false;  // the caller's own client is trusted, as the catalog says now
};

// What the caller may grant (authority.h rules).
oauth::Authority AuthorityOf(const Caller& caller);

// RenderError plus the RFC 6750 §3 challenge: `WWW-Authenticate: Bearer` on 401 (with
// error="invalid_token" when a token was presented, §3.1) and error="insufficient_scope" on
// 403. For every admin route's authorization failure.
http::Response RenderAuthError(const Error& error);

class AdminAuth {
 public:
  virtual ~AdminAuth() = default;
  // 401 ERR10002 without a bearer token, ERR10000 invalid, ERR10001 expired; 403 ERR10005 when
  // the token lacks `required_scope`.
  virtual Result<Caller> Authorize(const http::Request& req,
                                   std::string_view required_scope) const = 0;
};

}  // namespace portcullis::api
