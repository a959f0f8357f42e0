#pragma once
// AdminAuth over our own access tokens: signature against the key ring, issuer, expiry, the
// revocation deny-list, the audience, then the scope. Cheap enough for the I/O thread.
//
// Audience (RFC 9068 §4, RFC 8707): a token is for the admin APIs when its `aud` contains the
// issuer or one of `admin_audiences` (admin.audience; by default token.audience, the `aud` of
// tokens requested without a resource). A token asked for another resource (`aud: svcc`) is
// refused with 401 ERR10000. So is any token whose JOSE header says `typ: payload+jwt`: those
// are payloads signed by POST /oauth2/signing for someone else to verify, never credentials.

#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "api/admin_auth.h"

namespace portcullis::oauth {
class TokenKeys;
class RevocationList;
class ClientCatalog;
}  // namespace portcullis::oauth

namespace portcullis::api {

class JwtAdminAuth final : public AdminAuth {
 public:
  // `clients` (may be null) tells whether the caller's client is trusted now.
  JwtAdminAuth(const oauth::TokenKeys& keys, const oauth::RevocationList& revoked,
               std::string issuer, std::vector<std::string> admin_audiences = {},
               const oauth::ClientCatalog* clients = nullptr)
      : keys_(keys),
        revoked_(revoked),
        issuer_(std::move(issuer)),
        audiences_(std::move(admin_audiences)),
        clients_(clients) {}

  Result<Caller> Authorize(const http::Request& req,
                           std::string_view required_scope) const override;

 private:
  bool ForAdmin(const boost::json::object& claims) const;

  const oauth::TokenKeys& keys_;
  const oauth::RevocationList& revoked_;
  std::string issuer_;
  std::vector<std::string> audiences_;
  const oauth::ClientCatalog* clients_;
};

}  // namespace portcullis::api
