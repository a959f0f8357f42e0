#pragma once
// RefreshTokenStore over the store driver (table refresh_tokens), for both SQLite and
// PostgreSQL. Rotation is one conditional UPDATE (WHERE state = 'active'), so concurrent
// rotations, from this instance or another sharing the database, have exactly one winner.
// Borrows `db`, which must outlive it; thread-safe.

#include "oauth/refresh/refresh_token_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlRefreshTokenStore final : public oauth::RefreshTokenStore {
 public:
  explicit SqlRefreshTokenStore(Database& db) : db_(db) {}

  Status Insert(Tx& tx, const oauth::RefreshToken& token) override;
  Result<bool> Import(Tx& tx, const oauth::RefreshToken& token) override;
  Result<std::optional<oauth::RefreshToken>> Find(Tx& tx, std::string_view token_hash) override;
  Result<std::optional<oauth::RefreshToken>> Find(std::string_view token_hash) override;
  Result<bool> Rotate(Tx& tx, std::string_view token_hash, int64_t now) override;
  Status SetScope(Tx& tx, std::string_view token_hash, std::string_view scope) override;
  Status RevokeFamily(Tx& tx, std::string_view family_id, std::optional<int64_t> at) override;
  Status RevokeForUser(Tx& tx, std::string_view user_id, int64_t now) override;
  Status RevokeForUserClient(Tx& tx, std::string_view user_id, std::string_view client_id,
                             int64_t now) override;
  Status RevokeForUserSid(Tx& tx, std::string_view user_id, std::string_view sid,
                          int64_t now) override;
  Status RevokeForUserSessions(Tx& tx, std::string_view user_id, int64_t now) override;
  Result<std::vector<oauth::RefreshToken>> Family(Tx& tx, std::string_view family_id) override;
  Result<int64_t> DeleteFamily(Tx& tx, std::string_view family_id) override;
  Status DeleteForUser(Tx& tx, std::string_view user_id) override;
  Status DeleteForClient(Tx& tx, std::string_view client_id) override;
  Result<std::vector<oauth::RefreshToken>> ListActive(const oauth::RefreshTokenFilter& filter,
                                                      int64_t now, int64_t offset,
                                                      int64_t limit) override;
  Result<int64_t> CountActive(const oauth::RefreshTokenFilter& filter, int64_t now) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
