// The registry CLI, run in-process against a temporary SQLite store: parse, run, check the exit
// code, the output and the store.
#include "app/registry_cli.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <boost/json/parse.hpp>

#include "app/master_key.h"
#include "common/clock.h"
#include "common/random.h"
#include "oauth/client/client_service.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/token/grant_registry.h"
#include "store/db.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"

namespace portcullis::app {
namespace {

namespace json = boost::json;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
  json::value json() const {
    json::error_code ec;
    auto v = json::parse(out, ec);
    return ec ? json::value(nullptr) : v;
  }
};

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pc_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    auto c = LoadConfig({});
    ASSERT_TRUE(c);
    config_ = *c;
    config_.store.url = "sqlite:" + (dir_ / "portcullis.db").string();
    config_.keys.master_key = std::string(64, '1');
    // The commands work on an existing store (as after `portcullis migrate`).
    auto db = store::OpenDatabase(config_.store.url);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Migrate());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CliRun Cli(std::vector<std::string> args, const std::string& stdin_text = "",
             StoreCreation creation = StoreCreation::kMustExist) {
    CLI::App app{"test"};
    app.require_subcommand(1);
    auto commands = AddRegistryCommands(app, [](CLI::App*) {});
    std::vector<std::string> argv_s = {"portcullis"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    CliRun r;
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      r.code = 100 + e.get_exit_code();
      r.err = e.what();
      return r;
    }
    std::istringstream in(stdin_text);
    auto* old = std::cin.rdbuf(in.rdbuf());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    r.code = RunRegistryCommand(commands, config_, creation);
    std::fflush(stdout);
    r.out = ::testing::internal::GetCapturedStdout();
    r.err = ::testing::internal::GetCapturedStderr();
    std::cin.rdbuf(old);
    return r;
  }

  std::unique_ptr<store::Database> Db() {
    auto db = store::OpenDatabase(config_.store.url);
    EXPECT_TRUE(db);
    return std::move(*db);
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  Config config_;
};

// A command pointed at a store that does not exist refuses to create one (a typo in --store, or
// the wrong working directory), unless asked; the same for the SQLite master key file.
TEST_F(RegistryCliTest, RefusesToCreateAMissingStoreUnlessAsked) {
  config_.store.url = "sqlite:" + (dir_ / "elsewhere" / "portcullis.db").string();
  config_.keys.master_key.clear();
  auto r = Cli({"client", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find((dir_ / "elsewhere" / "portcullis.db").string() + " does not exist"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--create"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "elsewhere"));

  // An existing but never migrated store is refused as well.
  std::filesystem::create_directories(dir_ / "elsewhere");
  { std::ofstream touch(dir_ / "elsewhere" / "portcullis.db"); }
  r = Cli({"client", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("has no Portcullis schema"), std::string::npos) << r.err;

  // Asked: the store and its master key file are made.
  r = Cli({"client", "list"}, "", StoreCreation::kCreate);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "elsewhere" / "master.key"));
}

// A store made by `migrate` without a master key configured has no master.key yet: a client
// command must not invent one (its digests would not verify on a server with the real key).
TEST_F(RegistryCliTest, RefusesToCreateAMasterKeyUnlessAsked) {
  config_.keys.master_key.clear();
  auto r = Cli({"client", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("master.key does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "master.key"));
  r = Cli({"service", "list"});  // needs no master key
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(RegistryCliTest, ClientLifecycle) {
  auto r = Cli({"client", "create", "--type", "confidential", "--profile", "service", "--name",
                "Billing", "--host", "lightapi.net", "--scope", "billing.r billing.w",
                "--redirect-uri", "https://billing.example.com/cb", "--redirect-uri",
                "http://127.0.0.1:9000/cb", "--grant-type", "client_credentials", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto o = r.json().as_object();
  std::string id(o["clientId"].as_string());
  std::string secret(o["clientSecret"].as_string());
  EXPECT_EQ(secret.size(), 43u);
  EXPECT_EQ(o["redirectUris"].as_array().size(), 2u);
  EXPECT_EQ(o["grantTypes"].as_array().size(), 1u);
  EXPECT_NE(r.err.find("shown once"), std::string::npos);

  // The digest uses the server's pepper (derived from the master key).
  auto pepper = DerivePepper(config_);
  ASSERT_TRUE(pepper);
  oauth::SecretHasher hasher(*pepper);
  auto db = Db();
  store::SqlClientStore client_store(*db);
  store::SqlAuditLog audit(*db);
  oauth::ClientService clients(*db, client_store, audit, SystemClock::Instance(), Random::System(),
                               hasher, nullptr, oauth::GrantRegistry::Default().types());
  auto stored = clients.Get(id);
  ASSERT_TRUE(stored) << stored.error().description;
  EXPECT_TRUE(hasher.Verify(secret, stored->secret_hash));

  EXPECT_EQ(Cli({"client", "verify-secret", id}, secret + "\n").code, 0);
  r = Cli({"client", "verify-secret", id}, "wrong\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ERR12007"), std::string::npos);

  r = Cli({"client", "update", id, "--data",
           R"({"clientDesc":"from --data","tokenProfile":"light-4j"})", "--name", "Billing 2",
           "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json().as_object()["clientName"], "Billing 2");
  EXPECT_EQ(r.json().as_object()["clientDesc"], "from --data");
  EXPECT_FALSE(r.json().as_object().contains("clientSecret"));

  r = Cli({"client", "list"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("clientId\tclientName"), std::string::npos);
  EXPECT_NE(r.out.find("Billing 2"), std::string::npos);
  r = Cli({"client", "get", id});
  EXPECT_NE(r.out.find("clientName: Billing 2"), std::string::npos);
  EXPECT_EQ(r.out.find("hs256"), std::string::npos);

  r = Cli({"client", "rotate-secret", id, "--json"});
  ASSERT_EQ(r.code, 0);
  std::string rotated(r.json().as_object()["clientSecret"].as_string());
  EXPECT_EQ(Cli({"client", "verify-secret", id}, rotated).code, 0);
  EXPECT_EQ(Cli({"client", "verify-secret", id}, secret).code, 1);

  EXPECT_EQ(Cli({"client", "delete", id}).code, 0);
  r = Cli({"client", "get", id});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ERR12014 CLIENT_NOT_FOUND"), std::string::npos);
}

TEST_F(RegistryCliTest, ValidationErrorsNameTheField) {
  auto r = Cli(
      {"client", "create", "--type", "fake", "--profile", "service", "--name", "x", "--host", "h"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ERR11004 VALIDATOR_SCHEMA: clientType: 'fake' is not one of"),
            std::string::npos)
      << r.err;
  r = Cli({"client", "create", "--data", R"({"clientType":"public","bogus":1})"});
  EXPECT_NE(r.err.find("bogus: unknown field"), std::string::npos) << r.err;
  r = Cli({"client", "create", "--data", "@/nonexistent/file.json"});
  EXPECT_NE(r.err.find("--data: cannot read"), std::string::npos) << r.err;
  r = Cli({"client", "create", "--type", "public", "--profile", "mobile", "--name", "x", "--host",
           "h", "--redirect-uri", "http://evil.example.com/cb"});
  EXPECT_NE(r.err.find("redirectUris[0]: must use https unless the host is loopback"),
            std::string::npos);
}

TEST_F(RegistryCliTest, ServicesLinksUsersProvidersAndAudit) {
  ASSERT_EQ(Cli({"service", "create", "--id", "AACT0001", "--type", "openapi", "--name",
                 "Account Service", "--host", "lightapi.net"})
                .code,
            0);
  auto r = Cli({"service", "set-endpoints", "AACT0001", "--data",
                R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.w data.r"}])"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"client", "create", "--id", "c1", "--type", "trusted", "--profile", "service", "--name",
           "c1", "--host", "h", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"client", "link", "c1", "AACT0001", "/v1/data@get", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json().as_object()["new_scope"], "data.w data.r");
  r = Cli({"client", "links", "c1", "--json"});
  EXPECT_EQ(r.out, "{\"AACT0001\":[\"/v1/data@get\"]}\n");
  r = Cli({"client", "unlink", "c1", "--json"});
  EXPECT_EQ(r.json().as_object()["new_scope"], "");

  r = Cli({"user", "create", "--id", "alice", "--type", "employee", "--email", "alice@x.com",
           "--password-stdin"},
          "correct horse battery\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("argon2"), std::string::npos);
  r = Cli({"user", "password", "alice"}, "correct horse battery\nnew password 123\n");
  EXPECT_EQ(r.code, 0) << r.err;
  r = Cli({"user", "password", "alice"}, "wrong\nnew password 456\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ERR12016"), std::string::npos);
  EXPECT_EQ(Cli({"user", "set-password", "alice"}, "reset password 789\n").code, 0);
  r = Cli({"user", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json().as_object()["users"].as_array().size(), 1u);
  EXPECT_EQ(r.json().as_object()["total"], 1);

  EXPECT_EQ(
      Cli({"provider", "create", "--id", "05", "--server-url", "https://peer.example.com"}).code,
      0);
  r = Cli({"provider", "get", "05", "--json"});
  EXPECT_EQ(r.json().as_object()["uri"], "/oauth2/key");
  EXPECT_EQ(Cli({"provider", "delete", "11111"}).code, 1);

  r = Cli({"audit", "list", "--kind", "user", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto audit = r.json().as_object();
  EXPECT_EQ(audit["total"], 3);  // create, password, set-password
  EXPECT_NE(r.out.find("cli:"), std::string::npos);
  for (const char* secret : {"correct horse", "new password", "reset password"}) {
    EXPECT_EQ(r.out.find(secret), std::string::npos);
  }
  // The table shows when as ISO 8601 UTC, the JSON as the API's unix seconds.
  EXPECT_TRUE(audit["entries"].as_array()[0].as_object()["at"].is_int64());
  r = Cli({"audit", "list", "--kind", "user"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\b20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\b)")))
      << r.out;
  EXPECT_FALSE(std::regex_search(r.out, std::regex(R"(\b1\d{9}\b)"))) << r.out;
}

TEST_F(RegistryCliTest, ImportLightOauth2Dump) {
  // Built from the reference's seed rows: user admin/123456 and a client with secret
  // f6h1FTI8Q3-7UScPZDzfXA, both hashed with light-4j's PBKDF2 and its odd salt format.
  std::string user_hash = oauth::HashPbkdf2ForTest(
      "123456", "[94, -77, 120, -120, 47, 23, 45, -44, -16, 47, -59, -56, 90, -5, -82, -28]", 1000);
  std::string client_hash = oauth::HashPbkdf2ForTest(
      "f6h1FTI8Q3-7UScPZDzfXA",
      "[73, -66, -69, 116, 126, 62, 78, 4, -78, -115, -53, -45, -4, -122, 102, 32]", 1000);
  std::string dump =
      std::string("COPY public.user_profile (user_id, user_type, first_name, ") +
      "last_name, email, password, roles) FROM stdin;\nadmin\tadmin\tadmin\tadmin\t" +
      "admin@networknt.com\t" + user_hash + "\tuser admin\n" +
      // light-oauth2's dump text (parsed, never sent to a store).
      "\\.\nINSERT INTO client (client_id, client_type, client_profile, client_secret, "
      "client_name, client_desc, scope, custom_claim, redirect_uri, owner_id, host) "
      "VALUES ('f7d42348-c647-4efb-a52d-4c5787421e72', 'public', 'mobile', '" +
      client_hash +
      "', 'PetStore Web Server', 'x', 'petstore.r petstore.w', "
      "'{\"c1\": \"361\"}', 'http://localhost:8080/authorization', 'admin', "
      "'lightapi.net');\n";
  auto path = dir_ / "light-oauth2.sql";
  std::ofstream(path) << dump;

  auto r = Cli({"import", "light-oauth2", "--from", path.string(), "--dry-run", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json().as_object()["counts"].as_object()["clients"].as_object()["imported"], 1);
  EXPECT_EQ(Cli({"client", "get", "f7d42348-c647-4efb-a52d-4c5787421e72"}).code, 1);

  r = Cli({"import", "light-oauth2", "--from", path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("users           imported 1, skipped 0"), std::string::npos) << r.out;
  EXPECT_EQ(Cli({"client", "verify-secret", "f7d42348-c647-4efb-a52d-4c5787421e72"},
                "f6h1FTI8Q3-7UScPZDzfXA\n")
                .code,
            0);
  // The user's light-oauth2 password verifies (and is replaced by argon2id on the way).
  EXPECT_EQ(Cli({"user", "password", "admin"}, "123456\nbrand-new-password\n").code, 0);
  r = Cli({"import", "light-oauth2", "--from", (dir_ / "missing.sql").string()});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace portcullis::app
