#include "oauth/code/consent_store.h"

#include <algorithm>

#include "oauth/client/client.h"
#include "oauth/refresh/grant_revocation.h"
#include "store/db.h"

namespace portcullis::oauth {

using store::Int;
using store::Text;

Result<bool> ConsentStore::Covers(std::string_view user_id, std::string_view client_id,
                                  const std::vector<std::string>& scope) const {
  auto row = db_.QueryRow("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2",
                          {Text(user_id), Text(client_id)});
  if (!row) return Fail(row.error());
  if (!*row) return false;
  const auto granted = SplitScope((*row)->Str(0));
  return std::all_of(scope.begin(), scope.end(), [&](const std::string& s) {
    return std::find(granted.begin(), granted.end(), s) != granted.end();
  });
}

Status ConsentStore::Grant(std::string_view user_id, std::string_view client_id,
                           const std::vector<std::string>& scope) {
  const int64_t now = clock_.Now();
  return db_.Transact("consent.grant", [&](store::Tx& tx) -> Status {
    auto row = tx.QueryRow("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2",
                           {Text(user_id), Text(client_id)});
    if (!row) return Fail(row.error());
    std::vector<std::string> merged =
        *row ? SplitScope((*row)->Str(0)) : std::vector<std::string>{};
    for (const auto& s : scope) {
      if (std::find(merged.begin(), merged.end(), s) == merged.end()) merged.push_back(s);
    }
    auto n = tx.Exec(
        "INSERT INTO consents (user_id, client_id, scope, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope,"
        " created_at = excluded.created_at",
        {Text(user_id), Text(client_id), Text(JoinScope(merged)), Int(now)});
    if (!n) return Fail(n.error());
    return {};
  });
}

Result<bool> ConsentStore::Revoke(std::string_view user_id, std::string_view client_id) {
  const int64_t now = clock_.Now();
  return db_.TransactValue<bool>("consent.revoke", [&](store::Tx& tx) -> Result<bool> {
    auto n = tx.Exec("DELETE FROM consents WHERE user_id = $1 AND client_id = $2",
                     {Text(user_id), Text(client_id)});
    if (!n) return Fail(n.error());
    // What the consent let the client obtain ends with it, in the same transaction: its refresh
    // tokens for this user would otherwise keep working for their whole lifetime.
    if (auto s = RevokeUserClientGrants(tx, user_id, client_id, now); !s) return Fail(s.error());
    return *n > 0;
  });
}

Result<std::vector<Consent>> ConsentStore::List(std::string_view user_id) const {
  auto rows = db_.Query(
      "SELECT client_id, scope, created_at FROM consents WHERE user_id = $1 ORDER BY client_id",
      {Text(user_id)});
  if (!rows) return Fail(rows.error());
  std::vector<Consent> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(Consent{r.Str(0), SplitScope(r.Str(1)), r.Int(2)});
  return out;
}

}  // namespace portcullis::oauth
