#pragma once
// Migrates a light-oauth2 database into Portcullis (`portcullis import light-oauth2`): users,
// clients, services, endpoints, client-endpoint links, providers and refresh tokens, read from
// a SQL dump (store/sql/sql_dump.h) or straight from a light-oauth2 PostgreSQL database.
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
//
// Layout: this file is the import's domain logic (what carries over, what is checked, what is
// reported). Reading the source is an adapter under src/store/sql/ (sql_dump.h for dumps,
// light_oauth2_source.h for a PostgreSQL database); clients are written through
// ClientStore::InsertIfAbsent (the client store's one column list), the other domains' rows
// through an ImportTarget (SQL: store::SqlImportTarget), the audit entry through an AuditLog.
// Thread-safety: ImportLightOauth2 blocks on the store; run it from a CLI or pool thread.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/client/grant_type.h"
#include "store/db.h"

namespace portcullis::oauth::legacy {

// Rows read from light-oauth2's tables, as text (nullopt for NULL).
using Row = std::map<std::string, std::optional<std::string>>;  // column (lower case) -> value
using Tables = std::map<std::string, std::vector<Row>>;         // table (lower case) -> rows

// light-oauth2's tables and their column order (reference §3.1).
const std::map<std::string, std::vector<std::string>>& LightOauth2Tables();

// The rows the import writes into other domains' tables. Empty optional text is stored as NULL.
struct ImportedUser {
  std::string user_id, user_type, first_name, last_name, email, password_hash, roles;
  int64_t created_at = 0;
};
struct ImportedService {
  std::string service_id, service_type, service_name, service_desc, scope, owner_id, host;
  int64_t created_at = 0;
};
struct ImportedEndpoint {
  std::string service_id, endpoint, operation, scope;
};
struct ImportedProvider {
  std::string provider_id, server_url, uri, provider_name;
};
struct ImportedRefreshToken {
  std::string token_hash, family_id, client_id, user_id, user_type, roles, scope, remember;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

// Where the import writes what is not a client, inside the import's one transaction. Each
// Insert returns false when a row with that key exists (it is left as it is).
class ImportTarget {
 public:
  virtual ~ImportTarget() = default;
  virtual Result<bool> InsertUser(store::Tx& tx, const ImportedUser& u) = 0;
  virtual Result<bool> InsertService(store::Tx& tx, const ImportedService& s) = 0;
  virtual Result<bool> ServiceExists(store::Tx& tx, std::string_view service_id) = 0;
  virtual Result<bool> InsertEndpoint(store::Tx& tx, const ImportedEndpoint& e) = 0;
  virtual Result<bool> EndpointExists(store::Tx& tx, std::string_view service_id,
                                      std::string_view endpoint) = 0;
  virtual Result<bool> InsertLink(store::Tx& tx, std::string_view client_id,
                                  std::string_view service_id, std::string_view endpoint) = 0;
  virtual Result<bool> InsertProvider(store::Tx& tx, const ImportedProvider& p) = 0;
  virtual Result<bool> InsertRefreshToken(store::Tx& tx, const ImportedRefreshToken& t) = 0;
};

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
  // light-oauth2 authenticate_class values (Java class names) -> the name of the configured
  // authenticator that replaces them (e.g. its LDAP class -> "ldap-corp"); others stay as they are.
  std::map<std::string, std::string> authenticate_classes;
  // The grant types registration accepts (RegistrationPolicy::grant_types): imported clients are
  // checked against them, and a rule they break is reported as a warning. Empty: every grant
  // type is reported.
  std::span<const GrantType> grant_types;
};

// One transaction of `target`, writing through `clients`, `rows` and `audit`.
Result<ImportReport> ImportLightOauth2(store::Database& target, ClientStore& clients,
                                       ImportTarget& rows, audit::AuditLog& audit,
                                       const Tables& tables, const Clock& clock, Random& random,
                                       const ImportOptions& options);

}  // namespace portcullis::oauth::legacy
