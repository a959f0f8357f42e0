#pragma once
// For the contract tests of the token-state stores (code, refresh token, reference token,
// deny-list, assertion jti): one fixture parametrised by "sqlite", "postgres" and "memory", so
// the SQL stores and their in-memory fakes answer the same cases. The "memory" runs hand the
// fakes transactions of a store::FakeDatabase, which fail any SQL.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "store/fake_database.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {

class TokenStateTest : public BackendTest {
 protected:
  bool IsMemory() const { return GetParam() == "memory"; }

  void SetUp() override {
    BackendTest::SetUp();  // "memory" gets an (unused) SQLite database
  }

  // The database whose transactions the store under test runs in.
  Database& txdb() { return IsMemory() ? static_cast<Database&>(fake_) : db(); }

  // Runs `fn` in one transaction and expects it to commit.
  void InTx(const std::function<Status(Tx&)>& fn) {
    auto st = txdb().Transact("test", fn);
    ASSERT_TRUE(st) << st.error().detail;
  }

  // Runs `fn(i)` on `n` threads started together; returns when all are done.
  static void Race(int n, const std::function<void(int)>& fn) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        fn(i);
      });
    }
    for (auto& t : threads) t.join();
  }

  // Inserts a client row (codes and refresh tokens reference clients) on the SQL backends.
  void AddClient(const std::string& client_id) {
    if (IsMemory()) return;
    auto r = db().Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id,"
        " host, created_at, updated_at) VALUES ($1, 'trusted', 'mobile', 'c', 'admin', 'h', 1, 1)",
        {Text(client_id)});
    ASSERT_TRUE(r) << r.error().detail;
  }

 private:
  FakeDatabase fake_;
};

inline std::string TokenStateBackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace portcullis::store

#define PORTCULLIS_INSTANTIATE_TOKEN_STATE(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values("sqlite", "postgres", "memory"), \
                           ::portcullis::store::TokenStateBackendName)
