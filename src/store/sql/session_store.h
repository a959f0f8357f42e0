#pragma once
// SessionStore over the store driver (table sso_sessions), for SQLite and PostgreSQL.
// Thread-safe; borrows `db`, which must outlive it.

#include "oauth/code/session_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlSessionStore final : public oauth::SessionStore {
 public:
  explicit SqlSessionStore(Database& db) : db_(db) {}

  Status Insert(std::string_view key, const oauth::SsoSession& session) override;
  Result<std::optional<oauth::SsoSession>> Find(std::string_view key, int64_t now) override;
  Status Delete(std::string_view key) override;
  Status DeleteIn(Tx& tx, std::string_view key) override;
  Status DeleteForUser(Tx& tx, std::string_view user_id) override;
  Status Purge(int64_t now) override;
  Result<std::vector<oauth::SsoSession>> ListForUser(std::string_view user_id,
                                                     int64_t now) override;
  Result<std::vector<oauth::SsoSession>> ListForUser(Tx& tx, std::string_view user_id,
                                                     int64_t now) override;
  Result<bool> DeleteBySid(Tx& tx, std::string_view user_id, std::string_view sid) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
