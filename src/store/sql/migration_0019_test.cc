// Migration 0019 (one name in two realms) on rows written before it, on SQLite and PostgreSQL:
// a directory user's refresh token, recorded as user_source 'client' then, names its realm
// after; a directory user's consent, which 0019 could only give to the local realm, is gone.
// The database is migrated to 0018, seeded, then migrated on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "common/clock.h"
#include "store/db.h"
#include "store/internal.h"
#include "store/test_env.h"

namespace portcullis::store {
namespace {

constexpr int kBefore = 18;  // the last migration before the one under test

class Migration0019 : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::random_device rd;
    std::string suffix = std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                         std::to_string(rd() % 1000000);
    std::string url;
    if (GetParam() == "postgres") {
      std::string base;
      PORTCULLIS_PG_URL_OR_SKIP(base);
      auto admin = OpenDatabase(base);
      ASSERT_TRUE(admin) << admin.error().detail;
      admin_ = std::move(*admin);
      schema_ = "pc_mig_" + suffix;
      auto r = admin_->Exec("CREATE SCHEMA " + schema_);
      ASSERT_TRUE(r) << r.error().detail;
      url = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
            schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("pc_mig_test_" + suffix);
      std::filesystem::create_directories(dir_);
      url = "sqlite:" + (dir_ / "db.sqlite").string();
    }
    auto db = OpenDatabase(url);
    ASSERT_TRUE(db) << db.error().detail;
    db_ = std::move(*db);
    // The schema as a binary before 0019 left it (Database::Migrate, stopped early).
    auto st = db_->Transact([&](Tx& tx) -> Status {
      if (auto r = tx.ExecScript(
              "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT "
              "NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
          !r) {
        return r;
      }
      for (const internal::Migration& m : internal::EmbeddedMigrations(db_->dialect())) {
        if (m.version > kBefore) break;
        if (auto r = tx.ExecScript(m.sql); !r) return r;
        auto ins =
            tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 1)",
                    {m.version, Text(m.name)});
        if (!ins) return Fail(std::move(ins.error()));
      }
      return {};
    });
    ASSERT_TRUE(st) << st.error().detail;
    auto v = db_->SchemaVersion();
    ASSERT_TRUE(v && *v == kBefore);
  }

  void TearDown() override {
    db_.reset();
    if (admin_ && !schema_.empty()) {
      auto r = admin_->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
      EXPECT_TRUE(r) << r.error().detail;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void AddClient(const char* id, std::optional<std::string> authenticate_class) {
    auto r = db_->Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at, authenticate_class) VALUES ($1, 'confidential', "
        "'webserver', $1, 'admin', 'h', 1, 1, $2)",
        {Text(id), OptText(authenticate_class)});
    ASSERT_TRUE(r) << r.error().detail;
  }

  void AddRefresh(const char* hash, const char* client_id, const char* user_source) {
    auto r = db_->Exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, state, "
        "created_at, expires_at, user_source) VALUES ($1, $1, $2, 'alice', 'active', 1, "
        "99999999999, $3)",
        {Text(hash), Text(client_id), Text(user_source)});
    ASSERT_TRUE(r) << r.error().detail;
  }

  void AddConsent(const char* client_id) {
    auto r = db_->Exec(
        "INSERT INTO consents (user_id, client_id, scope, created_at) VALUES ('alice', $1, "
        "'openid', 1)",
        {Text(client_id)});
    ASSERT_TRUE(r) << r.error().detail;
  }

  std::string UserSource(const char* hash) {
    auto row =
        db_->QueryRow("SELECT user_source FROM refresh_tokens WHERE token_hash = $1", {Text(hash)});
    EXPECT_TRUE(row && *row);
    if (!row || !*row) return "<missing>";
    return std::string((*row)->Text(0).value_or("<null>"));
  }

  bool HasConsent(const char* client_id) {
    auto row = db_->QueryRow(
        "SELECT realm FROM consents WHERE user_id = 'alice' AND client_id = $1", {Text(client_id)});
    EXPECT_TRUE(row) << row.error().detail;
    if (row && *row) EXPECT_EQ((*row)->Text(0).value_or("<null>"), "");
    return row && *row;
  }

  std::unique_ptr<Database> db_;

 private:
  std::string schema_;
  std::filesystem::path dir_;
  std::unique_ptr<Database> admin_;
};

TEST_P(Migration0019, DirectoryRefreshTokensNameTheirRealm) {
  AddClient("ldap-app", "ldap-corp");
  AddClient("local-app", std::nullopt);
  AddClient("empty-app", "");
  AddClient("default-app", "com.networknt.oauth.auth.DefaultAuthenticator");
  AddRefresh("h-ldap", "ldap-app", "client");
  AddRefresh("h-ldap-users", "ldap-app", "users");
  AddRefresh("h-local-client", "local-app", "client");
  AddRefresh("h-local-users", "local-app", "users");
  AddRefresh("h-empty", "empty-app", "client");
  AddRefresh("h-default", "default-app", "client");
  auto n = db_->Migrate();
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(UserSource("h-ldap"), "authenticator:ldap-corp");
  EXPECT_EQ(UserSource("h-ldap-users"), "users");
  // A trusted client's assertion of a client of the user store stays one.
  EXPECT_EQ(UserSource("h-local-client"), "client");
  EXPECT_EQ(UserSource("h-local-users"), "users");
  EXPECT_EQ(UserSource("h-empty"), "client");
  EXPECT_EQ(UserSource("h-default"), "client");
}

TEST_P(Migration0019, DirectoryUsersConsentsGoLocalOnesStay) {
  AddClient("ldap-app", "ldap-corp");
  AddClient("local-app", std::nullopt);
  AddClient("empty-app", "");
  AddClient("default-app", "default");
  for (const char* c : {"ldap-app", "local-app", "empty-app", "default-app"}) AddConsent(c);
  auto n = db_->Migrate();
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_FALSE(HasConsent("ldap-app"));
  EXPECT_TRUE(HasConsent("local-app"));
  EXPECT_TRUE(HasConsent("empty-app"));
  EXPECT_TRUE(HasConsent("default-app"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Migration0019, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace portcullis::store
