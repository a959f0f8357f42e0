#pragma once
// JobLease over the store driver (table job_locks), the same SQL on SQLite and PostgreSQL.
// ARCHITECTURE.md suggests PostgreSQL advisory locks, but they bind to one pooled connection,
// which this pool does not pin; a row with an expiry works on both backends.

#include "oauth/schedule/job_lease.h"
#include "store/db.h"

namespace portcullis::store {

class SqlJobLease final : public oauth::JobLease {
 public:
  // `db` must outlive this object.
  explicit SqlJobLease(Database& db) : db_(db) {}

  Result<bool> Hold(std::string_view name, std::string_view holder, int64_t now,
                    int64_t expires_at) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
