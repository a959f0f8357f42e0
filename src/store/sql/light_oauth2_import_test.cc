// The light-oauth2 import end to end, on SQLite and PostgreSQL: its source adapters (SQL dumps,
// a light-oauth2 PostgreSQL database) and its writes through SqlClientStore and
// SqlImportTarget.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "oauth/audit/audit.h"
#include "oauth/client/client_service.h"
#include "oauth/client/import/light_oauth2_import.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/grant_registry.h"
#include "store/sql/audit_log.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/client_store.h"
#include "store/sql/light_oauth2_source.h"
#include "store/sql/row_count_testing.h"
#include "store/sql/sql_dump.h"

namespace portcullis::store {
namespace {

using oauth::legacy::ImportLightOauth2;
using oauth::legacy::ImportOptions;
using oauth::legacy::LightOauth2Tables;

// light-oauth2's seed rows (reference §3.1, §16): user admin/123456 and the PetStore client
// with secret f6h1FTI8Q3-7UScPZDzfXA, as its create scripts insert them (PBKDF2 hashes in
// light-4j's format, reference §2.4).
constexpr const char* kAdminHash =
    "1000:5b39342c202d37372c203132302c202d3132302c2034372c2032332c2034352c202d34342c202d31362c"
    "2034372c202d35392c202d35362c2039302c202d352c202d38322c202d32385d:949e6fcf9c4bb8a3d6a8c141a3"
    "a9182a572fb95fe8ccdc93b54ba53df8ef2e930f7b0348590df0d53f242ccceeae03aef6d273a34638b49c559ada"
    "110ec06992";
constexpr const char* kClientHash =
    "1000:5b37332c202d36362c202d36392c203131362c203132362c2036322c2037382c20342c202d37382c202d31"
    "31352c202d35332c202d34352c202d342c202d3132322c203130322c2033325d:29ad1fe88d66584c4d279a6f58"
    "277858298dbf9270ffc0de4317a4d38ba4b41f35f122e0825c466f2fa14d91e17ba82b1a2f2a37877a2830fae297"
    "3076d93cc2";
constexpr const char* kRefreshToken = "86c0a39f-0789-4b71-9fed-d99fe6dc9281";

std::string UserInsert() {
  return std::string(
             "INSERT INTO user_profile (user_id, user_type, first_name, last_name, email, roles, "
             "password)\nVALUES('admin', 'admin', 'admin', 'admin', 'admin@networknt.com', "
             "'user admin', '") +
         kAdminHash + "');\n";
}

std::string PetstoreInsert() {
  return std::string(R"(INSERT INTO client (client_id, client_type, client_profile, client_name,
  client_desc, scope, custom_claim, redirect_uri, owner_id, host, client_secret)
VALUES('f7d42348-c647-4efb-a52d-4c5787421e72', 'public', 'mobile', 'PetStore Web Server',
  'PetStore Web Server that calls PetStore API', 'petstore.r petstore.w',
  '{"c1": "361", "c2": "67", "iss": "evil"}', 'http://localhost:8080/authorization', 'admin',
  'lightapi.net', ')") +
         kClientHash + "');\n";
}

std::string CreateScriptDump() {
  return std::string(R"(-- light-oauth2 create_postgres.sql (tables elided)
DROP TABLE IF EXISTS user_profile;
CREATE TABLE user_profile (
  user_id VARCHAR(32) NOT NULL, user_type VARCHAR(16) NOT NULL, first_name VARCHAR(32) NOT NULL,
  last_name VARCHAR(32) NOT NULL, email VARCHAR(64) NOT NULL, password VARCHAR(1024) NOT NULL,
  roles VARCHAR(2048), PRIMARY KEY (user_id)
);
CREATE FUNCTION touch() RETURNS trigger AS $body$ BEGIN NEW.x := 'a;b'; RETURN NEW; END; $body$
  LANGUAGE plpgsql;
)") + UserInsert() +
         "\n" + PetstoreInsert() +
         R"(INSERT INTO client (client_id, client_type, client_profile, client_name, client_desc, scope,
  owner_id, host, client_secret)
VALUES('59f347a0-c92d-11e6-9d9d-cec0c932ce01', 'trusted', 'service', 'Test80', 'x', 'data.r',
  'admin', 'lightapi.net', ')" +
         kClientHash + R"('),
      ('bad-type', 'superuser', 'service', 'x', 'x', 'x', 'admin', 'h', 'x');

INSERT INTO service (service_id, service_type, service_name, service_desc, scope, owner_id, host)
VALUES ('AACT0001', 'openapi', 'Account Service', 'A microservice that serves account information', 'a.r b.r', 'admin', 'lightapi.net');
INSERT INTO service_endpoint (service_id, endpoint, operation, scope) VALUES
  ('AACT0001', '/v1/data@get', 'getData', 'data.w data.r'),
  ('AACT0001', '/v1/data@post', 'postData', 'data.w'),
  ('NOPE', '/v1/x@get', 'x', 'x');
INSERT INTO client_service (client_id, service_id, endpoint)
VALUES ('59f347a0-c92d-11e6-9d9d-cec0c932ce01', 'AACT0001', '/v1/data@get');
INSERT INTO oauth_provider (provider_id, server_url, uri, provider_name)
VALUES ('05', 'http://google.ca/light-4j:8080', '/oauth/key', 'cloud light-4j');
INSERT INTO refresh_token (user_id, user_type, roles, client_id, scope, remember, refresh_token)
VALUES ('admin', 'admin', 'user admin', 'f7d42348-c647-4efb-a52d-4c5787421e72', 'petstore.r', 'Y',
  ')" + kRefreshToken +
         R"(');
)";
}

TEST(SqlDump, ReadsInsertsWithAndWithoutColumnLists) {
  auto t = ParseSqlDump(CreateScriptDump(), LightOauth2Tables());
  ASSERT_TRUE(t) << t.error().description;
  ASSERT_EQ(t->at("user_profile").size(), 1u);
  EXPECT_EQ(*t->at("user_profile")[0].at("password"), kAdminHash);
  EXPECT_EQ(*t->at("user_profile")[0].at("roles"), "user admin");
  ASSERT_EQ(t->at("client").size(), 3u);
  EXPECT_EQ(*t->at("client")[0].at("custom_claim"), R"({"c1": "361", "c2": "67", "iss": "evil"})");
  EXPECT_EQ(t->at("service_endpoint").size(), 3u);
  EXPECT_FALSE(t->contains("unknown"));

  auto positional = ParseSqlDump(
      "INSERT INTO public.oauth_provider VALUES ('05', 'https://x', '/oauth2/key', NULL);\n"
      "insert into \"service_endpoint\" values ('S', '/a@get', 'it''s', 'a.r'::character "
      "varying(64));",
      LightOauth2Tables());
  ASSERT_TRUE(positional) << positional.error().description;
  EXPECT_EQ(*positional->at("oauth_provider")[0].at("uri"), "/oauth2/key");
  EXPECT_FALSE(positional->at("oauth_provider")[0].at("provider_name").has_value());
  EXPECT_EQ(*positional->at("service_endpoint")[0].at("operation"), "it's");
  EXPECT_EQ(*positional->at("service_endpoint")[0].at("scope"), "a.r");
}

TEST(SqlDump, ReadsPgDumpCopyBlocks) {
  std::string dump = std::string(
                         "SET client_encoding = 'UTF8';\n"
                         "COPY public.user_profile (user_id, user_type, first_name, last_name, "
                         "email, password, roles) FROM stdin;\n"
                         "admin\tadmin\tadmin\tadmin\tadmin@networknt.com\t") +
                     kAdminHash +
                     "\tuser admin\n"
                     "zoe\tcustomer\tZo\\303\\253\t\\N\tz@x.com\th\\tash\t\\N\n"
                     "\\.\n"
                     "COPY public.audit_log (log_id) FROM stdin;\n1\n\\.\n"
                     "SELECT pg_catalog.setval('x', 1, true);\n";
  auto t = ParseSqlDump(dump, LightOauth2Tables());
  ASSERT_TRUE(t) << t.error().description;
  ASSERT_EQ(t->at("user_profile").size(), 2u);
  EXPECT_EQ(*t->at("user_profile")[0].at("password"), kAdminHash);
  EXPECT_FALSE(t->at("user_profile")[1].at("last_name").has_value());
  EXPECT_EQ(*t->at("user_profile")[1].at("password"), "h\tash");
  EXPECT_FALSE(t->contains("audit_log"));
}

TEST(SqlDump, ReadsMysqlDumps) {
  auto t = ParseSqlDump(
      "/*!40101 SET NAMES utf8 */;\n"
      "# a comment\n"
      "INSERT INTO `client_service` VALUES ('c1','AACT0001','/v1/data@get'),"
      "('c2','AACT0001','/v1/it\\'s@get');\n",
      LightOauth2Tables());
  ASSERT_TRUE(t) << t.error().description;
  ASSERT_EQ(t->at("client_service").size(), 2u);
  EXPECT_EQ(*t->at("client_service")[1].at("endpoint"), "/v1/it's@get");
}

TEST(SqlDump, ReportsMalformedStatementsWithTheirLine) {
  auto t =
      ParseSqlDump("\n\nINSERT INTO client (client_id) VALUES ('a', 'b');", LightOauth2Tables());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, "ERR11004");
  EXPECT_NE(t.error().description.find("dump line 3"), std::string::npos);
  EXPECT_FALSE(ParseSqlDump("INSERT INTO client VALUES ('unterminated", LightOauth2Tables()));
  EXPECT_FALSE(ParseSqlDump("COPY client (client_id) FROM stdin;\nx\n", LightOauth2Tables()));
  // Other tables' oddities do not matter.
  EXPECT_TRUE(ParseSqlDump("INSERT INTO other VALUES (((;", LightOauth2Tables()));
}

TEST(SqlDump, SurvivesMutatedInput) {
  // Deterministic mutations of a real dump: truncations, flipped bytes, inserted quotes and
  // backslashes. The parser must answer (rows or an error), never crash or read out of bounds.
  const std::string seed = CreateScriptDump() + "COPY client (client_id) FROM stdin;\na\\tb\n\\.\n";
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u; };
  const char specials[] = {'\'', '"',  '\\', ';', '(', ')', '$',
                           '\n', '\t', '-',  '/', '*', '`', ','};
  for (int i = 0; i < 3000; ++i) {
    std::string text = seed;
    int edits = 1 + next() % 8;
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t pos = next() % text.size();
      switch (next() % 4) {
        case 0:
          text.resize(pos);
          break;
        case 1:
          text[pos] = static_cast<char>(next() & 0xff);
          break;
        case 2:
          text.insert(pos, 1, specials[next() % sizeof specials]);
          break;
        case 3:
          text.erase(pos, 1 + next() % 16);
          break;
      }
    }
    (void)ParseSqlDump(text, LightOauth2Tables());
  }
}

class ImportTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    clients_ = std::make_unique<SqlClientStore>(db());
    audit_ = std::make_unique<SqlAuditLog>(db());
  }
  Result<oauth::legacy::ImportReport> Import(const oauth::legacy::Tables& tables,
                                             const ImportOptions& options) {
    return ImportLightOauth2(db(), *clients_, target_, *audit_, tables, clock_, Random::System(),
                             options);
  }
  oauth::ClientService Clients() {
    return oauth::ClientService(db(), *clients_, *audit_, clock_, Random::System(), hasher_,
                                nullptr, oauth::GrantRegistry::Default().types());
  }
  int64_t Count(const std::string& from_where) { return CountRows(db(), from_where); }

  ManualClock clock_;
  oauth::SecretHasher hasher_{Secret(std::string(32, 'p'))};
  std::unique_ptr<SqlClientStore> clients_;
  SqlImportTarget target_;
  std::unique_ptr<SqlAuditLog> audit_;
};

TEST_P(ImportTest, SeedDumpImportsAndItsCredentialsVerify) {
  auto tables = ParseSqlDump(CreateScriptDump(), LightOauth2Tables());
  ASSERT_TRUE(tables);
  ImportOptions options;
  options.actor = "cli:test";
  auto report = Import(*tables, options);
  ASSERT_TRUE(report) << report.error().description << report.error().detail;
  EXPECT_EQ(report->counts["users"].imported, 1);
  EXPECT_EQ(report->counts["clients"].imported, 2);
  EXPECT_EQ(report->counts["clients"].skipped, 1);  // clientType superuser
  EXPECT_EQ(report->counts["services"].imported, 1);
  EXPECT_EQ(report->counts["endpoints"].imported, 2);
  EXPECT_EQ(report->counts["endpoints"].skipped, 1);  // service NOPE
  EXPECT_EQ(report->counts["links"].imported, 1);
  EXPECT_EQ(report->counts["providers"].imported, 1);
  EXPECT_EQ(report->counts["refresh_tokens"].imported, 1);
  std::string warnings;
  for (const auto& w : report->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("custom claim 'iss' is reserved"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find(kRefreshToken), std::string::npos);

  // The imported user's password and client's secret verify, and are upgraded on first use.
  auto row = db().QueryRow("SELECT password_hash FROM users WHERE user_id = 'admin'");
  ASSERT_TRUE(row && *row);
  EXPECT_TRUE(oauth::VerifyPassword("123456", (**row).Str(0)));
  auto clients = Clients();
  auto ok = clients.VerifySecret("f7d42348-c647-4efb-a52d-4c5787421e72",
                                 Secret("f6h1FTI8Q3-7UScPZDzfXA"));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
  auto c = clients.Get("f7d42348-c647-4efb-a52d-4c5787421e72");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->secret_hash.starts_with("hs256$"));
  EXPECT_EQ(c->token_profile, oauth::TokenProfile::kLight4j);
  EXPECT_EQ(c->client_type, oauth::ClientType::kPublic);
  // Not named: Basic and post both work, as upstream (auth_method_explicit stays false).
  EXPECT_EQ(c->auth_method, oauth::AuthMethod::kClientSecretBasic);
  EXPECT_FALSE(c->auth_method_explicit);
  EXPECT_EQ(c->custom_claim, R"({"c1":"361","c2":"67"})");
  EXPECT_EQ(c->redirect_uris, (std::vector<std::string>{"http://localhost:8080/authorization"}));
  EXPECT_EQ(oauth::JoinScope(c->scope), "petstore.r petstore.w");
  EXPECT_TRUE(c->AllowsGrant("client_credentials"));
  EXPECT_FALSE(c->AllowsGrant("password"));
  auto trusted = clients.Get("59f347a0-c92d-11e6-9d9d-cec0c932ce01");
  EXPECT_TRUE(trusted->AllowsGrant("password"));
  EXPECT_EQ(*clients.ServiceLinks(trusted->client_id, "AACT0001"),
            (std::vector<std::string>{"/v1/data@get"}));

  auto token = db().QueryRow(
      "SELECT client_id, remember, state, expires_at FROM refresh_tokens "
      "WHERE token_hash = $1",
      {oauth::TokenHash(kRefreshToken)});
  ASSERT_TRUE(token && *token);
  EXPECT_EQ((**token).Str(1), "Y");
  EXPECT_EQ((**token).Str(2), "active");
  EXPECT_EQ((**token).Int(3), clock_.Now() + 90 * 86400);
  EXPECT_EQ(Count("refresh_tokens WHERE token_hash = '" + std::string(kRefreshToken) + "'"), 0);

  auto entries = audit_->List({.action = "import.light_oauth2"});
  ASSERT_TRUE(entries && entries->entries.size() == 1);
  EXPECT_EQ(entries->entries[0].actor, "cli:test");
  EXPECT_EQ(entries->entries[0].after_json.find("1000:"), std::string::npos);

  // Re-running skips what is there and changes nothing.
  auto again = Import(*tables, options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->counts["users"].imported, 0);
  EXPECT_EQ(again->counts["users"].skipped, 1);
  EXPECT_EQ(again->counts["refresh_tokens"].skipped, 1);
  EXPECT_EQ(Count("clients"), 2);
}

TEST_P(ImportTest, UserIdsOutsideTheRegistrysAlphabetAreSkipped) {
  // "ldap:bob" would be the second-factor key of directory user bob (TotpSubject): a local
  // account must never carry it.
  std::string dump = UserInsert();
  const std::string original = "VALUES('admin',";
  dump.replace(dump.find(original), original.size(), "VALUES('ldap:bob',");
  auto tables = ParseSqlDump(dump, LightOauth2Tables());
  ASSERT_TRUE(tables);
  ImportOptions options;
  options.actor = "cli:test";
  auto report = Import(*tables, options);
  ASSERT_TRUE(report) << report.error().description;
  EXPECT_EQ(report->counts["users"].imported, 0);
  EXPECT_EQ(report->counts["users"].skipped, 1);
  EXPECT_EQ(Count("users WHERE user_id = 'ldap:bob'"), 0);
}

TEST_P(ImportTest, DryRunChangesNothing) {
  auto tables = ParseSqlDump(CreateScriptDump(), LightOauth2Tables());
  ASSERT_TRUE(tables);
  ImportOptions options;
  options.dry_run = true;
  auto report = Import(*tables, options);
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_EQ(report->counts["clients"].imported, 2);
  EXPECT_EQ(Count("clients"), 0);
  EXPECT_EQ(Count("audit_log"), 0);
}

// Reading a light-oauth2 database needs PostgreSQL (its schema is PostgreSQL DDL).
class ImportPostgresTest : public ImportTest {};

TEST_P(ImportPostgresTest, ReadsALightOauth2PostgresDatabase) {
  // A light-oauth2 schema in a schema of its own, filled by its create script.
  const char* base = std::getenv("PORTCULLIS_TEST_PG_URL");
  ASSERT_NE(base, nullptr);
  auto admin = OpenDatabase(base);
  ASSERT_TRUE(admin) << admin.error().detail;
  std::string schema = "lo2_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA " + schema));
  std::string url = std::string(base) +
                    (std::string(base).find('?') == std::string::npos ? "?" : "&") +
                    "options=-csearch_path%3D" + schema;
  {
    auto source = OpenDatabase(url);
    ASSERT_TRUE(source) << source.error().detail;
    auto st = (*source)->Transact([&](Tx& tx) -> Status {
      return tx.ExecScript(
          "CREATE TABLE user_profile (user_id VARCHAR(32) PRIMARY KEY, user_type VARCHAR(16) NOT "
          "NULL, first_name VARCHAR(32) NOT NULL, last_name VARCHAR(32) NOT NULL, email "
          "VARCHAR(64) NOT NULL, password VARCHAR(1024) NOT NULL, roles VARCHAR(2048));"
          "CREATE TABLE client (client_id VARCHAR(36) PRIMARY KEY, client_type VARCHAR(12) NOT "
          "NULL, client_profile VARCHAR(10) NOT NULL, client_secret VARCHAR(1024) NOT NULL, "
          "client_name VARCHAR(32) NOT NULL, client_desc VARCHAR(2048), scope VARCHAR(4000), "
          "custom_claim VARCHAR(4000), redirect_uri VARCHAR(1024), authenticate_class "
          "VARCHAR(256), deref_client_id VARCHAR(36), owner_id VARCHAR(64) NOT NULL, host "
          "VARCHAR(64) NOT NULL);"
          "CREATE TABLE refresh_token (user_id VARCHAR(36) NOT NULL, user_type VARCHAR(36), "
          "roles VARCHAR(2048), client_id VARCHAR(36) NOT NULL, scope VARCHAR(64) NOT NULL, "
          "remember VARCHAR(1) NOT NULL, refresh_token VARCHAR(256) NOT NULL);" +
          UserInsert() + PetstoreInsert() +
          "INSERT INTO refresh_token VALUES ('admin', 'admin', 'user admin', "
          "'f7d42348-c647-4efb-a52d-4c5787421e72', 'petstore.r', 'N', '" +
          kRefreshToken + "');");
    });
    ASSERT_TRUE(st) << st.error().detail;
    auto tables = ReadLightOauth2Database(**source);
    ASSERT_TRUE(tables) << tables.error().detail;
    EXPECT_EQ(tables->at("user_profile").size(), 1u);
    EXPECT_EQ(tables->at("client").size(), 1u);
    EXPECT_FALSE(tables->contains("service"));
    auto report = Import(*tables, {});
    ASSERT_TRUE(report) << report.error().detail;
    EXPECT_EQ(report->counts["users"].imported, 1);
    EXPECT_EQ(report->counts["clients"].imported, 1);
    EXPECT_EQ(report->counts["refresh_tokens"].imported, 1);
  }
  ASSERT_TRUE((*admin)->Exec("DROP SCHEMA " + schema + " CASCADE"));
  auto clients = Clients();
  EXPECT_TRUE(*clients.VerifySecret("f7d42348-c647-4efb-a52d-4c5787421e72",
                                    Secret("f6h1FTI8Q3-7UScPZDzfXA")));
}

PORTCULLIS_INSTANTIATE_BACKENDS(ImportTest);
INSTANTIATE_TEST_SUITE_P(Backends, ImportPostgresTest, ::testing::Values("postgres"), BackendName);

}  // namespace
}  // namespace portcullis::store
