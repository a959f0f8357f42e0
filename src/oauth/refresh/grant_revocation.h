#pragma once
// Ending what a user or a client holds when their rights are cut (a password change or reset,
// a locked or deleted account, a revoked consent). Each call runs inside the caller's
// transaction, so the change and the revocation commit together or not at all.
//
// Refresh tokens are marked 'revoked', family by family (every token of a family carries the
// same user and client), not deleted: a later presentation is then refused as no longer valid
// (RFC 6749 §10.4, RFC 9700 §4.14.2). Unredeemed codes, and device grants the user approved
// but the device has not redeemed (RFC 8628), are expired, so the token endpoint refuses them.
// Access tokens already issued are short-lived JWTs and are not tracked per user.

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/error.h"
#include "oauth/code/code_store.h"
#include "oauth/code/session_store.h"
#include "oauth/device/device_store.h"
#include "oauth/refresh/refresh_token_store.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

// Ownership: borrows the stores, which must outlive it. Thread-safety: as the stores (safe from
// any thread; blocking, store pool only).
class GrantRevocation {
 public:
  GrantRevocation(RefreshTokenStore& refresh_tokens, AuthCodeStore& codes, SessionStore& sessions,
                  DeviceGrantStore& devices)
      : refresh_tokens_(refresh_tokens), codes_(codes), sessions_(sessions), devices_(devices) {}

  // Called inside RevokeUserGrants, before the user's SSO sessions are deleted, so that what
  // follows a session's end commits with it (back-channel logout queues its logout tokens:
  // oauth/logout/backchannel.h QueueUserLogout). Set before the first call; not synchronised.
  void OnUserSessionsEnd(std::function<Status(store::Tx&, std::string_view)> fn) {
    on_sessions_end_ = std::move(fn);
  }

  // Every refresh-token family, unredeemed code, approved device grant and SSO session of
  // `user_id`.
  Status RevokeUserGrants(store::Tx& tx, std::string_view user_id, int64_t now) const;
  // The refresh-token families, unredeemed codes and approved device grants of `user_id` at
  // `client_id` (a revoked consent). The user's SSO sessions stay: they are not bound to a
  // client.
  Status RevokeUserClientGrants(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                                int64_t now) const;
  // The refresh-token families issued in the SSO session `sid` of `user_id`, or in any session
  // of the user: what an ended session issued ends with it (UserAccess). The caller deletes the
  // sessions.
  Status RevokeSessionGrants(store::Tx& tx, std::string_view user_id, std::string_view sid,
                             int64_t now) const {
    return refresh_tokens_.RevokeForUserSid(tx, user_id, sid, now);
  }
  Status RevokeUserSessionGrants(store::Tx& tx, std::string_view user_id, int64_t now) const {
    return refresh_tokens_.RevokeForUserSessions(tx, user_id, now);
  }

  // The two as callables, for the services that end grants (UserService, Consents). They borrow
  // this object, which must outlive them.
  std::function<Status(store::Tx&, std::string_view, int64_t)> ForUser() const {
    return [this](store::Tx& tx, std::string_view user_id, int64_t now) {
      return RevokeUserGrants(tx, user_id, now);
    };
  }
  std::function<Status(store::Tx&, std::string_view, std::string_view, int64_t)> ForUserClient()
      const {
    return [this](store::Tx& tx, std::string_view user_id, std::string_view client_id,
                  int64_t now) { return RevokeUserClientGrants(tx, user_id, client_id, now); };
  }
  std::function<Status(store::Tx&, std::string_view, std::string_view, int64_t)> ForUserSession()
      const {
    return [this](store::Tx& tx, std::string_view user_id, std::string_view sid, int64_t now) {
      return RevokeSessionGrants(tx, user_id, sid, now);
    };
  }
  std::function<Status(store::Tx&, std::string_view, int64_t)> ForUserSessions() const {
    return [this](store::Tx& tx, std::string_view user_id, int64_t now) {
      return RevokeUserSessionGrants(tx, user_id, now);
    };
  }

 private:
  RefreshTokenStore& refresh_tokens_;
  AuthCodeStore& codes_;
  SessionStore& sessions_;
  DeviceGrantStore& devices_;
  std::function<Status(store::Tx&, std::string_view)> on_sessions_end_;
};

}  // namespace portcullis::oauth
