// KeyAdmin over fakes (MemoryKeyStore, MemoryAuditLog, FakeDatabase): admin key changes leave
// one audit entry per changed key, with the state before and after and no key material.
#include "oauth/key/key_admin.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "oauth/audit/audit.h"
#include "oauth/key/memory_key_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

class KeyAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::Configure(log::Level::kWarn, log::Format::kText);
    KeyManagerConfig c;
    c.alg = jose::Alg::kES256;  // fast key generation
    auto m = KeyManager::Create(store_, clock_, Random::System(), master_, c);
    ASSERT_TRUE(m);
    keys_ = std::move(*m);
    ASSERT_TRUE(keys_->Tick());  // the first key, current at once
    admin_ = std::make_unique<KeyAdmin>(*keys_, db_, audit_, clock_);
  }

  std::vector<audit::Row> Entries(std::string action = "key.") {
    audit::Query q;
    q.action = std::move(action);
    q.limit = 100;
    return audit_.List(q).value().entries;
  }

  ManualClock clock_{1'700'000'000};
  MemoryKeyStore store_;
  MasterKey master_ = MasterKey::Generate(Random::System());
  store::FakeDatabase db_;
  audit::MemoryAuditLog audit_;
  std::unique_ptr<KeyManager> keys_;
  std::unique_ptr<KeyAdmin> admin_;
};

TEST_F(KeyAdminTest, RotationIsAuditedWithTheNewKey) {
  ASSERT_TRUE(Entries().empty());  // Tick is not an admin change
  clock_.Advance(10);
  auto kid = admin_->Rotate("client:admin");
  ASSERT_TRUE(kid) << kid.error().detail;
  auto rows = Entries();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "key.rotate");
  EXPECT_EQ(rows[0].actor, "client:admin");
  EXPECT_EQ(rows[0].entity_kind, "key");
  EXPECT_EQ(rows[0].entity_id, *kid);
  EXPECT_EQ(rows[0].at, 1'700'000'010);
  EXPECT_TRUE(rows[0].before_json.empty());  // the key did not exist
  auto after = boost::json::parse(rows[0].after_json).as_object();
  EXPECT_EQ(after.at("state").as_string(), "next");
  EXPECT_EQ(after.at("kid").as_string(), *kid);
  EXPECT_EQ(rows[0].after_json.find("private"), std::string::npos);
}

TEST_F(KeyAdminTest, RotatingAgainRecordsTheRetiredPendingKey) {
  auto first = admin_->Rotate("cli:ops").value();
  auto second = admin_->Rotate("cli:ops").value();
  auto rows = Entries("key.rotate");
  ASSERT_EQ(rows.size(), 3u);  // first's creation, first retired, second's creation
  bool retired = false;
  for (const auto& r : rows) {
    if (r.entity_id != first || r.before_json.empty()) continue;
    retired = true;
    EXPECT_EQ(boost::json::parse(r.before_json).at("state").as_string(), "next");
    EXPECT_EQ(boost::json::parse(r.after_json).at("state").as_string(), "retired");
  }
  EXPECT_TRUE(retired);
  EXPECT_NE(first, second);
}

TEST_F(KeyAdminTest, RevocationIsAuditedWithBeforeAndAfter) {
  std::string current = keys_->ring()->current_kid();
  ASSERT_TRUE(admin_->Revoke(current, "user:alice client:console"));
  auto rows = Entries("key.revoke");
  // The revoked key, and the key made current in its place.
  ASSERT_EQ(rows.size(), 2u);
  const audit::Row* revoked = nullptr;
  for (const auto& r : rows) {
    if (r.entity_id == current) revoked = &r;
  }
  ASSERT_NE(revoked, nullptr);
  EXPECT_EQ(revoked->actor, "user:alice client:console");
  EXPECT_EQ(boost::json::parse(revoked->before_json).at("state").as_string(), "current");
  EXPECT_EQ(boost::json::parse(revoked->after_json).at("state").as_string(), "revoked");
}

TEST_F(KeyAdminTest, RevokingTwiceRecordsOnce) {
  std::string current = keys_->ring()->current_kid();
  ASSERT_TRUE(admin_->Revoke(current, "cli:ops"));
  size_t n = Entries().size();
  ASSERT_TRUE(admin_->Revoke(current, "cli:ops"));
  EXPECT_EQ(Entries().size(), n);
}

TEST_F(KeyAdminTest, UnknownKidIsRefusedAndNotRecorded) {
  EXPECT_FALSE(admin_->Revoke("999", "cli:ops"));
  EXPECT_TRUE(Entries().empty());
}

TEST(KeyToJsonTest, UsesTheAdminApiFieldNames) {
  SigningKeyRecord r;
  r.kid = "100";
  r.state = KeyState::kCurrent;
  r.publish_at = 1;
  r.activate_at = 2;
  r.private_key_encrypted = "sealed";
  auto o = KeyToJson(r);
  for (const char* name :
       {"kid", "alg", "state", "publishAt", "activateAt", "retiredAt", "expiresAt"}) {
    EXPECT_TRUE(o.contains(name)) << name;
  }
  EXPECT_EQ(o.size(), 7u);
  EXPECT_EQ(o.at("publishAt").as_int64(), 1);
}

}  // namespace
}  // namespace portcullis::oauth
