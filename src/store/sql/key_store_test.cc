// Contract: SqlKeyStore and MemoryKeyStore keep signing-key records the same way, on SQLite,
// PostgreSQL and in memory: every field round-trips, a kid is unique, and a state change is
// compare-and-set, so instances sharing one database never both apply the same transition.
#include "store/sql/key_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "oauth/key/memory_key_store.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::KeyState;
using oauth::KeyStateChange;
using oauth::SigningKeyRecord;

class KeyStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryKeyStore>();
      return;
    }
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = std::make_unique<SqlKeyStore>(db());
  }
  void TearDown() override {
    store_.reset();
    if (GetParam() != "memory") BackendTest::TearDown();
  }

  static SigningKeyRecord Record(std::string kid, KeyState state) {
    SigningKeyRecord r;
    r.kid = std::move(kid);
    r.alg = jose::Alg::kES256;
    r.state = state;
    r.private_key_encrypted = "sealed:" + r.kid + ":'quoted'";
    r.public_jwk = R"({"kty":"EC","kid":")" + r.kid + R"("})";
    r.certificate_pem = "-----BEGIN CERTIFICATE-----\n...\n";
    r.created_at = 100;
    r.publish_at = 100;
    r.activate_at = 160;
    return r;
  }

  std::optional<SigningKeyRecord> Get(std::string_view kid) {
    auto all = store_->List();
    EXPECT_TRUE(all) << all.error().detail;
    if (!all) return std::nullopt;
    for (auto& r : *all) {
      if (r.kid == kid) return r;
    }
    return std::nullopt;
  }

  std::unique_ptr<oauth::KeyStore> store_;
};

TEST_P(KeyStoreContract, EveryFieldRoundTripsAndAKidIsUnique) {
  ASSERT_TRUE(store_->Create(Record("05100", KeyState::kCurrent)));
  ASSERT_TRUE(store_->Create(Record("05101", KeyState::kNext)));
  auto dup = store_->Create(Record("05100", KeyState::kNext));
  ASSERT_FALSE(dup);
  EXPECT_TRUE(oauth::IsKeyConflict(dup.error()));

  auto got = Get("05100");
  ASSERT_TRUE(got);
  SigningKeyRecord want = Record("05100", KeyState::kCurrent);
  EXPECT_EQ(got->alg, want.alg);
  EXPECT_EQ(got->state, want.state);
  EXPECT_EQ(got->private_key_encrypted, want.private_key_encrypted);
  EXPECT_EQ(got->public_jwk, want.public_jwk);
  EXPECT_EQ(got->certificate_pem, want.certificate_pem);
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->publish_at, 100);
  EXPECT_EQ(got->activate_at, 160);
  EXPECT_EQ(got->retired_at, 0);
  EXPECT_EQ(got->expires_at, 0);
  EXPECT_EQ(store_->List()->size(), 2u);
}

TEST_P(KeyStoreContract, StateChangesAreCompareAndSet) {
  ASSERT_TRUE(store_->Create(Record("05100", KeyState::kCurrent)));
  ASSERT_TRUE(store_->UpdateState(
      "05100", KeyStateChange{KeyState::kCurrent, KeyState::kPrevious, 500, 900}));
  auto got = Get("05100");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, KeyState::kPrevious);
  EXPECT_EQ(got->retired_at, 500);
  EXPECT_EQ(got->expires_at, 900);

  // A second instance applying the same transition finds the state moved on.
  auto again = store_->UpdateState(
      "05100", KeyStateChange{KeyState::kCurrent, KeyState::kPrevious, 600, 1000});
  ASSERT_FALSE(again);
  EXPECT_TRUE(oauth::IsKeyConflict(again.error()));
  EXPECT_EQ(Get("05100")->retired_at, 500);

  // Fields not given are kept.
  ASSERT_TRUE(store_->UpdateState("05100", KeyStateChange{KeyState::kPrevious, KeyState::kRetired,
                                                          std::nullopt, std::nullopt}));
  EXPECT_EQ(Get("05100")->state, KeyState::kRetired);
  EXPECT_EQ(Get("05100")->expires_at, 900);

  auto missing =
      store_->UpdateState("05999", KeyStateChange{KeyState::kNext, KeyState::kCurrent, {}, {}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR12017");
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

}  // namespace
}  // namespace portcullis::store
