#include "store/sql/device_store.h"

#include "store/sql/dialect_sql.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kColumns =
    "device_code_hash, user_code_hash, client_id, scope, state, user_id, user_type, roles,"
    " auth_time, sid, amr, acr, created_at, expires_at, poll_interval, last_poll_at, user_source";

Param TextOrNull(std::string_view s) { return s.empty() ? Null() : Text(s); }

oauth::DeviceGrant FromRow(const Row& r) {
  oauth::DeviceGrant g;
  g.device_code_hash = r.Str(0);
  g.user_code_hash = r.Str(1);
  g.client_id = r.Str(2);
  g.scope = r.Str(3);
  g.state = oauth::ParseDeviceGrantState(r.Str(4)).value_or(oauth::DeviceGrantState::kDenied);
  g.user.user_id = r.Str(5);
  g.user.user_type = r.Str(6);
  g.user.roles = r.Str(7);
  g.user.auth_time = r.IsNull(8) ? 0 : r.Int(8);
  g.user.sid = r.Str(9);
  g.user.amr = r.Str(10);
  g.user.acr = r.Str(11);
  g.created_at = r.Int(12);
  g.expires_at = r.Int(13);
  g.interval = r.Int(14);
  g.last_poll_at = r.OptInt(15);
  g.user.user_source = r.Str(16);
  return g;
}

Result<std::optional<oauth::DeviceGrant>> One(Result<std::optional<Row>> row) {
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<oauth::DeviceGrant>();
  return std::optional<oauth::DeviceGrant>(FromRow(**row));
}

}  // namespace

Result<bool> SqlDeviceGrantStore::Insert(const oauth::DeviceGrant& g) {
  auto n = db_.Exec(
      "INSERT INTO device_grants (device_code_hash, user_code_hash, client_id, scope, state,"
      " created_at, expires_at, poll_interval) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)",
      {Text(g.device_code_hash), Text(g.user_code_hash), Text(g.client_id), Text(g.scope),
       Int(g.created_at), Int(g.expires_at), Int(g.interval)});
  if (!n) {
    if (IsUniqueViolation(n.error())) return false;
    return Fail(std::move(n.error()));
  }
  return true;
}

Result<std::optional<oauth::DeviceGrant>> SqlDeviceGrantStore::FindByUserCode(
    std::string_view user_code_hash) {
  return One(db_.QueryRow(std::string("SELECT ") + std::string(kColumns) +
                              " FROM device_grants WHERE user_code_hash = $1",
                          {Text(user_code_hash)}));
}

Result<bool> SqlDeviceGrantStore::Decide(std::string_view user_code_hash, bool approve,
                                         const oauth::DeviceApproval& who, int64_t now) {
  // One winner: only the first UPDATE finds the grant pending.
  Result<int64_t> n =
      approve ? db_.Exec(
                    "UPDATE device_grants SET state = 'approved', user_id = $2, user_type = $3,"
                    " roles = $4, auth_time = $5, sid = $6, amr = $7, acr = $8, decided_at = $9,"
                    " user_source = $10"
                    " WHERE user_code_hash = $1 AND state = 'pending' AND expires_at > $9",
                    {Text(user_code_hash), Text(who.user_id), TextOrNull(who.user_type),
                     TextOrNull(who.roles), who.auth_time ? Int(who.auth_time) : Null(),
                     TextOrNull(who.sid), TextOrNull(who.amr), TextOrNull(who.acr), Int(now),
                     TextOrNull(who.user_source)})
              : db_.Exec(
                    "UPDATE device_grants SET state = 'denied', decided_at = $2"
                    " WHERE user_code_hash = $1 AND state = 'pending' AND expires_at > $2",
                    {Text(user_code_hash), Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return *n == 1;
}

Result<std::optional<oauth::DeviceGrant>> SqlDeviceGrantStore::Lock(
    Tx& tx, std::string_view device_code_hash) {
  return One(tx.QueryRow(std::string("SELECT ") + std::string(kColumns) +
                             " FROM device_grants WHERE device_code_hash = $1" +
                             ForUpdate(db_.dialect()),
                         {Text(device_code_hash)}));
}

Status SqlDeviceGrantStore::RecordPoll(Tx& tx, std::string_view device_code_hash, int64_t now,
                                       int64_t interval) {
  auto n = tx.Exec(
      "UPDATE device_grants SET last_poll_at = $2, poll_interval = $3"
      " WHERE device_code_hash = $1",
      {Text(device_code_hash), Int(now), Int(interval)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Result<std::optional<oauth::DeviceGrant>> SqlDeviceGrantStore::Consume(
    Tx& tx, std::string_view device_code_hash, std::string_view client_id, int64_t now) {
  // One winner: only the first UPDATE finds the grant approved.
  return One(tx.QueryRow(
      std::string("UPDATE device_grants SET state = 'consumed', decided_at = $3"
                  " WHERE device_code_hash = $1 AND client_id = $2 AND state = 'approved'"
                  " AND expires_at > $3 RETURNING ") +
          std::string(kColumns),
      {Text(device_code_hash), Text(client_id), Int(now)}));
}

Status SqlDeviceGrantStore::ExpireForUser(Tx& tx, std::string_view user_id, int64_t now) {
  auto n = tx.Exec(
      "UPDATE device_grants SET expires_at = $2"
      " WHERE user_id = $1 AND state = 'approved' AND expires_at > $2",
      {Text(user_id), Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status SqlDeviceGrantStore::ExpireForUserClient(Tx& tx, std::string_view user_id,
                                                std::string_view client_id, int64_t now) {
  auto n = tx.Exec(
      "UPDATE device_grants SET expires_at = $3"
      " WHERE user_id = $1 AND client_id = $2 AND state = 'approved' AND expires_at > $3",
      {Text(user_id), Text(client_id), Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status SqlDeviceGrantStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  auto n = tx.Exec("DELETE FROM device_grants WHERE expires_at < $1", {Int(cutoff)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

}  // namespace portcullis::store
