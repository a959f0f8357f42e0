#include "store/sql/light_oauth2_source.h"

#include <algorithm>

namespace portcullis::store {
namespace {

Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

Result<bool> Inserted(Result<int64_t> r) {
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> Exists(Tx& tx, std::string_view sql, std::initializer_list<Param> p) {
  auto row = tx.QueryRow(sql, p);
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

}  // namespace

Result<oauth::legacy::Tables> ReadLightOauth2Database(Database& source) {
  oauth::legacy::Tables out;
  for (const auto& [table, wanted] : oauth::legacy::LightOauth2Tables()) {
    auto cols = source.Query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND "
        "table_schema = ANY (current_schemas(false))",
        {Text(table)});
    if (!cols) return Fail(std::move(cols.error()));
    std::vector<std::string> present;
    for (const auto& c : *cols) {
      std::string name = c.Str(0);
      if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) present.push_back(name);
    }
    if (present.empty()) continue;  // no such table here
    std::string list;
    for (const auto& c : present) {
      // Timestamps and other types come back as text.
      list += (list.empty() ? "" : ", ") + std::string("CAST(") + c + " AS TEXT)";
    }
    auto rows = source.Query("SELECT " + list + " FROM " + table);
    if (!rows) return Fail(std::move(rows.error()));
    auto& dest = out[table];
    for (const auto& r : *rows) {
      oauth::legacy::Row row;
      for (size_t i = 0; i < present.size(); ++i) row[present[i]] = r.OptStr(i);
      dest.push_back(std::move(row));
    }
  }
  return out;
}

Result<bool> SqlImportTarget::InsertUser(Tx& tx, const oauth::legacy::ImportedUser& u) {
  return Inserted(
      tx.Exec("INSERT INTO users (user_id, user_type, first_name, last_name, email, password_hash, "
              "roles, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
              "ON CONFLICT DO NOTHING",
              {Text(u.user_id), Text(u.user_type), OptText(u.first_name), OptText(u.last_name),
               Text(u.email), Text(u.password_hash), OptText(u.roles), Int(u.created_at)}));
}

Result<bool> SqlImportTarget::InsertService(Tx& tx, const oauth::legacy::ImportedService& s) {
  return Inserted(tx.Exec(
      "INSERT INTO services (service_id, service_type, service_name, service_desc, scope, "
      "owner_id, host, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
      "ON CONFLICT DO NOTHING",
      {Text(s.service_id), Text(s.service_type), Text(s.service_name), OptText(s.service_desc),
       OptText(s.scope), Text(s.owner_id), Text(s.host), Int(s.created_at)}));
}

Result<bool> SqlImportTarget::ServiceExists(Tx& tx, std::string_view service_id) {
  return Exists(tx, "SELECT 1 FROM services WHERE service_id = $1", {Text(service_id)});
}

Result<bool> SqlImportTarget::InsertEndpoint(Tx& tx, const oauth::legacy::ImportedEndpoint& e) {
  return Inserted(tx.Exec(
      "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES ($1, $2, $3, "
      "$4) ON CONFLICT DO NOTHING",
      {Text(e.service_id), Text(e.endpoint), OptText(e.operation), OptText(e.scope)}));
}

Result<bool> SqlImportTarget::EndpointExists(Tx& tx, std::string_view service_id,
                                             std::string_view endpoint) {
  return Exists(tx, "SELECT 1 FROM service_endpoints WHERE service_id = $1 AND endpoint = $2",
                {Text(service_id), Text(endpoint)});
}

Result<bool> SqlImportTarget::InsertLink(Tx& tx, std::string_view client_id,
                                         std::string_view service_id, std::string_view endpoint) {
  return Inserted(
      tx.Exec("INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ($1, $2, $3) "
              "ON CONFLICT DO NOTHING",
              {Text(client_id), Text(service_id), Text(endpoint)}));
}

Result<bool> SqlImportTarget::InsertProvider(Tx& tx, const oauth::legacy::ImportedProvider& p) {
  return Inserted(tx.Exec(
      "INSERT INTO providers (provider_id, server_url, uri, provider_name) VALUES ($1, $2, $3, "
      "$4) ON CONFLICT DO NOTHING",
      {Text(p.provider_id), Text(p.server_url), Text(p.uri), OptText(p.provider_name)}));
}

Result<bool> SqlImportTarget::InsertRefreshToken(Tx& tx,
                                                 const oauth::legacy::ImportedRefreshToken& t) {
  return Inserted(tx.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, user_type, roles, "
      "scope, remember, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
      "'active', $9, $10) ON CONFLICT DO NOTHING",
      {Text(t.token_hash), Text(t.family_id), Text(t.client_id), OptText(t.user_id),
       OptText(t.user_type), OptText(t.roles), OptText(t.scope), Text(t.remember),
       Int(t.created_at), Int(t.expires_at)}));
}

}  // namespace portcullis::store
