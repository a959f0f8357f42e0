#pragma once
// Persistence of single sign-on sessions (table sso_sessions). Rows are keyed by the session
// key, a hash of the cookie (SsoSessions::Key in sso_session.h), never by the cookie itself.
// The SQL implementation is store::SqlSessionStore (store/sql/session_store.h); unit tests use
// MemorySessionStore (memory_session_store.h).
//
// Insert, Find, Delete and Purge stand alone (one statement each). DeleteForUser runs inside the
// caller's transaction: it is part of ending what a user holds (grant revocation), which commits
// together with the change that caused it.
//
// Thread-safety: implementations are safe from many threads at once. Calls block (store I/O):
// never on an I/O thread. Nothing borrowed outlives a call.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

struct SsoSession {
  std::string user_id;
  bool remember = false;
  int64_t created_at = 0;  // when the user signed in: OpenID Connect's auth_time
  int64_t expires_at = 0;
  // The session's public id (OIDC Back-Channel Logout §2.1 "sid"): random, unrelated to the
  // cookie. Empty for sessions made before it existed.
  std::string sid;
  std::string amr;  // how the user signed in: space-separated RFC 8176 values ("pwd")
  std::string acr;  // empty: no acr asserted
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Stores `session` under `key` (keys are 256-bit random values hashed: no collisions).
  virtual Status Insert(std::string_view key, const SsoSession& session) = 0;
  // The session under `key` if it expires after `now`; nullopt when unknown or expired.
  virtual Result<std::optional<SsoSession>> Find(std::string_view key, int64_t now) = 0;
  // Ends one session; unknown keys are fine.
  virtual Status Delete(std::string_view key) = 0;
  // The same inside `tx`: a sign-out that queues back-channel logout tokens commits both
  // together (oauth/logout/backchannel.h).
  virtual Status DeleteIn(store::Tx& tx, std::string_view key) = 0;
  // Ends every session of `user_id`, whatever realm signed them in, inside `tx`.
  virtual Status DeleteForUser(store::Tx& tx, std::string_view user_id) = 0;
  // Deletes the sessions that expired at or before `now`.
  virtual Status Purge(int64_t now) = 0;

  // The user's sessions that expire after `now`, newest sign-in first (ties by sid): what an
  // administrator sees on the console's user page. Keys are not returned (they stay secret).
  virtual Result<std::vector<SsoSession>> ListForUser(std::string_view user_id, int64_t now) = 0;
  // The same inside `tx` (a revocation that counts what it ends: no second pool connection
  // while the transaction holds one).
  virtual Result<std::vector<SsoSession>> ListForUser(store::Tx& tx, std::string_view user_id,
                                                      int64_t now) = 0;
  // Ends the session with public id `sid` if it belongs to `user_id`, inside `tx`. False when
  // there is none (unknown sid, or another user's: the same answer). Empty sids match nothing.
  virtual Result<bool> DeleteBySid(store::Tx& tx, std::string_view user_id,
                                   std::string_view sid) = 0;
};

}  // namespace portcullis::oauth
