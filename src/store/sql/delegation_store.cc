#include "store/sql/delegation_store.h"

#include "oauth/client/client.h"

namespace portcullis::store {
namespace {

using oauth::DelegationPolicy;

constexpr std::string_view kSelect =
    "SELECT client_id, audience, scopes, max_depth FROM delegation_policies";

DelegationPolicy RowToPolicy(const Row& r) {
  return {r.Str(0), r.Str(1), oauth::SplitScope(r.Str(2)), r.OptInt(3)};
}

}  // namespace

Result<std::optional<DelegationPolicy>> SqlDelegationStore::Find(std::string_view client_id,
                                                                 std::string_view audience) {
  auto row = db_.QueryRow(std::string(kSelect) + " WHERE client_id = $1 AND audience = $2",
                          {Text(client_id), Text(audience)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<DelegationPolicy>();
  return std::optional<DelegationPolicy>(RowToPolicy(**row));
}

Result<std::vector<DelegationPolicy>> SqlDelegationStore::List(Tx& tx, std::string_view client_id) {
  auto rows =
      tx.Query(std::string(kSelect) + " WHERE client_id = $1 ORDER BY audience", {Text(client_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<DelegationPolicy> out;
  for (const auto& r : *rows) out.push_back(RowToPolicy(r));
  return out;
}

Status SqlDelegationStore::Replace(Tx& tx, std::string_view client_id,
                                   const std::vector<DelegationPolicy>& policies) {
  if (auto st = Delete(tx, client_id); !st) return st;
  for (const auto& p : policies) {
    auto r = tx.Exec(
        "INSERT INTO delegation_policies (client_id, audience, scopes, max_depth) VALUES ($1, $2, "
        "$3, $4)",
        {Text(client_id), Text(p.audience), Text(oauth::JoinScope(p.scopes)),
         store::OptInt(p.max_depth)});
    if (!r) return Fail(std::move(r.error()));
  }
  return {};
}

Status SqlDelegationStore::Delete(Tx& tx, std::string_view client_id) {
  auto r = tx.Exec("DELETE FROM delegation_policies WHERE client_id = $1", {Text(client_id)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<bool> SqlDelegationStore::AudienceExists(Tx& tx, std::string_view audience) {
  auto row = tx.QueryRow("SELECT 1 FROM services WHERE service_id = $1", {Text(audience)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

}  // namespace portcullis::store
