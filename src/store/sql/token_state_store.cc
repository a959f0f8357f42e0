#include "store/sql/token_state_store.h"

#include <span>
#include <vector>

namespace portcullis::store {
namespace {

Status Done(Result<int64_t> r) {
  if (!r) return Fail(std::move(r.error()));
  return {};
}

constexpr std::string_view kInsertReference =
    "INSERT INTO reference_tokens (token_hash, jwt, client_id, deref_client_id, expires_at)"
    " VALUES ($1, $2, $3, $4, $5)";

std::vector<Param> ReferenceParams(const oauth::ReferenceToken& t) {
  return {Text(t.token_hash), Text(t.jwt), Text(t.client_id),
          t.deref_client_id.empty() ? Null() : Text(t.deref_client_id), Int(t.expires_at)};
}

}  // namespace

// --- SqlReferenceTokenStore ---------------------------------------------------------------

Status SqlReferenceTokenStore::Insert(Tx& tx, const oauth::ReferenceToken& t) {
  auto params = ReferenceParams(t);
  return Done(tx.Exec(kInsertReference, std::span<const Param>(params)));
}

Status SqlReferenceTokenStore::Insert(const oauth::ReferenceToken& t) {
  auto params = ReferenceParams(t);
  return Done(db_.Exec(kInsertReference, std::span<const Param>(params)));
}

Result<std::optional<oauth::ReferenceToken>> SqlReferenceTokenStore::Find(
    std::string_view token_hash) {
  auto row = db_.QueryRow(
      "SELECT jwt, client_id, deref_client_id, expires_at FROM reference_tokens"
      " WHERE token_hash = $1",
      {Text(token_hash)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<oauth::ReferenceToken>();
  const Row& r = **row;
  return std::optional<oauth::ReferenceToken>(
      oauth::ReferenceToken{std::string(token_hash), r.Str(0), r.Str(1), r.Str(2), r.Int(3)});
}

Status SqlReferenceTokenStore::Delete(std::string_view token_hash) {
  return Done(db_.Exec("DELETE FROM reference_tokens WHERE token_hash = $1", {Text(token_hash)}));
}

Status SqlReferenceTokenStore::DeleteForClient(Tx& tx, std::string_view client_id) {
  return Done(tx.Exec("DELETE FROM reference_tokens WHERE client_id = $1", {Text(client_id)}));
}

Status SqlReferenceTokenStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  return Done(tx.Exec("DELETE FROM reference_tokens WHERE expires_at < $1", {Int(cutoff)}));
}

// --- SqlDenyList ---------------------------------------------------------------------------

Status SqlDenyList::Add(std::string_view jti, int64_t expires_at) {
  return db_.Transact("revoked.add", [&](Tx& tx) -> Status {
    auto n = tx.Exec(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
        {Text(jti), Int(expires_at)});
    if (!n) return Fail(std::move(n.error()));
    return tx.Notify("revoked", jti);
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> SqlDenyList::LoadSince(int64_t cutoff) {
  auto rows =
      db_.Query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1", {Int(cutoff)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.emplace_back(r.Str(0), r.Int(1));
  return out;
}

Status SqlDenyList::PurgeExpired(Tx& tx, int64_t cutoff) {
  return Done(tx.Exec("DELETE FROM revoked_tokens WHERE expires_at < $1", {Int(cutoff)}));
}

// --- SqlAssertionJtiStore ------------------------------------------------------------------

Result<bool> SqlAssertionJtiStore::Remember(std::string_view key, std::string_view client_id,
                                            int64_t expires_at) {
  auto n =
      db_.Exec("INSERT INTO client_assertion_jtis (jti, client_id, expires_at) VALUES ($1, $2, $3)",
               {Text(key), Text(client_id), Int(expires_at)});
  if (!n) {
    if (IsUniqueViolation(n.error())) return false;
    return Fail(std::move(n.error()));
  }
  return true;
}

Status SqlAssertionJtiStore::PurgeExpired(Tx& tx, int64_t cutoff) {
  return Done(tx.Exec("DELETE FROM client_assertion_jtis WHERE expires_at < $1", {Int(cutoff)}));
}

}  // namespace portcullis::store
