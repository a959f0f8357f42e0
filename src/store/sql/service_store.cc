#include "store/sql/service_store.h"
#include "store/sql/dialect_sql.h"

#include <map>
#include <set>
#include <string>

namespace portcullis::store {
namespace {

using oauth::Endpoint;
using oauth::Service;
using oauth::ServiceEntry;
using oauth::ServicePage;

constexpr const char* kColumns =
    "service_id, service_type, service_name, service_desc, scope, owner_id, host, created_at, "
    "updated_at, path_case";

Service RowToService(const Row& r) {
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

Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

std::string EndpointsSql(Dialect d) {
  return "SELECT endpoint, operation, scope FROM service_endpoints WHERE service_id = $1 "
         "ORDER BY endpoint" +
         ByteOrder(d);
}

std::vector<Endpoint> RowsToEndpoints(const Rows& rows) {
  std::vector<Endpoint> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(Endpoint{r.Str(0), r.Str(1), r.Str(2)});
  return out;
}

}  // namespace

Status SqlServiceStore::Insert(Tx& tx, const Service& s) {
  auto r = tx.Exec(std::string("INSERT INTO services (") + kColumns +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                   {Text(s.service_id), Text(s.service_type), Text(s.service_name),
                    OptText(s.service_desc), OptText(s.scope), Text(s.owner_id), Text(s.host),
                    Int(s.created_at), Int(s.updated_at), Text(s.path_case)});
  if (!r) {
    if (IsUniqueViolation(r.error())) return Fail(oauth::ServiceExists(s.service_id));
    return Fail(std::move(r.error()));
  }
  return tx.Notify("service", s.service_id);
}

Result<std::optional<Service>> SqlServiceStore::LoadForUpdate(Tx& tx, std::string_view id) {
  auto row = tx.QueryRow(std::string("SELECT ") + kColumns +
                             " FROM services WHERE service_id = $1" + ForUpdate(tx.dialect()),
                         {Text(id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Service>();
  return std::optional<Service>(RowToService(**row));
}

Status SqlServiceStore::Update(Tx& tx, const Service& s) {
  auto r = tx.Exec(
      "UPDATE services SET service_type = $2, service_name = $3, service_desc = $4, "
      "scope = $5, owner_id = $6, host = $7, updated_at = $8, path_case = $9 "
      "WHERE service_id = $1",
      {Text(s.service_id), Text(s.service_type), Text(s.service_name), OptText(s.service_desc),
       OptText(s.scope), Text(s.owner_id), Text(s.host), Int(s.updated_at), Text(s.path_case)});
  if (!r) return Fail(std::move(r.error()));
  return tx.Notify("service", s.service_id);
}

Status SqlServiceStore::Delete(Tx& tx, std::string_view id) {
  // Explicitly, child rows first: the foreign-key cascades are a backstop, not the contract.
  for (const char* sql : {"DELETE FROM client_endpoints WHERE service_id = $1",
                          "DELETE FROM service_endpoints WHERE service_id = $1",
                          "DELETE FROM services WHERE service_id = $1"}) {
    auto r = tx.Exec(sql, {Text(id)});
    if (!r) return Fail(std::move(r.error()));
  }
  return tx.Notify("service", id);
}

Result<std::vector<Endpoint>> SqlServiceStore::Endpoints(Tx& tx, std::string_view id) {
  auto rows = tx.Query(EndpointsSql(tx.dialect()), {Text(id)});
  if (!rows) return Fail(std::move(rows.error()));
  return RowsToEndpoints(*rows);
}

Status SqlServiceStore::ReplaceEndpoints(Tx& tx, std::string_view id,
                                         const std::vector<Endpoint>& endpoints) {
  if (endpoints.empty()) {
    for (const char* sql : {"DELETE FROM client_endpoints WHERE service_id = $1",
                            "DELETE FROM service_endpoints WHERE service_id = $1"}) {
      auto r = tx.Exec(sql, {Text(id)});
      if (!r) return Fail(std::move(r.error()));
    }
    return tx.Notify("service", id);
  }
  auto current =
      tx.Query("SELECT endpoint FROM service_endpoints WHERE service_id = $1", {Text(id)});
  if (!current) return Fail(std::move(current.error()));
  std::set<std::string_view> wanted;
  for (const auto& e : endpoints) wanted.insert(e.endpoint);
  // Endpoints that go away take their client links with them.
  for (const auto& row : *current) {
    std::string old = row.Str(0);
    if (wanted.contains(old)) continue;
    for (const char* sql :
         {"DELETE FROM client_endpoints WHERE service_id = $1 AND endpoint = $2",
          "DELETE FROM service_endpoints WHERE service_id = $1 AND endpoint = $2"}) {
      auto r = tx.Exec(sql, {Text(id), Text(old)});
      if (!r) return Fail(std::move(r.error()));
    }
  }
  // Upsert the rest: links to endpoints that stay are kept.
  for (const auto& e : endpoints) {
    auto r = tx.Exec(
        "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (service_id, endpoint) DO UPDATE SET "
        "operation = excluded.operation, scope = excluded.scope",
        {Text(id), Text(e.endpoint), OptText(e.operation), Text(e.scope)});
    if (!r) return Fail(std::move(r.error()));
  }
  return tx.Notify("service", id);
}

Result<std::optional<Service>> SqlServiceStore::Get(std::string_view id) {
  auto row = db_.QueryRow(
      std::string("SELECT ") + kColumns + " FROM services WHERE service_id = $1", {Text(id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Service>();
  return std::optional<Service>(RowToService(**row));
}

Result<ServicePage> SqlServiceStore::List(std::string_view host_prefix, int64_t offset,
                                          int64_t limit) {
  // One transaction, so the count and the page agree.
  return db_.TransactValue<ServicePage>("service.list", [&](Tx& tx) -> Result<ServicePage> {
    ServicePage page;
    auto count = tx.QueryRow(
        "SELECT count(*) FROM services WHERE substr(host, 1, length(CAST($1 AS TEXT))) = "
        "CAST($1 AS TEXT)",
        {Text(host_prefix)});
    if (!count) return Fail(std::move(count.error()));
    page.total = *count ? (**count).Int(0) : 0;
    auto rows = tx.Query(std::string("SELECT ") + kColumns +
                             " FROM services WHERE substr(host, 1, length(CAST($1 AS TEXT))) = "
                             "CAST($1 AS TEXT) ORDER BY service_id" +
                             ByteOrder(tx.dialect()) + " LIMIT $2 OFFSET $3",
                         {Text(host_prefix), Int(limit), Int(offset)});
    if (!rows) return Fail(std::move(rows.error()));
    for (const auto& r : *rows) page.services.push_back(RowToService(r));
    return page;
  });
}

Result<std::vector<Endpoint>> SqlServiceStore::ListEndpoints(std::string_view id) {
  auto rows = db_.Query(EndpointsSql(db_.dialect()), {Text(id)});
  if (!rows) return Fail(std::move(rows.error()));
  return RowsToEndpoints(*rows);
}

Result<std::vector<ServiceEntry>> SqlServiceStore::LoadAll() {
  auto services = db_.Query(std::string("SELECT ") + kColumns + " FROM services");
  if (!services) return Fail(std::move(services.error()));
  auto endpoints = db_.Query(
      "SELECT service_id, endpoint, operation, scope FROM service_endpoints ORDER BY service_id, "
      "endpoint" +
      ByteOrder(db_.dialect()));
  if (!endpoints) return Fail(std::move(endpoints.error()));
  std::map<std::string, std::vector<Endpoint>, std::less<>> by_service;
  for (const auto& r : *endpoints) {
    by_service[r.Str(0)].push_back(Endpoint{r.Str(1), r.Str(2), r.Str(3)});
  }
  std::vector<ServiceEntry> out;
  out.reserve(services->size());
  for (const auto& r : *services) {
    ServiceEntry entry;
    entry.service = RowToService(r);
    if (auto it = by_service.find(entry.service.service_id); it != by_service.end()) {
      entry.endpoints = std::move(it->second);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::optional<ServiceEntry>> SqlServiceStore::LoadEntry(std::string_view id) {
  auto service = Get(id);
  if (!service) return Fail(std::move(service.error()));
  if (!*service) return std::optional<ServiceEntry>();
  auto endpoints = ListEndpoints(id);
  if (!endpoints) return Fail(std::move(endpoints.error()));
  return std::optional<ServiceEntry>(ServiceEntry{std::move(**service), std::move(*endpoints)});
}

Result<std::optional<std::vector<std::string>>> SqlServiceStore::DeclaredScopes(
    std::string_view id) {
  // One round trip: the service's row, joined with its endpoints (none: one row of NULLs).
  auto rows = db_.Query(
      "SELECT e.endpoint, e.scope FROM services s LEFT JOIN service_endpoints e "
      "ON e.service_id = s.service_id WHERE s.service_id = $1 ORDER BY e.endpoint" +
          ByteOrder(db_.dialect()),
      {Text(id)});
  if (!rows) return Fail(std::move(rows.error()));
  if (rows->empty()) return std::optional<std::vector<std::string>>();
  std::vector<Endpoint> endpoints;
  for (const auto& r : *rows) {
    if (!r.IsNull(0)) endpoints.push_back(Endpoint{r.Str(0), "", r.Str(1)});
  }
  return std::optional<std::vector<std::string>>(oauth::DeclaredScopesOf(endpoints));
}

}  // namespace portcullis::store
