#include "oauth/service/service_store.h"

#include <string>

#include "oauth/client/client_store.h"

namespace portcullis::oauth::service_store {

const char* const kColumns =
    "service_id, service_type, service_name, service_desc, scope, owner_id, host, created_at, "
    "updated_at, path_case";

Service RowToService(const store::Row& r) {
  Service s;
  s.service_id = r.Str(0);
  s.service_type = r.Str(1);
  s.service_name = r.Str(2);
  s.service_desc = r.Str(3);
  s.scope = r.Str(4);
  s.owner_id = r.Str(5);
  s.host = r.Str(6);
  s.created_at = r.Int(7);
  s.updated_at = r.Int(8);
  s.path_case = r.Str(9);
  return s;
}

Result<std::optional<Service>> Load(store::Tx& tx, std::string_view service_id, bool for_update) {
  auto row =
      tx.QueryRow(std::string("SELECT ") + kColumns + " FROM services WHERE service_id = $1" +
                      std::string(for_update ? client_store::ForUpdate(tx.dialect()) : ""),
                  {store::Text(service_id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Service>();
  return std::optional<Service>(RowToService(**row));
}

Result<std::vector<Endpoint>> LoadEndpoints(store::Tx& tx, std::string_view service_id) {
  auto rows = tx.Query(
      "SELECT endpoint, operation, scope FROM service_endpoints WHERE "
      "service_id = $1 ORDER BY endpoint" +
          std::string(client_store::ByteOrder(tx.dialect())),
      {store::Text(service_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<Endpoint> out;
  for (const auto& r : *rows) out.push_back(Endpoint{r.Str(0), r.Str(1), r.Str(2)});
  return out;
}

}  // namespace portcullis::oauth::service_store
