#pragma once
// The admin side of refresh tokens (reference §11): list, get and revoke.
//
// Tokens are stored as TokenHash(token) only, so no call can show a token. Each row is named by
// its hash instead: JSON "tokenHash", repeated as "refreshToken" so light-oauth2's admin UI,
// which deletes by the "refreshToken" it listed, keeps working. GET and DELETE accept either
// the token itself (hashed here) or that hash. DELETE revokes the token's whole family (every
// rotation of it), so no earlier token of the chain can be replayed.
//
// Ownership: borrows the database (for transactions only: it sends no SQL), the token store,
// the audit log and the clock; all must outlive it.
// Thread-safety: safe from any thread; every call blocks on the store (store pool only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/audit/audit.h"
#include "oauth/refresh/refresh_token_store.h"
#include "store/db.h"

namespace portcullis::oauth {

// A token's row as the admin API shows it.
using RefreshTokenInfo = RefreshToken;

boost::json::object RefreshTokenToJson(const RefreshTokenInfo& t);

class RefreshTokenAdmin {
 public:
  RefreshTokenAdmin(store::Database& db, RefreshTokenStore& tokens, audit::AuditLog& audit,
                    const Clock& clock);

  struct Page {
    std::vector<RefreshTokenInfo> tokens;
    int64_t total = 0;  // every token matching the filter, not just this page
  };
  // Active, unexpired tokens matching `filter` (user id prefix, client id), sorted by userId
  // then creation time, with the total count.
  Result<Page> List(const RefreshTokenFilter& filter, int64_t offset, int64_t limit);
  // Active, unexpired tokens of every user and client (the dashboard).
  Result<int64_t> CountActive();
  // ERR12029 when neither the token nor a hash matches.
  Result<RefreshTokenInfo> Get(std::string_view token_or_hash);
  // Deletes the token's family, with an audit entry in the same transaction; ERR12029 when
  // unknown.
  Result<RefreshTokenInfo> Delete(std::string_view token_or_hash, std::string_view actor);

 private:
  store::Database& db_;
  RefreshTokenStore& tokens_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
