#include "store/sql/consent_store.h"

#include <algorithm>

#include "oauth/client/client.h"

namespace portcullis::store {

using oauth::Consent;
using oauth::JoinScope;
using oauth::SplitScope;

namespace {

// On the pool (Database) or inside a transaction (Tx): the same statement.
template <class Q>
Result<std::optional<Consent>> FindConsent(Q& q, std::string_view realm, std::string_view user_id,
                                           std::string_view client_id) {
  auto row = q.QueryRow(
      "SELECT scope, created_at FROM consents WHERE realm = $1 AND user_id = $2 AND client_id = $3",
      {Text(realm), Text(user_id), Text(client_id)});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<Consent>();
  return std::optional<Consent>(
      Consent{std::string(client_id), SplitScope((*row)->Str(0)), (*row)->Int(1)});
}

}  // namespace

Result<std::optional<Consent>> SqlConsentStore::Find(std::string_view realm,
                                                     std::string_view user_id,
                                                     std::string_view client_id) {
  return FindConsent(db_, realm, user_id, client_id);
}

Result<std::optional<Consent>> SqlConsentStore::Find(Tx& tx, std::string_view realm,
                                                     std::string_view user_id,
                                                     std::string_view client_id) {
  return FindConsent(tx, realm, user_id, client_id);
}

Status SqlConsentStore::Widen(std::string_view realm, std::string_view user_id,
                              std::string_view client_id, const std::vector<std::string>& scope,
                              int64_t now) {
  return db_.Transact("consent.grant", [&](Tx& tx) -> Status {
    auto row = tx.QueryRow(
        "SELECT scope FROM consents WHERE realm = $1 AND user_id = $2 AND client_id = $3",
        {Text(realm), Text(user_id), Text(client_id)});
    if (!row) return Fail(row.error());
    std::vector<std::string> merged =
        *row ? SplitScope((*row)->Str(0)) : std::vector<std::string>{};
    for (const auto& s : scope) {
      if (std::find(merged.begin(), merged.end(), s) == merged.end()) merged.push_back(s);
    }
    auto n = tx.Exec(
        "INSERT INTO consents (realm, user_id, client_id, scope, created_at)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (realm, user_id, client_id) DO UPDATE SET scope = excluded.scope,"
        " created_at = excluded.created_at",
        {Text(realm), Text(user_id), Text(client_id), Text(JoinScope(merged)), Int(now)});
    if (!n) return Fail(n.error());
    return {};
  });
}

Result<bool> SqlConsentStore::Delete(Tx& tx, std::string_view realm, std::string_view user_id,
                                     std::string_view client_id) {
  auto n = tx.Exec("DELETE FROM consents WHERE realm = $1 AND user_id = $2 AND client_id = $3",
                   {Text(realm), Text(user_id), Text(client_id)});
  if (!n) return Fail(n.error());
  return *n > 0;
}

Result<std::vector<Consent>> SqlConsentStore::List(std::string_view realm,
                                                   std::string_view user_id) {
  auto rows = db_.Query(
      "SELECT client_id, scope, created_at FROM consents WHERE realm = $1 AND user_id = $2"
      " ORDER BY client_id" +
          std::string(db_.dialect() == Dialect::kPostgres ? " COLLATE \"C\"" : ""),
      {Text(realm), Text(user_id)});
  if (!rows) return Fail(rows.error());
  std::vector<Consent> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(Consent{r.Str(0), SplitScope(r.Str(1)), r.Int(2)});
  return out;
}

}  // namespace portcullis::store
