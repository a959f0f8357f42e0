// Contract: SqlAuthCodeStore (SQLite, PostgreSQL) and MemoryAuthCodeStore answer the same cases
// the same way, redemption included: of concurrent redemptions exactly one wins.
#include "store/sql/code_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/code/memory_code_store.h"
#include "store/sql/token_store_test_util.h"

namespace portcullis::store {
namespace {

using oauth::AuthCode;
using oauth::AuthCodeStore;

class CodeStoreContract : public TokenStateTest {
 protected:
  void SetUp() override {
    TokenStateTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryAuthCodeStore>();
    } else {
      store_ = std::make_unique<SqlAuthCodeStore>(db());
    }
    AddClient("c1");
    AddClient("c2");
  }

  static AuthCode Code(std::string hash, std::string client, std::string user, int64_t expires) {
    AuthCode c;
    c.code_hash = std::move(hash);
    c.client_id = std::move(client);
    c.user_id = std::move(user);
    c.user_type = "employee";
    c.roles = "user admin";
    c.scope = "a b";
    c.redirect_uri = "https://app/cb";
    c.code_challenge = "challenge";
    c.code_challenge_method = "S256";
    c.nonce = "n";
    c.remember = "Y";
    c.auth_time = expires - 700;
    c.sid = "sid-1";
    c.amr = "pwd";
    c.acr = "1";
    c.claims = R"({"id_token":{"email":null}})";
    c.dpop_jkt = std::string(kJkt);
    c.user_source = "authenticator:ldap-corp";
    c.created_at = expires - 600;
    c.expires_at = expires;
    return c;
  }

  static constexpr std::string_view kJkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

  std::optional<AuthCode> Consume(std::string_view hash, std::string_view client, int64_t now,
                                  std::string_view jkt = kJkt) {
    std::optional<AuthCode> out;
    InTx([&](Tx& tx) -> Status {
      auto r = store_->Consume(tx, hash, client, jkt, now);
      if (!r) return Fail(r.error());
      out = std::move(*r);
      return {};
    });
    return out;
  }

  std::optional<oauth::AuthCodeState> Find(std::string_view hash) {
    std::optional<oauth::AuthCodeState> out;
    InTx([&](Tx& tx) -> Status {
      auto r = store_->Find(tx, hash);
      if (!r) return Fail(r.error());
      out = std::move(*r);
      return {};
    });
    return out;
  }

  std::unique_ptr<AuthCodeStore> store_;
};

TEST_P(CodeStoreContract, ConsumeReturnsTheCodeOnceAndFindTellsWhy) {
  ASSERT_TRUE(store_->Insert(Code("h1", "c1", "u1", 1000)));
  EXPECT_FALSE(Consume("h1", "c2", 500)) << "another client";
  EXPECT_FALSE(Consume("h1", "c1", 1000)) << "expired at expires_at";
  EXPECT_FALSE(Consume("nope", "c1", 500));

  auto c = Consume("h1", "c1", 500);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user_id, "u1");
  EXPECT_EQ(c->user_type, "employee");
  EXPECT_EQ(c->roles, "user admin");
  EXPECT_EQ(c->scope, "a b");
  EXPECT_EQ(c->redirect_uri, "https://app/cb");
  EXPECT_EQ(c->code_challenge, "challenge");
  EXPECT_EQ(c->code_challenge_method, "S256");
  EXPECT_EQ(c->nonce, "n");
  EXPECT_EQ(c->remember, "Y");
  EXPECT_EQ(c->auth_time, c->expires_at - 700);
  EXPECT_EQ(c->sid, "sid-1");
  EXPECT_EQ(c->amr, "pwd");
  EXPECT_EQ(c->acr, "1");
  EXPECT_EQ(c->claims, R"({"id_token":{"email":null}})");
  EXPECT_EQ(c->dpop_jkt, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
  EXPECT_EQ(c->user_source, "authenticator:ldap-corp");
  EXPECT_EQ(c->family_id, "");
  EXPECT_FALSE(Consume("h1", "c1", 501)) << "a replay";

  auto state = Find("h1");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->client_id, "c1");
  EXPECT_EQ(state->consumed_at, 500);
  EXPECT_EQ(state->expires_at, 1000);
  EXPECT_FALSE(state->access_jti);

  InTx([&](Tx& tx) { return store_->RecordIssued(tx, "h1", "jti1", 1600, "fam1"); });
  state = Find("h1");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->access_jti, "jti1");
  EXPECT_EQ(state->access_exp, 1600);
  EXPECT_EQ(state->family_id, "fam1");
  EXPECT_FALSE(Find("nope"));
}

TEST_P(CodeStoreContract, ADpopBoundCodeIsNotSpentByAnotherKeyOrNone) {
  ASSERT_TRUE(store_->Insert(Code("h1", "c1", "u1", 1000)));
  EXPECT_FALSE(Consume("h1", "c1", 500, "")) << "no proof";
  EXPECT_FALSE(Consume("h1", "c1", 500, "x" + std::string(kJkt).substr(1))) << "another key";
  auto state = Find("h1");
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->consumed_at) << "the refusals left it unspent";
  EXPECT_EQ(state->dpop_jkt, kJkt);
  EXPECT_TRUE(Consume("h1", "c1", 500)) << "the key holder redeems it";

  AuthCode unbound = Code("h2", "c1", "u1", 1000);
  unbound.dpop_jkt = "";
  ASSERT_TRUE(store_->Insert(unbound));
  auto s2 = Find("h2");
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->dpop_jkt, "");
  EXPECT_TRUE(Consume("h2", "c1", 500, "any-key")) << "an unbound code takes any proof";
}

TEST_P(CodeStoreContract, EmptyOptionalFieldsReadBackEmpty) {
  AuthCode c = Code("h1", "c1", "u1", 1000);
  c.user_type = c.roles = c.redirect_uri = c.code_challenge = c.code_challenge_method = c.nonce =
      "";
  c.remember = "N";
  c.user_source = "";
  ASSERT_TRUE(store_->Insert(c));
  auto got = Consume("h1", "c1", 1);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->user_source, "");
  EXPECT_EQ(got->redirect_uri, "");
  EXPECT_EQ(got->code_challenge, "");
  EXPECT_EQ(got->nonce, "");
  EXPECT_EQ(got->remember, "N");
}

// Cases that need SQL (transactions that roll back, other tables, other instances): run on
// SQLite and PostgreSQL only.
class CodeStoreSqlContract : public CodeStoreContract {};

TEST_P(CodeStoreSqlContract, EmptyOptionalFieldsAreStoredAsNull) {
  AuthCode c = Code("h1", "c1", "u1", 1000);
  c.user_type = c.roles = c.redirect_uri = c.code_challenge = c.code_challenge_method = c.nonce =
      "";
  c.scope = "";
  ASSERT_TRUE(store_->Insert(c));
  auto row = db().QueryRow(
      "SELECT COUNT(*) FROM auth_codes WHERE code_hash = 'h1' AND user_type IS NULL AND roles IS"
      " NULL AND redirect_uri IS NULL AND code_challenge IS NULL AND code_challenge_method IS"
      " NULL AND nonce IS NULL AND scope = '' AND consumed_at IS NULL AND family_id IS NULL");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->Int(0), 1);
}

TEST_P(CodeStoreContract, ConcurrentRedemptionsHaveExactlyOneWinner) {
  for (int round = 0; round < 3; ++round) {
    std::string hash = "race" + std::to_string(round);
    ASSERT_TRUE(store_->Insert(Code(hash, "c1", "u1", 1000)));
    std::atomic<int> winners{0}, errors{0};
    Race(6, [&](int) {
      auto st = txdb().Transact("race", [&](Tx& tx) -> Status {
        auto r = store_->Consume(tx, hash, "c1", kJkt, 500);
        if (!r) return Fail(r.error());
        if (*r) winners.fetch_add(1);
        return {};
      });
      if (!st) errors.fetch_add(1);
    });
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
  }
}

TEST_P(CodeStoreSqlContract, ARolledBackRedemptionLeavesTheCodeUnconsumed) {
  ASSERT_TRUE(store_->Insert(Code("h1", "c1", "u1", 1000)));
  auto st = db().Transact("test", [&](Tx& tx) -> Status {
    auto r = store_->Consume(tx, "h1", "c1", kJkt, 500);
    if (!r) return Fail(r.error());
    EXPECT_TRUE(*r);
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(Consume("h1", "c1", 500));
}

TEST_P(CodeStoreSqlContract, InsertForAMissingClientIsClientNotFound) {
  auto st = store_->Insert(Code("h1", "ghost", "u1", 1000));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12014");
}

TEST_P(CodeStoreContract, ExpireForUserTouchesOnlyLiveUnconsumedCodes) {
  ASSERT_TRUE(store_->Insert(Code("live1", "c1", "u1", 1000)));
  ASSERT_TRUE(store_->Insert(Code("live2", "c2", "u1", 1000)));
  ASSERT_TRUE(store_->Insert(Code("used", "c1", "u1", 1000)));
  ASSERT_TRUE(store_->Insert(Code("old", "c1", "u1", 100)));
  ASSERT_TRUE(store_->Insert(Code("other", "c1", "u2", 1000)));
  ASSERT_TRUE(Consume("used", "c1", 150));

  InTx([&](Tx& tx) { return store_->ExpireForUserClient(tx, "u1", "c2", 200); });
  EXPECT_EQ(Find("live2")->expires_at, 200);
  EXPECT_EQ(Find("live1")->expires_at, 1000);

  InTx([&](Tx& tx) { return store_->ExpireForUser(tx, "u1", 300); });
  EXPECT_EQ(Find("live1")->expires_at, 300);
  EXPECT_EQ(Find("live2")->expires_at, 200);  // already expired: kept
  EXPECT_EQ(Find("used")->expires_at, 1000);  // consumed: kept for replay detection
  EXPECT_EQ(Find("old")->expires_at, 100);
  EXPECT_EQ(Find("other")->expires_at, 1000);
  EXPECT_FALSE(Consume("live1", "c1", 300));
}

TEST_P(CodeStoreContract, DeleteForUserAndClientAndPurge) {
  ASSERT_TRUE(store_->Insert(Code("a", "c1", "u1", 1000)));
  ASSERT_TRUE(store_->Insert(Code("b", "c2", "u1", 1000)));
  ASSERT_TRUE(store_->Insert(Code("c", "c1", "u2", 1000)));
  ASSERT_TRUE(store_->Insert(Code("d", "c2", "u2", 2000)));
  ASSERT_TRUE(store_->Insert(Code("e", "c2", "u3", 3000)));
  InTx([&](Tx& tx) { return store_->DeleteForUser(tx, "u1"); });
  EXPECT_FALSE(Find("a"));
  EXPECT_FALSE(Find("b"));
  InTx([&](Tx& tx) { return store_->DeleteForClient(tx, "c1"); });
  EXPECT_FALSE(Find("c"));
  EXPECT_TRUE(Find("d"));
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 2000); });  // expires_at < cutoff
  EXPECT_TRUE(Find("d"));
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 2001); });
  EXPECT_FALSE(Find("d"));
  EXPECT_TRUE(Find("e"));
}

PORTCULLIS_INSTANTIATE_TOKEN_STATE(CodeStoreContract);
PORTCULLIS_INSTANTIATE_BACKENDS(CodeStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
