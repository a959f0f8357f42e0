#pragma once
// PushedRequestStore over the store driver (table pushed_requests), for SQLite and PostgreSQL.
// Consumption is one conditional UPDATE, so concurrent uses, from this instance or another
// sharing the database, have exactly one winner. Borrows `db`, which must outlive it;
// thread-safe.

#include "oauth/code/par_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlPushedRequestStore final : public oauth::PushedRequestStore {
 public:
  explicit SqlPushedRequestStore(Database& db) : db_(db) {}

  Result<bool> Insert(const oauth::PushedRequest& request) override;
  Result<std::optional<oauth::PushedRequest>> Find(std::string_view reference_hash) override;
  Result<bool> Consume(std::string_view reference_hash, std::string_view client_id,
                       int64_t valid_after, int64_t now) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
