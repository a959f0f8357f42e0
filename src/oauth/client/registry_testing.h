#pragma once
// Test support for the registry suites (header-only, tests only): every suite runs on a fresh
// SQLite file, and on a fresh PostgreSQL schema when PORTCULLIS_TEST_PG_URL is set, e.g.
//   export PORTCULLIS_TEST_PG_URL=$(scripts/pg.sh start /tmp/pc-pg)
// Use: class FooTest : public RegistryDbTest {};  TEST_P(FooTest, ...)  and
// INSTANTIATE_TEST_SUITE_P(Backends, FooTest, kRegistryBackends, BackendName);

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "common/random.h"
#include "store/db.h"
#include "store/sql/row_count_testing.h"
#include "store/test_env.h"

namespace portcullis::oauth::testing {

inline std::string UniqueSuffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(rd() % 1000000);
}

class RegistryDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool IsPostgres() const { return GetParam() == "postgres"; }

  void SetUp() override {
    std::string url;
    if (IsPostgres()) {
      std::string base;
      PORTCULLIS_PG_URL_OR_SKIP(base);
      auto admin = store::OpenDatabase(base);
      ASSERT_TRUE(admin) << admin.error().detail;
      admin_ = std::move(*admin);
      schema_ = "pc_reg_" + UniqueSuffix();
      auto r = admin_->Exec("CREATE SCHEMA " + schema_);
      ASSERT_TRUE(r) << r.error().detail;
      std::string b(base);
      url =
          b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("pc_reg_" + UniqueSuffix());
      std::filesystem::create_directories(dir_);
      url = "sqlite:" + (dir_ / "registry.db").string();
    }
    url_ = url;
    auto db = store::OpenDatabase(url);
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

  int64_t Count(const std::string& sql_from_where) {
    return store::CountRows(*db_, sql_from_where);
  }

  std::unique_ptr<store::Database> db_;
  std::string url_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> admin_;
  std::string schema_;
};

inline const auto kRegistryBackends =
    ::testing::Values(std::string("sqlite"), std::string("postgres"));
inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// Deterministic ids and tokens for tests.
class CountingRandom final : public Random {
 public:
  void Fill(void* out, size_t n) override {
    auto* p = static_cast<unsigned char*>(out);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(next_++ * 37 + 11);
  }

 private:
  uint64_t next_ = 1;
};

}  // namespace portcullis::oauth::testing
