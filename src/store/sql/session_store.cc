#include "store/sql/session_store.h"

#include "store/sql/dialect_sql.h"

namespace portcullis::store {

using oauth::SsoSession;

Status SqlSessionStore::Insert(std::string_view key, const SsoSession& s) {
  auto n = db_.Exec(
      "INSERT INTO sso_sessions (session_hash, user_id, created_at, expires_at, remember, sid,"
      " amr, acr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {Text(key), Text(s.user_id), Int(s.created_at), Int(s.expires_at),
       Text(s.remember ? "Y" : "N"), s.sid.empty() ? Null() : Text(s.sid),
       s.amr.empty() ? Null() : Text(s.amr), s.acr.empty() ? Null() : Text(s.acr)});
  if (!n) return Fail(n.error());
  return {};
}

Result<std::optional<SsoSession>> SqlSessionStore::Find(std::string_view key, int64_t now) {
  auto row = db_.QueryRow(
      "SELECT user_id, remember, created_at, expires_at, sid, amr, acr FROM sso_sessions"
      " WHERE session_hash = $1 AND expires_at > $2",
      {Text(key), Int(now)});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<SsoSession>();
  const auto& r = **row;
  return std::optional<SsoSession>(
      SsoSession{r.Str(0), r.Str(1) == "Y", r.Int(2), r.Int(3), r.Str(4), r.Str(5), r.Str(6)});
}

Status SqlSessionStore::Delete(std::string_view key) {
  auto n = db_.Exec("DELETE FROM sso_sessions WHERE session_hash = $1", {Text(key)});
  if (!n) return Fail(n.error());
  return {};
}

Status SqlSessionStore::DeleteIn(Tx& tx, std::string_view key) {
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE session_hash = $1", {Text(key)});
  if (!n) return Fail(n.error());
  return {};
}

Status SqlSessionStore::DeleteForUser(Tx& tx, std::string_view user_id) {
  // Every realm's sessions: a session's key hides its realm, its row still names the user.
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE user_id = $1", {Text(user_id)});
  if (!n) return Fail(n.error());
  return {};
}

Status SqlSessionStore::Purge(int64_t now) {
  auto n = db_.Exec("DELETE FROM sso_sessions WHERE expires_at <= $1", {Int(now)});
  if (!n) return Fail(n.error());
  return {};
}

namespace {

// On the pool (Database) or inside a transaction (Tx): the same statement.
template <class Q>
Result<std::vector<SsoSession>> ListSessions(Q& q, Dialect dialect, std::string_view user_id,
                                             int64_t now) {
  // Sessions made before sids existed have none: they sort first, as "" does in the fake.
  auto rows = q.Query(
      "SELECT user_id, remember, created_at, expires_at, sid, amr, acr FROM sso_sessions"
      " WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, COALESCE(sid, '')" +
          ByteOrder(dialect),
      {Text(user_id), Int(now)});
  if (!rows) return Fail(rows.error());
  std::vector<SsoSession> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    out.push_back(
        SsoSession{r.Str(0), r.Str(1) == "Y", r.Int(2), r.Int(3), r.Str(4), r.Str(5), r.Str(6)});
  }
  return out;
}

}  // namespace

Result<std::vector<SsoSession>> SqlSessionStore::ListForUser(std::string_view user_id,
                                                             int64_t now) {
  return ListSessions(db_, db_.dialect(), user_id, now);
}

Result<std::vector<SsoSession>> SqlSessionStore::ListForUser(Tx& tx, std::string_view user_id,
                                                             int64_t now) {
  return ListSessions(tx, tx.dialect(), user_id, now);
}

Result<bool> SqlSessionStore::DeleteBySid(Tx& tx, std::string_view user_id, std::string_view sid) {
  if (sid.empty()) return false;
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE sid = $1 AND user_id = $2",
                   {Text(sid), Text(user_id)});
  if (!n) return Fail(n.error());
  return *n > 0;
}

}  // namespace portcullis::store
