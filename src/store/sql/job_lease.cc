#include "store/sql/job_lease.h"

namespace portcullis::store {

Result<bool> SqlJobLease::Hold(std::string_view name, std::string_view holder, int64_t now,
                               int64_t expires_at) {
  // One conditional upsert: it writes (and returns the row) only when the lease is free,
  // lapsed, or already ours.
  auto row = db_.QueryRow(
      "INSERT INTO job_locks (name, holder, expires_at) VALUES ($1, $2, $3)"
      " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
      " expires_at = excluded.expires_at"
      " WHERE job_locks.expires_at < $4 OR job_locks.holder = excluded.holder"
      " RETURNING holder",
      {Text(name), Text(holder), Int(expires_at), Int(now)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

}  // namespace portcullis::store
