#pragma once
// Authorization of admin calls: every admin API needs a bearer JWT issued by Portcullis that
// carries the scope the call needs (reference API specs: portal.r/portal.w, oauth.user.r/w,
// oauth.refresh_token.r/w, read:provider/write:provider, oauth.key.r/w).

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "http/message.h"

namespace portcullis::api {

struct Caller {
  std::string client_id;
  std::string user_id;
  std::vector<std::string> scopes;
};

class AdminAuth {
 public:
  virtual ~AdminAuth() = default;
  // 401 ERR10002 without a bearer token, ERR10000 invalid, ERR10001 expired; 403 ERR10005 when
  // the token lacks `required_scope`.
  virtual Result<Caller> Authorize(const http::Request& req,
                                   std::string_view required_scope) const = 0;
};

}  // namespace portcullis::api
