#include "store/sql/code_store.h"

namespace portcullis::store {
namespace {

Param TextOrNull(std::string_view s) { return s.empty() ? Null() : Text(s); }

Status Done(Result<int64_t> r) {
  if (!r) return Fail(std::move(r.error()));
  return {};
}

}  // namespace

Status SqlAuthCodeStore::Insert(const oauth::AuthCode& c) {
  auto n = db_.Exec(
      "INSERT INTO auth_codes (code_hash, client_id, user_id, user_type, roles, scope,"
      " redirect_uri, code_challenge, code_challenge_method, nonce, remember, created_at,"
      " expires_at, auth_time, sid, amr, acr, claims, dpop_jkt, user_source)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
      " $19, $20)",
      {Text(c.code_hash),
       Text(c.client_id),
       Text(c.user_id),
       TextOrNull(c.user_type),
       TextOrNull(c.roles),
       Text(c.scope),
       TextOrNull(c.redirect_uri),
       TextOrNull(c.code_challenge),
       TextOrNull(c.code_challenge_method),
       TextOrNull(c.nonce),
       Text(c.remember == "Y" ? "Y" : "N"),
       Int(c.created_at),
       Int(c.expires_at),
       c.auth_time ? Int(c.auth_time) : Null(),
       TextOrNull(c.sid),
       TextOrNull(c.amr),
       TextOrNull(c.acr),
       TextOrNull(c.claims),
       TextOrNull(c.dpop_jkt),
       TextOrNull(c.user_source)});
  if (!n) {
    if (IsForeignKeyViolation(n.error())) return Fail(oauth::CodeClientNotFound(c.client_id));
    return Fail(std::move(n.error()));
  }
  return {};
}

Result<std::optional<oauth::AuthCode>> SqlAuthCodeStore::Consume(Tx& tx, std::string_view code_hash,
                                                                 std::string_view client_id,
                                                                 std::string_view dpop_jkt,
                                                                 int64_t now) {
  // One winner: only the first UPDATE finds consumed_at NULL (RFC 6749 §4.1.2). A code bound to
  // a DPoP key is not touched by a request with another key or none (RFC 9449 §10).
  auto row = tx.QueryRow(
      "UPDATE auth_codes SET consumed_at = $3"
      " WHERE code_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3"
      " AND (dpop_jkt IS NULL OR dpop_jkt = $4)"
      " RETURNING user_id, user_type, roles, scope, redirect_uri, code_challenge,"
      " code_challenge_method, nonce, remember, family_id, created_at, expires_at,"
      " auth_time, sid, amr, acr, claims, dpop_jkt, user_source",
      {Text(code_hash), Text(client_id), Int(now), Text(dpop_jkt)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<oauth::AuthCode>();
  const Row& r = **row;
  oauth::AuthCode c;
  c.code_hash = std::string(code_hash);
  c.client_id = std::string(client_id);
  c.user_id = r.Str(0);
  c.user_type = r.Str(1);
  c.roles = r.Str(2);
  c.scope = r.Str(3);
  c.redirect_uri = r.Str(4);
  c.code_challenge = r.Str(5);
  c.code_challenge_method = r.Str(6);
  c.nonce = r.Str(7);
  c.remember = r.Str(8);
  c.family_id = r.Str(9);
  c.created_at = r.Int(10);
  c.expires_at = r.Int(11);
  c.auth_time = r.IsNull(12) ? 0 : r.Int(12);
  c.sid = r.Str(13);
  c.amr = r.Str(14);
  c.acr = r.Str(15);
  c.claims = r.Str(16);
  c.dpop_jkt = r.Str(17);
  c.user_source = r.Str(18);
  return std::optional<oauth::AuthCode>(std::move(c));
}

Result<std::optional<oauth::AuthCodeState>> SqlAuthCodeStore::Find(Tx& tx,
                                                                   std::string_view code_hash) {
  auto row = tx.QueryRow(
      "SELECT client_id, consumed_at, expires_at, family_id, access_jti, access_exp,"
      " dpop_jkt FROM auth_codes WHERE code_hash = $1",
      {Text(code_hash)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<oauth::AuthCodeState>();
  const Row& r = **row;
  return std::optional<oauth::AuthCodeState>(oauth::AuthCodeState{
      r.Str(0), r.OptInt(1), r.Int(2), r.Str(3), r.OptStr(4), r.Int(5), r.Str(6)});
}

Status SqlAuthCodeStore::RecordIssued(Tx& tx, std::string_view code_hash,
                                      std::string_view access_jti, int64_t access_exp,
                                      std::string_view family_id) {
  return Done(
      tx.Exec("UPDATE auth_codes SET access_jti = $2, access_exp = $3, family_id = $4"
              " WHERE code_hash = $1",
              {Text(code_hash), Text(access_jti), Int(access_exp), Text(family_id)}));
}

Status SqlAuthCodeStore::ExpireForUser(Tx& tx, std::string_view user_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE auth_codes SET expires_at = $2"
              " WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2",
              {Text(user_id), Int(now)}));
}

Status SqlAuthCodeStore::ExpireForUserClient(Tx& tx, std::string_view user_id,
                                             std::string_view client_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE auth_codes SET expires_at = $3"
              " WHERE user_id = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3",
              {Text(user_id), Text(client_id), Int(now)}));
}

Status SqlAuthCodeStore::DeleteForUser(Tx& tx, std::string_view user_id) {
  return Done(tx.Exec("DELETE FROM auth_codes WHERE user_id = $1", {Text(user_id)}));
}

Status SqlAuthCodeStore::DeleteForClient(Tx& tx, std::string_view client_id) {
  return Done(tx.Exec("DELETE FROM auth_codes WHERE client_id = $1", {Text(client_id)}));
}

Status SqlAuthCodeStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  return Done(tx.Exec("DELETE FROM auth_codes WHERE expires_at < $1", {Int(cutoff)}));
}

}  // namespace portcullis::store
