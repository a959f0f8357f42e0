#pragma once
// For the contract tests of the SQL stores: a test fixture parametrised by backend ("sqlite",
// "postgres") that hands each test a fresh, migrated database: a file in a temp dir for SQLite,
// a schema of its own on the PostgreSQL server named by PORTCULLIS_TEST_PG_URL (skipped when
// unset, failed when the run requires PostgreSQL: test_env.h).
//
//   class ClientStoreContract : public store::BackendTest {};
//   TEST_P(ClientStoreContract, ...) { SqlClientStore s(db()); ... }
//   PORTCULLIS_INSTANTIATE_BACKENDS(ClientStoreContract);

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/db.h"
#include "store/test_env.h"

namespace portcullis::store {

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool IsPostgres() const { return GetParam() == "postgres"; }
  Database& db() { return *db_; }

  void SetUp() override {
    if (IsPostgres()) {
      PORTCULLIS_PG_URL_OR_SKIP(pg_base_);
      auto admin = OpenDatabase(pg_base_);
      ASSERT_TRUE(admin) << admin.error().detail;
      admin_ = std::move(*admin);
      schema_ = "pc_test_" + Suffix();
      auto r = admin_->Exec("CREATE SCHEMA " + schema_);
      ASSERT_TRUE(r) << r.error().detail;
      url_ = pg_base_ + (pg_base_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("pc_sql_test_" + Suffix());
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "db.sqlite").string();
    }
    auto db = OpenDatabase(url_);
    ASSERT_TRUE(db) << db.error().detail;
    db_ = std::move(*db);
    auto n = db_->Migrate();
    ASSERT_TRUE(n) << n.error().detail;
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

  // The URL of this test's database (to open a second connection, e.g. another "instance").
  const std::string& url() const { return url_; }

 private:
  static std::string Suffix() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 1000000);
  }

  std::string pg_base_, schema_, url_;
  std::filesystem::path dir_;
  std::unique_ptr<Database> admin_;
  std::unique_ptr<Database> db_;
};

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace portcullis::store

#define PORTCULLIS_INSTANTIATE_BACKENDS(suite)                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values("sqlite", "postgres"), \
                           ::portcullis::store::BackendName)
