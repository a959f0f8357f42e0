#pragma once
// The light-oauth2 importer's adapters over SQL: reading a light-oauth2 PostgreSQL database
// (the legacy schema, reference §3.1), and SqlImportTarget, which writes the imported rows of
// other domains (users, services, endpoints, links, providers, refresh tokens) into Portcullis'
// tables, each insert skipping an existing key (ON CONFLICT DO NOTHING). Clients go through
// SqlClientStore::InsertIfAbsent.

#include "oauth/client/import/light_oauth2_import.h"
#include "store/db.h"

namespace portcullis::store {

// The rows of light-oauth2's tables (LightOauth2Tables) in a PostgreSQL database, as text;
// columns an older schema lacks read as absent, tables it lacks as no rows.
Result<oauth::legacy::Tables> ReadLightOauth2Database(Database& source);

class SqlImportTarget final : public oauth::legacy::ImportTarget {
 public:
  Result<bool> InsertUser(Tx& tx, const oauth::legacy::ImportedUser& u) override;
  Result<bool> InsertService(Tx& tx, const oauth::legacy::ImportedService& s) override;
  Result<bool> ServiceExists(Tx& tx, std::string_view service_id) override;
  Result<bool> InsertEndpoint(Tx& tx, const oauth::legacy::ImportedEndpoint& e) override;
  Result<bool> EndpointExists(Tx& tx, std::string_view service_id,
                              std::string_view endpoint) override;
  Result<bool> InsertLink(Tx& tx, std::string_view client_id, std::string_view service_id,
                          std::string_view endpoint) override;
  Result<bool> InsertProvider(Tx& tx, const oauth::legacy::ImportedProvider& p) override;
  Result<bool> InsertRefreshToken(Tx& tx, const oauth::legacy::ImportedRefreshToken& t) override;
};

}  // namespace portcullis::store
