#pragma once
// Remembered consent decisions (table consents): one row per user and client with the scopes
// the user agreed to. A later request for scopes within them is not asked again; one that asks
// for more is, and agreeing adds the new scopes. A consent lasts until the user revokes it (or
// the client is deleted: the row cascades).
//
// Thread-safety: all members may be called from any thread; every call blocks on the store.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace portcullis::store {
class Database;
}

namespace portcullis::oauth {

struct Consent {
  std::string client_id;
  std::vector<std::string> scope;
  int64_t created_at = 0;  // when it was last granted or widened
};

class ConsentStore {
 public:
  ConsentStore(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // True when the user has agreed to every scope in `scope` for the client.
  Result<bool> Covers(std::string_view user_id, std::string_view client_id,
                      const std::vector<std::string>& scope) const;
  // Records agreement to `scope`, added to what was agreed before.
  Status Grant(std::string_view user_id, std::string_view client_id,
               const std::vector<std::string>& scope);
  // Also revokes the user's refresh tokens and unredeemed codes at the client, in the same
  // transaction. False when there was no consent to revoke.
  Result<bool> Revoke(std::string_view user_id, std::string_view client_id);
  // The user's consents, by client id.
  Result<std::vector<Consent>> List(std::string_view user_id) const;

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
