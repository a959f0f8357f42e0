// RingKeys over a real KeyManager: ID tokens are signed with the key of the algorithm asked for,
// and never verify as access tokens; access tokens and signed payloads never read as ID-token
// hints (oauth/oidc/id_token.h).
#include "oauth/token/ring_keys.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/log.h"
#include "jose/verifier.h"
#include "oauth/key/memory_key_store.h"
#include "oauth/oidc/id_token.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kIssuer = "https://as.example";

class RingKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::Configure(log::Level::kWarn, log::Format::kText);
    KeyManagerConfig c;
    c.alg = jose::Alg::kES256;
    c.extra_algs = {jose::Alg::kEdDSA};  // stands in for RS256: same path, faster keys
    c.rotation_interval_seconds = 3600;
    manager_ = std::move(*KeyManager::Create(store_, clock_, Random::System(),
                                             MasterKey::Generate(Random::System()), c));
    ASSERT_TRUE(manager_->Tick());
    keys_ = std::make_unique<RingKeys>(*manager_, clock_);
  }

  json::object IdClaims() {
    oidc::IdTokenFields f;
    f.issuer = std::string(kIssuer);
    f.sub = "alice";
    f.client_id = "web";
    f.iat = clock_.Now();
    f.exp = clock_.Now() + 3600;
    f.auth_time = clock_.Now();
    return oidc::IdTokenClaims(f, jose::Alg::kEdDSA);
  }
  json::object AccessClaims() {
    return {{"iss", kIssuer},
            {"sub", "alice"},
            {"aud", "urn:com.networknt"},
            {"exp", clock_.Now() + 600},
            {"iat", clock_.Now()},
            {"jti", "j1"},
            {"client_id", "web"},
            {"scope", "openid"}};
  }
  Result<oidc::IdTokenHint> Hint(std::string_view token) {
    return oidc::ReadIdTokenHint(token, manager_->ring()->verify_keys(), kIssuer, clock_);
  }

  ManualClock clock_;
  MemoryKeyStore store_;
  std::unique_ptr<KeyManager> manager_;
  std::unique_ptr<RingKeys> keys_;
};

TEST_F(RingKeysTest, IdTokensUseTheirAlgorithmsKeyAndNeverPassAsAccessTokens) {
  auto id = keys_->SignIdToken(json::serialize(IdClaims()), jose::Alg::kEdDSA);
  ASSERT_TRUE(id) << id.error().detail;
  jose::Verifier v(manager_->ring()->verify_keys(), {}, clock_);
  auto checked = v.Verify(*id);
  ASSERT_TRUE(checked);
  EXPECT_EQ(checked->alg, jose::Alg::kEdDSA);
  EXPECT_EQ(checked->header.at("typ"), "JWT");
  EXPECT_EQ(checked->kid, manager_->ring()->signer(jose::Alg::kEdDSA)->kid());
  EXPECT_TRUE(Hint(*id));
  // Not an access token: introspection, userinfo, admin APIs and token exchange refuse it.
  auto as_access = keys_->Verify(*id);
  ASSERT_FALSE(as_access);
  EXPECT_EQ(as_access.error().code, "ERR10000");
  // Even re-signed as the access-token kinds, with the marker or without client_id.
  for (std::string_view typ : {"at+jwt", "JWT"}) {
    EXPECT_FALSE(keys_->Verify(*keys_->Sign(json::serialize(IdClaims()), typ))) << typ;
    auto marked = AccessClaims();
    marked["typ"] = "ID";
    EXPECT_FALSE(keys_->Verify(*keys_->Sign(json::serialize(marked), typ))) << typ;
    auto no_client = AccessClaims();
    no_client.erase("client_id");
    EXPECT_FALSE(keys_->Verify(*keys_->Sign(json::serialize(no_client), typ))) << typ;
  }
  // No key of an algorithm the ring does not hold.
  auto none = keys_->SignIdToken(json::serialize(IdClaims()), jose::Alg::kPS256);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().http_status, 503);
}

TEST_F(RingKeysTest, AccessTokensAndSignedPayloadsNeverReadAsIdTokenHints) {
  for (std::string_view typ : {"at+jwt", "JWT", "payload+jwt"}) {
    auto t = keys_->Sign(json::serialize(AccessClaims()), typ);
    ASSERT_TRUE(t);
    if (typ != "payload+jwt") {
      EXPECT_TRUE(keys_->Verify(*t)) << typ;
    }
    EXPECT_FALSE(Hint(*t)) << typ;
  }
  // The ID token's own claims under the signed-payload typ.
  auto p = keys_->Sign(json::serialize(IdClaims()), "payload+jwt");
  EXPECT_FALSE(Hint(*p));
  // An expired ID token still reads; one from another issuer does not.
  auto id = keys_->SignIdToken(json::serialize(IdClaims()), jose::Alg::kEdDSA);
  clock_.Advance(86400 * 3);
  EXPECT_TRUE(Hint(*id));
  EXPECT_FALSE(
      oidc::ReadIdTokenHint(*id, manager_->ring()->verify_keys(), "https://other", clock_));
}

}  // namespace
}  // namespace portcullis::oauth
