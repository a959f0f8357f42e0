#pragma once
// AdminAuth over our own access tokens: signature against the key ring, issuer, expiry, the
// revocation deny-list, then the scope. Cheap enough for the I/O thread.

#include "api/admin_auth.h"

namespace portcullis::oauth {
class TokenKeys;
class RevocationList;
}  // namespace portcullis::oauth

namespace portcullis::api {

class JwtAdminAuth final : public AdminAuth {
 public:
  JwtAdminAuth(const oauth::TokenKeys& keys, const oauth::RevocationList& revoked,
               std::string issuer)
      : keys_(keys), revoked_(revoked), issuer_(std::move(issuer)) {}

  Result<Caller> Authorize(const http::Request& req,
                           std::string_view required_scope) const override;

 private:
  const oauth::TokenKeys& keys_;
  const oauth::RevocationList& revoked_;
  std::string issuer_;
};

}  // namespace portcullis::api
