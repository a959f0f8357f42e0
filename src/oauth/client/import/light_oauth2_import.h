#pragma once
// Migrates a light-oauth2 database into Portcullis (`portcullis import light-oauth2`): users,
// clients, services, endpoints, client-endpoint links, providers and refresh tokens, read from
// a SQL dump (see sql_dump.h) or straight from a light-oauth2 PostgreSQL database.
//
// Everything is written in one transaction with one audit entry. Rows whose id already exists
// are skipped (the import can be re-run), as are rows that reference a missing client, service
// or endpoint; each skip is reported.
//
// What carries over unchanged: PBKDF2 password and secret hashes (they verify as they are and
// are upgraded on first successful use), each client's stored scope (light-oauth2's scope
// column is what its tokens carried), custom claims, owner and host. What is added: clients get
// the light-4j token profile (the claims their resource servers expect) and the grants
// light-oauth2 allowed their type; the single redirect_uri becomes the first of the list;
// refresh tokens are stored by hash in families of their own, expiring `refresh_token_ttl`
// seconds after the import. What is dropped, with a warning: custom claims with reserved names
// (they could override iss, aud, scope... in light-oauth2, reference §18.6).
// Rows that break today's validation rules (e.g. an http redirect URI to a public host) are
// imported as they are, with a warning, so no client stops working.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/client/import/sql_dump.h"
#include "store/db.h"

namespace portcullis::oauth::legacy {

// light-oauth2's tables and their column order (reference §3.1).
const std::map<std::string, std::vector<std::string>>& LightOauth2Tables();

// The rows of light-oauth2's tables in a PostgreSQL database; columns an older schema lacks
// read as absent.
Result<Tables> ReadLightOauth2Database(store::Database& source);

struct ImportCounts {
  int64_t imported = 0;
  int64_t skipped = 0;
};

struct ImportReport {
  std::map<std::string, ImportCounts> counts;  // users clients services endpoints links ...
  std::vector<std::string> warnings;
};

struct ImportOptions {
  int64_t refresh_token_ttl = 90 * 86400;
  std::string actor = "import";
  bool dry_run = false;  // do everything, then roll back
};

Result<ImportReport> ImportLightOauth2(store::Database& target, const Tables& tables,
                                       const Clock& clock, Random& random,
                                       const ImportOptions& options);

}  // namespace portcullis::oauth::legacy
