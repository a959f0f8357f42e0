#pragma once
// The admin side of refresh tokens (reference §11): list, get and revoke.
//
// Tokens are stored as TokenHash(token) only, so no call can show a token. Each row is named by
// its hash instead: JSON "tokenHash", repeated as "refreshToken" so light-oauth2's admin UI,
// which deletes by the "refreshToken" it listed, keeps working. GET and DELETE accept either
// the token itself (hashed here) or that hash. DELETE revokes the token's whole family (every
// rotation of it), so no earlier token of the chain can be replayed.
//
// Thread-safety: safe from any thread; every call blocks on the store (store pool only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "store/db.h"

namespace portcullis::oauth {

struct RefreshTokenInfo {
  std::string token_hash;
  std::string family_id;
  std::string client_id;
  std::string user_id;
  std::string user_type;
  std::string roles;
  std::string scope;
  std::string remember;  // Y | N
  std::string state;     // active | rotated | revoked
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

boost::json::object RefreshTokenToJson(const RefreshTokenInfo& t);

class RefreshTokenAdmin {
 public:
  RefreshTokenAdmin(store::Database& db, const Clock& clock);

  // Active, unexpired tokens whose userId starts with `user_id_prefix`, sorted by userId then
  // creation time.
  Result<std::vector<RefreshTokenInfo>> List(std::string_view user_id_prefix, int64_t offset,
                                             int64_t limit);
  // ERR12029 when neither the token nor a hash matches.
  Result<RefreshTokenInfo> Get(std::string_view token_or_hash);
  // Deletes the token's family; ERR12029 when unknown.
  Result<RefreshTokenInfo> Delete(std::string_view token_or_hash, std::string_view actor);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
