#include "store/sql/par_store.h"

#include "store/sql/dialect_sql.h"

namespace portcullis::store {

Result<bool> SqlPushedRequestStore::Insert(const oauth::PushedRequest& r) {
  auto n = db_.Exec(
      "INSERT INTO pushed_requests (reference_hash, client_id, params, created_at, expires_at)"
      " VALUES ($1, $2, $3, $4, $5)",
      {Text(r.reference_hash), Text(r.client_id), Text(r.params), Int(r.created_at),
       Int(r.expires_at)});
  if (!n) {
    if (IsUniqueViolation(n.error())) return false;
    return Fail(std::move(n.error()));
  }
  return true;
}

Result<std::optional<oauth::PushedRequest>> SqlPushedRequestStore::Find(
    std::string_view reference_hash) {
  auto row = db_.QueryRow(
      "SELECT reference_hash, client_id, params, created_at, expires_at, used_at"
      " FROM pushed_requests WHERE reference_hash = $1",
      {Text(reference_hash)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<oauth::PushedRequest>();
  const Row& r = **row;
  oauth::PushedRequest out;
  out.reference_hash = r.Str(0);
  out.client_id = r.Str(1);
  out.params = r.Str(2);
  out.created_at = r.Int(3);
  out.expires_at = r.Int(4);
  out.used_at = r.OptInt(5);
  return std::optional<oauth::PushedRequest>(std::move(out));
}

Result<bool> SqlPushedRequestStore::Consume(std::string_view reference_hash,
                                            std::string_view client_id, int64_t valid_after,
                                            int64_t now) {
  // One winner: only the first UPDATE finds used_at NULL.
  auto n = db_.Exec(
      "UPDATE pushed_requests SET used_at = $4 WHERE reference_hash = $1 AND client_id = $2"
      " AND used_at IS NULL AND expires_at > $3",
      {Text(reference_hash), Text(client_id), Int(valid_after), Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return *n == 1;
}

Status SqlPushedRequestStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  auto n = tx.Exec("DELETE FROM pushed_requests WHERE expires_at < $1", {Int(cutoff)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

}  // namespace portcullis::store
