#include "store/sql/refresh_token_store.h"
#include "store/sql/dialect_sql.h"

#include <string>

namespace portcullis::store {
namespace {

using oauth::RefreshToken;

constexpr std::string_view kColumns =
    "token_hash, family_id, client_id, user_id, user_type, roles, scope, remember, state, "
    "created_at, expires_at, parent_hash, rotated_at, user_source, auth_time, sid, amr, acr, "
    "claims, dpop_jkt, cert_thumbprint";

RefreshToken FromRow(const Row& r) {
  RefreshToken t;
  t.token_hash = r.Str(0);
  t.family_id = r.Str(1);
  t.client_id = r.Str(2);
  t.user_id = r.Str(3);
  t.user_type = r.Str(4);
  t.roles = r.Str(5);
  t.scope = r.Str(6);
  t.remember = r.Str(7);
  t.state = r.Str(8);
  t.created_at = r.Int(9);
  t.expires_at = r.Int(10);
  t.parent_hash = r.Str(11);
  t.rotated_at = r.OptInt(12);
  t.user_source = r.Str(13);
  t.auth_time = r.OptInt(14).value_or(0);
  t.sid = r.Str(15);
  t.amr = r.Str(16);
  t.acr = r.Str(17);
  t.claims = r.Str(18);
  t.dpop_jkt = r.Str(19);
  t.cert_thumbprint = r.Str(20);
  return t;
}

Param TextOrNull(std::string_view s) { return s.empty() ? Null() : Text(s); }

Status Done(Result<int64_t> r) {
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<std::vector<RefreshToken>> AllOf(Result<Rows> rows) {
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<RefreshToken> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(FromRow(r));
  return out;
}

}  // namespace

Status SqlRefreshTokenStore::Insert(Tx& tx, const RefreshToken& t) {
  return Done(tx.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, user_type, roles,"
      " scope, remember, state, parent_hash, created_at, expires_at, user_source, auth_time, sid,"
      " amr, acr, claims, dpop_jkt, cert_thumbprint)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
      " $19, $20)",
      {Text(t.token_hash),
       Text(t.family_id),
       Text(t.client_id),
       Text(t.user_id),
       Text(t.user_type),
       Text(t.roles),
       Text(t.scope),
       Text(t.remember == "Y" ? "Y" : "N"),
       Text(t.state),
       TextOrNull(t.parent_hash),
       Int(t.created_at),
       Int(t.expires_at),
       TextOrNull(t.user_source),
       t.auth_time > 0 ? Int(t.auth_time) : Null(),
       TextOrNull(t.sid),
       TextOrNull(t.amr),
       TextOrNull(t.acr),
       TextOrNull(t.claims),
       TextOrNull(t.dpop_jkt),
       TextOrNull(t.cert_thumbprint)}));
}

Result<bool> SqlRefreshTokenStore::Import(Tx& tx, const RefreshToken& t) {
  auto n = tx.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, user_type, "
      "roles, scope, remember, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, 'active', $9, $10) ON CONFLICT DO NOTHING",
      {Text(t.token_hash), Text(t.family_id), Text(t.client_id), TextOrNull(t.user_id),
       TextOrNull(t.user_type), TextOrNull(t.roles), TextOrNull(t.scope),
       Text(t.remember == "Y" ? "Y" : "N"), Int(t.created_at), Int(t.expires_at)});
  if (!n) return Fail(std::move(n.error()));
  return *n > 0;
}

Result<std::optional<RefreshToken>> SqlRefreshTokenStore::Find(Tx& tx,
                                                               std::string_view token_hash) {
  auto row =
      tx.QueryRow("SELECT " + std::string(kColumns) + " FROM refresh_tokens WHERE token_hash = $1",
                  {Text(token_hash)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<RefreshToken>();
  return std::optional<RefreshToken>(FromRow(**row));
}

Result<std::optional<RefreshToken>> SqlRefreshTokenStore::Find(std::string_view token_hash) {
  auto row =
      db_.QueryRow("SELECT " + std::string(kColumns) + " FROM refresh_tokens WHERE token_hash = $1",
                   {Text(token_hash)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<RefreshToken>();
  return std::optional<RefreshToken>(FromRow(**row));
}

Result<bool> SqlRefreshTokenStore::Rotate(Tx& tx, std::string_view token_hash, int64_t now) {
  // The single winner of concurrent rotations: only one UPDATE finds the row active.
  auto n = tx.Exec(
      "UPDATE refresh_tokens SET state = 'rotated', rotated_at = $2"
      " WHERE token_hash = $1 AND state = 'active'",
      {Text(token_hash), Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return *n == 1;
}

Status SqlRefreshTokenStore::SetScope(Tx& tx, std::string_view token_hash, std::string_view scope) {
  return Done(
      tx.Exec("UPDATE refresh_tokens SET scope = $2 WHERE token_hash = $1 AND state = 'active'",
              {Text(token_hash), Text(scope)}));
}

Status SqlRefreshTokenStore::RevokeFamily(Tx& tx, std::string_view family_id,
                                          std::optional<int64_t> at) {
  if (!at) {
    return Done(tx.Exec(
        "UPDATE refresh_tokens SET state = 'revoked' WHERE family_id = $1 AND state <> 'revoked'",
        {Text(family_id)}));
  }
  return Done(
      tx.Exec("UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
              " WHERE family_id = $1 AND state <> 'revoked'",
              {Text(family_id), Int(*at)}));
}

Status SqlRefreshTokenStore::RevokeForUser(Tx& tx, std::string_view user_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
              " WHERE user_id = $1 AND state <> 'revoked'",
              {Text(user_id), Int(now)}));
}

Status SqlRefreshTokenStore::RevokeForUserClient(Tx& tx, std::string_view user_id,
                                                 std::string_view client_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $3)"
              " WHERE user_id = $1 AND client_id = $2 AND state <> 'revoked'",
              {Text(user_id), Text(client_id), Int(now)}));
}

Status SqlRefreshTokenStore::RevokeForUserSid(Tx& tx, std::string_view user_id,
                                              std::string_view sid, int64_t now) {
  if (sid.empty()) return {};  // stored as NULL: no session
  return Done(
      tx.Exec("UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $3)"
              " WHERE user_id = $1 AND sid = $2 AND state <> 'revoked'",
              {Text(user_id), Text(sid), Int(now)}));
}

Status SqlRefreshTokenStore::RevokeForUserSessions(Tx& tx, std::string_view user_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
              " WHERE user_id = $1 AND sid IS NOT NULL AND state <> 'revoked'",
              {Text(user_id), Int(now)}));
}

Result<std::vector<RefreshToken>> SqlRefreshTokenStore::Family(Tx& tx, std::string_view family_id) {
  return AllOf(
      tx.Query("SELECT " + std::string(kColumns) + " FROM refresh_tokens WHERE family_id = $1",
               {Text(family_id)}));
}

Result<int64_t> SqlRefreshTokenStore::DeleteFamily(Tx& tx, std::string_view family_id) {
  auto n = tx.Exec("DELETE FROM refresh_tokens WHERE family_id = $1", {Text(family_id)});
  if (!n) return Fail(std::move(n.error()));
  if (auto s = tx.Notify("refresh_token", family_id); !s) return Fail(std::move(s.error()));
  return *n;
}

Status SqlRefreshTokenStore::DeleteForUser(Tx& tx, std::string_view user_id) {
  return Done(tx.Exec("DELETE FROM refresh_tokens WHERE user_id = $1", {Text(user_id)}));
}

Status SqlRefreshTokenStore::DeleteForClient(Tx& tx, std::string_view client_id) {
  return Done(tx.Exec("DELETE FROM refresh_tokens WHERE client_id = $1", {Text(client_id)}));
}

namespace {

// The WHERE clause of ListActive and CountActive, over $1 (user id prefix), $2 (now) and $3
// (client id, '' for any). The prefix is compared with substr, not LIKE, so '%' and '_' in it
// stay literal.
constexpr std::string_view kActiveWhere =
    " FROM refresh_tokens WHERE state = 'active' AND expires_at > $2 AND "
    "substr(COALESCE(user_id, ''), 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) AND "
    "(CAST($3 AS TEXT) = '' OR client_id = CAST($3 AS TEXT))";

}  // namespace

Result<std::vector<RefreshToken>> SqlRefreshTokenStore::ListActive(
    const oauth::RefreshTokenFilter& filter, int64_t now, int64_t offset, int64_t limit) {
  std::string order = ByteOrder(db_.dialect());
  return AllOf(db_.Query(
      "SELECT " + std::string(kColumns) + std::string(kActiveWhere) + " ORDER BY user_id" + order +
          ", created_at, token_hash" + order + " LIMIT $4 OFFSET $5",
      {Text(filter.user_id_prefix), Int(now), Text(filter.client_id), Int(limit), Int(offset)}));
}

Result<int64_t> SqlRefreshTokenStore::CountActive(const oauth::RefreshTokenFilter& filter,
                                                  int64_t now) {
  auto row = db_.QueryRow("SELECT count(*)" + std::string(kActiveWhere),
                          {Text(filter.user_id_prefix), Int(now), Text(filter.client_id)});
  if (!row) return Fail(std::move(row.error()));
  return *row ? (**row).Int(0) : 0;
}

Status SqlRefreshTokenStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  return Done(tx.Exec("DELETE FROM refresh_tokens WHERE expires_at < $1", {Int(cutoff)}));
}

}  // namespace portcullis::store
