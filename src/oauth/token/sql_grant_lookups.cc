#include "oauth/token/sql_grant_lookups.h"

#include <algorithm>

#include "store/db.h"

namespace portcullis::oauth {

using store::Text;

Result<std::optional<CurrentUser>> SqlGrantLookups::FindUser(store::Tx& tx,
                                                             std::string_view user_id) {
  // LEAD: swap at merge (UserStore::Find(tx, id)).
  auto row =
      tx.QueryRow("SELECT user_type, roles, locked FROM users WHERE user_id = $1", {Text(user_id)});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<CurrentUser>();
  return std::optional<CurrentUser>(
      CurrentUser{(*row)->Str(0), (*row)->Str(1), (*row)->Int(2) != 0});
}

Result<std::optional<ExchangePolicy>> SqlGrantLookups::FindDelegation(std::string_view client_id,
                                                                      std::string_view audience) {
  // LEAD: swap at merge (DelegationStore::Find(client_id, audience)).
  auto row = db_.QueryRow(
      "SELECT scopes, max_depth FROM delegation_policies WHERE client_id = $1 AND audience = $2",
      {Text(client_id), Text(audience)});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<ExchangePolicy>();
  ExchangePolicy p;
  p.scopes = SplitScope((*row)->Str(0));
  if (!(*row)->IsNull(1)) p.max_depth = (*row)->Int(1);
  return std::optional<ExchangePolicy>(std::move(p));
}

Result<std::optional<std::vector<std::string>>> SqlGrantLookups::ServiceScopes(
    std::string_view service_id) {
  // LEAD: swap at merge (a ServiceStore read: the service, then its endpoints' scopes).
  auto rows =
      db_.QueryRow("SELECT service_id FROM services WHERE service_id = $1", {Text(service_id)});
  if (!rows) return Fail(rows.error());
  if (!*rows) return std::optional<std::vector<std::string>>();
  // LEAD: swap at merge (same ServiceStore read).
  auto endpoints =
      db_.Query("SELECT scope FROM service_endpoints WHERE service_id = $1", {Text(service_id)});
  if (!endpoints) return Fail(endpoints.error());
  std::vector<std::string> scopes;
  for (const auto& r : *endpoints) {
    for (auto& s : SplitScope(r.Str(0))) {
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
        scopes.push_back(std::move(s));
    }
  }
  return std::optional<std::vector<std::string>>(std::move(scopes));
}

}  // namespace portcullis::oauth
