#pragma once
// Ending what a user or a client holds when their rights are cut (a password change or reset,
// a locked or deleted account, a revoked consent). Each call runs inside the caller's
// transaction, so the change and the revocation commit together or not at all.
//
// Refresh tokens are marked 'revoked', family by family (every token of a family carries the
// same user and client), not deleted: a later presentation is then refused as no longer valid
// (RFC 6749 §10.4, RFC 9700 §4.14.2). Unredeemed codes are expired, so the token endpoint
// refuses them. Access tokens already issued are short-lived JWTs and are not tracked per user.

#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "oauth/code/code_store.h"
#include "oauth/refresh/refresh_token_store.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

// Ownership: borrows the stores, which must outlive it. Thread-safety: as the stores (safe from
// any thread; blocking, store pool only).
class GrantRevocation {
 public:
  GrantRevocation(RefreshTokenStore& refresh_tokens, AuthCodeStore& codes)
      : refresh_tokens_(refresh_tokens), codes_(codes) {}

  // Every refresh-token family, unredeemed code and SSO session of `user_id`.
  Status RevokeUserGrants(store::Tx& tx, std::string_view user_id, int64_t now) const;
  // The refresh-token families and unredeemed codes of `user_id` at `client_id` (a revoked
  // consent). The user's SSO sessions stay: they are not bound to a client.
  Status RevokeUserClientGrants(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                                int64_t now) const;

 private:
  RefreshTokenStore& refresh_tokens_;
  AuthCodeStore& codes_;
};

// DEPRECATED during the store reshaping (issue 14): the same over SQL sent through `tx`, for the
// callers not yet given a GrantRevocation (UserService, ConsentStore). Removed once they are.
Status RevokeUserGrants(store::Tx& tx, std::string_view user_id, int64_t now);
Status RevokeUserClientGrants(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                              int64_t now);

}  // namespace portcullis::oauth
