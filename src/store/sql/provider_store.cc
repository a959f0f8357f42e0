#include "store/sql/provider_store.h"
#include "store/sql/dialect_sql.h"

#include <algorithm>
#include <string>

namespace portcullis::store {
namespace {

using oauth::Provider;

constexpr const char* kColumns = "provider_id, server_url, uri, provider_name";

Provider RowToProvider(const Row& r) { return Provider{r.Str(0), r.Str(1), r.Str(2), r.Str(3)}; }

Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

Result<std::optional<Provider>> FirstProvider(Result<std::optional<Row>> row) {
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Provider>();
  return std::optional<Provider>(RowToProvider(**row));
}

}  // namespace

Status SqlProviderStore::Insert(Tx& tx, const Provider& p) {
  auto r =
      tx.Exec(std::string("INSERT INTO providers (") + kColumns + ") VALUES ($1, $2, $3, $4)",
              {Text(p.provider_id), Text(p.server_url), Text(p.uri), OptText(p.provider_name)});
  if (!r) {
    if (IsUniqueViolation(r.error())) return Fail(oauth::ProviderExists(p.provider_id));
    return Fail(std::move(r.error()));
  }
  return tx.Notify("provider", p.provider_id);
}

Result<std::optional<Provider>> SqlProviderStore::LoadForUpdate(Tx& tx, std::string_view id) {
  return FirstProvider(tx.QueryRow(std::string("SELECT ") + kColumns +
                                       " FROM providers WHERE provider_id = $1" +
                                       ForUpdate(tx.dialect()),
                                   {Text(id)}));
}

Status SqlProviderStore::Update(Tx& tx, const Provider& p) {
  auto r = tx.Exec(
      "UPDATE providers SET server_url = $2, uri = $3, provider_name = $4 WHERE provider_id = $1",
      {Text(p.provider_id), Text(p.server_url), Text(p.uri), OptText(p.provider_name)});
  if (!r) return Fail(std::move(r.error()));
  return tx.Notify("provider", p.provider_id);
}

Status SqlProviderStore::Delete(Tx& tx, std::string_view id) {
  auto r = tx.Exec("DELETE FROM providers WHERE provider_id = $1", {Text(id)});
  if (!r) return Fail(std::move(r.error()));
  return tx.Notify("provider", id);
}

Result<std::optional<Provider>> SqlProviderStore::Get(std::string_view id) {
  return FirstProvider(db_.QueryRow(
      std::string("SELECT ") + kColumns + " FROM providers WHERE provider_id = $1", {Text(id)}));
}

Result<std::vector<Provider>> SqlProviderStore::List() {
  auto rows = db_.Query(std::string("SELECT ") + kColumns + " FROM providers");
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<Provider> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(RowToProvider(r));
  // Sorted here, in byte order, whatever the database's collation.
  std::sort(out.begin(), out.end(),
            [](const Provider& a, const Provider& b) { return a.provider_id < b.provider_id; });
  return out;
}

}  // namespace portcullis::store
