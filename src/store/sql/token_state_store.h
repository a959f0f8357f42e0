#pragma once
// The token endpoint's other state over the store driver, for both SQLite and PostgreSQL:
// reference tokens (table reference_tokens), the deny-list (revoked_tokens) and the client
// assertion replay cache (client_assertion_jtis). Each borrows `db`, which must outlive it;
// thread-safe.

#include "oauth/token/token_state_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlReferenceTokenStore final : public oauth::ReferenceTokenStore {
 public:
  explicit SqlReferenceTokenStore(Database& db) : db_(db) {}

  Status Insert(Tx& tx, const oauth::ReferenceToken& token) override;
  Status Insert(const oauth::ReferenceToken& token) override;
  Result<std::optional<oauth::ReferenceToken>> Find(std::string_view token_hash) override;
  Status Delete(std::string_view token_hash) override;
  Status DeleteForClient(Tx& tx, std::string_view client_id) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

// Add notifies ("revoked", jti) in the same transaction as the insert.
class SqlDenyList final : public oauth::DenyListStore {
 public:
  explicit SqlDenyList(Database& db) : db_(db) {}

  Status Add(std::string_view jti, int64_t expires_at) override;
  Result<std::vector<std::pair<std::string, int64_t>>> LoadSince(int64_t cutoff) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

// A replay is recognised by the primary key: the second insert of a key fails as a unique
// violation, whichever instance made the first.
class SqlAssertionJtiStore final : public oauth::AssertionJtiStore {
 public:
  explicit SqlAssertionJtiStore(Database& db) : db_(db) {}

  Result<bool> Remember(std::string_view key, std::string_view client_id,
                        int64_t expires_at) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
