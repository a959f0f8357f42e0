#pragma once
// AuthCodeStore over the store driver (table auth_codes), for both SQLite and PostgreSQL.
// Redemption is one conditional UPDATE ... RETURNING, so concurrent redemptions, from this
// instance or another sharing the database, have exactly one winner. Borrows `db`, which must
// outlive it; thread-safe.

#include "oauth/code/code_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlAuthCodeStore final : public oauth::AuthCodeStore {
 public:
  explicit SqlAuthCodeStore(Database& db) : db_(db) {}

  Status Insert(const oauth::AuthCode& code) override;
  Result<std::optional<oauth::AuthCode>> Consume(Tx& tx, std::string_view code_hash,
                                                 std::string_view client_id,
                                                 std::string_view dpop_jkt, int64_t now) override;
  Result<std::optional<oauth::AuthCodeState>> Find(Tx& tx, std::string_view code_hash) override;
  Status RecordIssued(Tx& tx, std::string_view code_hash, std::string_view access_jti,
                      int64_t access_exp, std::string_view family_id) override;
  Status ExpireForUser(Tx& tx, std::string_view user_id, int64_t now) override;
  Status ExpireForUserClient(Tx& tx, std::string_view user_id, std::string_view client_id,
                             int64_t now) override;
  Status DeleteForUser(Tx& tx, std::string_view user_id) override;
  Status DeleteForClient(Tx& tx, std::string_view client_id) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
