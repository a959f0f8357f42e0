#include "oauth/key/key_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "jose/key.h"
#include "jose/verifier.h"
#include "oauth/key/memory_key_store.h"

namespace portcullis::oauth {
namespace {

constexpr int64_t kStart = 1'700'000'000;

// ES256 keeps key generation fast; the RS256 default is covered separately.
KeyManagerConfig FastConfig() {
  KeyManagerConfig c;
  c.alg = jose::Alg::kES256;
  c.publish_ahead_seconds = 360;
  c.rotation_interval_seconds = 3600;
  c.max_token_lifetime_seconds = 600;
  c.leeway_seconds = 60;
  return c;
}

class KeyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { log::Configure(log::Level::kWarn, log::Format::kText); }

  std::unique_ptr<KeyManager> Make(KeyManagerConfig config = FastConfig()) {
    auto m = KeyManager::Create(store_, clock_, Random::System(), master_, std::move(config));
    EXPECT_TRUE(m) << m.error().detail;
    return std::move(*m);
  }
  const SigningKeyRecord* Find(std::string_view kid) {
    records_ = store_.List().value();
    for (const auto& r : records_) {
      if (r.kid == kid) return &r;
    }
    return nullptr;
  }
  std::map<std::string, KeyState> States() {
    std::map<std::string, KeyState> out;
    auto records = store_.List().value();
    for (const auto& r : records) out[r.kid] = r.state;
    return out;
  }
  std::string Token(const KeyRing& ring, int64_t lifetime = 600) {
    int64_t now = clock_.Now();
    return ring.signer()
        ->Sign(R"({"iat":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + lifetime) +
               "}")
        .value();
  }
  std::expected<jose::Verified, jose::VerifyError> Verify(const KeyRing& ring,
                                                          std::string_view token) {
    jose::Verifier v(ring.verify_keys(), {}, clock_);
    return v.Verify(token);
  }

  ManualClock clock_{kStart};
  MemoryKeyStore store_;
  MasterKey master_ = MasterKey::Generate(Random::System());
  std::vector<SigningKeyRecord> records_;
};

TEST_F(KeyManagerTest, FirstStartCreatesACurrentKeyImmediately) {
  auto manager = Make();
  EXPECT_EQ(manager->ring()->signer(), nullptr);
  EXPECT_EQ(manager->ring()->jwks_json(), R"({"keys":[]})");
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  ASSERT_NE(ring->signer(), nullptr);
  EXPECT_EQ(ring->current_kid(), "100");
  const auto* r = Find("100");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, KeyState::kCurrent);
  EXPECT_EQ(r->activate_at, kStart);
  EXPECT_TRUE(r->private_key_encrypted.starts_with("v1."));
  EXPECT_EQ(r->private_key_encrypted.find("PRIVATE"), std::string::npos);
  EXPECT_TRUE(Verify(*ring, Token(*ring)));
  // A second tick changes nothing.
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(manager->ring(), ring);
  EXPECT_EQ(store_.List()->size(), 1u);
}

TEST_F(KeyManagerTest, RingPublishesJwksEtagAndCertificates) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  auto jwks = boost::json::parse(ring->jwks_json()).as_object();
  ASSERT_EQ(jwks["keys"].as_array().size(), 1u);
  auto& jwk = jwks["keys"].as_array()[0].as_object();
  EXPECT_EQ(jwk["kid"], "100");
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_FALSE(jwk.contains("d"));
  EXPECT_EQ(ring->jwks_etag().size(), 2u + 43u);
  EXPECT_TRUE(ring->jwks_etag().starts_with('"') && ring->jwks_etag().ends_with('"'));
  const std::string* cert = ring->CertificatePem("100");
  ASSERT_NE(cert, nullptr);
  auto from_cert = jose::Key::FromPem(*cert);
  ASSERT_TRUE(from_cert);
  EXPECT_TRUE(from_cert->SamePublicKey(ring->verify_keys()->Find("100")->key));
  EXPECT_EQ(ring->CertificatePem("999"), nullptr);
  EXPECT_TRUE(ring->published()[0].private_key_encrypted.empty());
  // A rotation changes the document and so the ETag.
  ASSERT_TRUE(manager->Rotate());
  EXPECT_NE(manager->ring()->jwks_etag(), ring->jwks_etag());
  EXPECT_EQ(manager->ring()->current_kid(), "100");
  EXPECT_EQ(boost::json::parse(manager->ring()->jwks_json()).at("keys").as_array().size(), 2u);
}

TEST_F(KeyManagerTest, ProviderIdPrefixesKids) {
  KeyManagerConfig config = FastConfig();
  config.provider_id = "5";
  auto manager = Make(config);
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(manager->ring()->current_kid(), "05100");
  auto next = manager->Rotate();
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, "05101");
}

TEST_F(KeyManagerTest, RejectsBadConfig) {
  for (auto mutate : std::vector<std::function<void(KeyManagerConfig&)>>{
           [](auto& c) { c.provider_id = "123"; }, [](auto& c) { c.provider_id = "a"; },
           [](auto& c) { c.provider_id = "00"; },
           [](auto& c) { c.rotation_interval_seconds = c.publish_ahead_seconds; },
           [](auto& c) { c.max_token_lifetime_seconds = 0; },
           [](auto& c) { c.publish_ahead_seconds = -1; }}) {
    KeyManagerConfig c = FastConfig();
    mutate(c);
    EXPECT_FALSE(KeyManager::Create(store_, clock_, Random::System(), master_, c));
  }
}

TEST_F(KeyManagerTest, DefaultsAreRs256WithLightOauth2Timings) {
  KeyManagerConfig c;
  EXPECT_EQ(c.alg, jose::Alg::kRS256);
  EXPECT_EQ(c.publish_ahead_seconds, 360);
  EXPECT_EQ(c.rotation_interval_seconds, 30 * 86400);
  auto manager = Make(c);
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  EXPECT_EQ(ring->signer()->alg(), jose::Alg::kRS256);
  auto token = Token(*ring);
  auto verified = Verify(*ring, token);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->header.at("kid"), "100");
}

// ID tokens need RS256 whatever keys.algorithm is (OIDC Core §15.1): extra algorithms get a
// current key each, follow the same lifecycle, and the ring's signer() stays the primary's.
TEST_F(KeyManagerTest, ExtraAlgorithmsKeepTheirOwnCurrentKey) {
  KeyManagerConfig config = FastConfig();                      // ES256 primary
  config.extra_algs = {jose::Alg::kEdDSA, jose::Alg::kES256};  // a repeat of alg is ignored
  auto manager = Make(config);
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  ASSERT_NE(ring->signer(), nullptr);
  EXPECT_EQ(ring->signer()->alg(), jose::Alg::kES256);
  EXPECT_EQ(ring->current_kid(), "100");
  ASSERT_NE(ring->signer(jose::Alg::kEdDSA), nullptr);
  EXPECT_EQ(ring->signer(jose::Alg::kEdDSA)->kid(), "101");
  EXPECT_EQ(ring->signer(jose::Alg::kES256)->kid(), "100");
  EXPECT_EQ(ring->signer(jose::Alg::kRS256), nullptr);
  EXPECT_EQ(boost::json::parse(ring->jwks_json()).at("keys").as_array().size(), 2u);
  EXPECT_EQ(store_.List()->size(), 2u);

  // Rotation covers both: two next keys, promoted together after publish_ahead.
  auto next = manager->Rotate();
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, "102");
  EXPECT_EQ(States()["103"], KeyState::kNext);
  EXPECT_EQ(Find("103")->alg, jose::Alg::kEdDSA);
  clock_.Advance(360);
  ASSERT_TRUE(manager->Tick());
  ring = manager->ring();
  EXPECT_EQ(ring->current_kid(), "102");
  EXPECT_EQ(ring->signer(jose::Alg::kEdDSA)->kid(), "103");
  EXPECT_EQ(States()["100"], KeyState::kPrevious);
  EXPECT_EQ(States()["101"], KeyState::kPrevious);

  // Revoking the extra algorithm's current key replaces it within that algorithm.
  ASSERT_TRUE(manager->Revoke("103"));
  ring = manager->ring();
  ASSERT_NE(ring->signer(jose::Alg::kEdDSA), nullptr);
  EXPECT_EQ(ring->signer(jose::Alg::kEdDSA)->kid(), "104");
  EXPECT_EQ(ring->current_kid(), "102");
}

TEST_F(KeyManagerTest, AnAlgorithmNoLongerConfiguredStopsSigning) {
  KeyManagerConfig config = FastConfig();
  config.extra_algs = {jose::Alg::kEdDSA};
  ASSERT_TRUE(Make(config)->Tick());  // 100 ES256, 101 EdDSA
  config.alg = jose::Alg::kEdDSA;
  config.extra_algs.clear();
  auto manager = Make(config);
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  EXPECT_EQ(ring->current_kid(), "101");
  EXPECT_EQ(ring->signer(jose::Alg::kES256), nullptr);
  EXPECT_EQ(States()["100"], KeyState::kPrevious);  // still published for its tokens
  EXPECT_NE(ring->CertificatePem("100"), nullptr);
}

// The central property: across many rotations, no token is signed by a kid that has been
// published for less than publish_ahead (except the very first key), and every token verifies
// against the published keys until it expires; a previous kid leaves the JWKS after that.
TEST_F(KeyManagerTest, RotationSimulation) {
  KeyManagerConfig config = FastConfig();
  auto manager = Make(config);
  struct Issued {
    std::string kid;
    std::string token;
    int64_t exp;
  };
  std::vector<Issued> live;
  std::set<std::string> signing_kids;
  std::map<std::string, int64_t> first_published;  // kid -> first time seen in the ring's JWKS
  std::string first_kid;
  int rotations_seen = 0;
  const int64_t step = 60;
  const int64_t total = 24 * 3600;  // ~24 scheduled rotations
  for (int64_t t = 0; t <= total; t += step) {
    clock_.Set(kStart + t);
    if (t == 7 * 3600 + 120) {
      ASSERT_TRUE(manager->Rotate());  // on-demand rotation mid-cycle
    }
    if (t == 7 * 3600 + 240) {
      ASSERT_TRUE(manager->Rotate());  // replaces the pending next
    }
    ASSERT_TRUE(manager->Tick()) << t;
    auto ring = manager->ring();
    const int64_t now = clock_.Now();
    for (const auto& [kid, entry] : ring->verify_keys()->entries()) {
      first_published.emplace(kid, now);
    }

    ASSERT_NE(ring->signer(), nullptr) << t;
    const std::string& kid = ring->current_kid();
    if (first_kid.empty()) first_kid = kid;
    if (signing_kids.insert(kid).second) ++rotations_seen;
    if (kid != first_kid) {
      // Published (in our own ring, and per the store) for at least publish_ahead.
      ASSERT_LE(first_published.at(kid) + config.publish_ahead_seconds, now) << kid;
      const auto* r = Find(kid);
      ASSERT_LE(r->publish_at + config.publish_ahead_seconds, now) << kid;
    }
    // Tokens of varying lifetimes up to the maximum.
    int64_t lifetime = 60 + (t / step) % (config.max_token_lifetime_seconds - 59);
    live.push_back({kid, Token(*ring, lifetime), now + lifetime});

    // Every unexpired token still verifies; its kid is in the JWKS.
    jose::Verifier verifier(ring->verify_keys(), {}, clock_);
    for (const auto& issued : live) {
      if (issued.exp + config.leeway_seconds <= now) continue;
      auto verified = verifier.Verify(issued.token);
      ASSERT_TRUE(verified) << "t=" << t << " kid=" << issued.kid << " "
                            << jose::ReasonName(verified.error().reason);
      ASSERT_NE(ring->jwks_json().find("\"" + issued.kid + "\""), std::string::npos);
    }
    std::erase_if(live, [&](const Issued& i) {
      return i.exp + config.leeway_seconds + config.max_token_lifetime_seconds < now;
    });

    // Previous keys leave the JWKS once their expires_at has passed; at most 3 are published.
    auto records = store_.List().value();
    for (const auto& r : records) {
      bool in_jwks = ring->verify_keys()->Find(r.kid) != nullptr;
      if (r.state == KeyState::kRetired || r.state == KeyState::kRevoked) {
        ASSERT_FALSE(in_jwks) << r.kid;
        ASSERT_EQ(ring->CertificatePem(r.kid), nullptr);
      }
      if (r.expires_at != 0 && r.expires_at <= now) {
        ASSERT_FALSE(in_jwks) << r.kid << " t=" << t;
      }
    }
    ASSERT_LE(ring->verify_keys()->size(), 3u);
  }
  EXPECT_GE(rotations_seen, 23);
  // Kids are a gap-free sequence except for the one next key replaced by the second Rotate().
  auto states = States();
  EXPECT_EQ(states.begin()->first, "100");
  int retired = 0;
  for (const auto& [kid, state] : states) retired += state == KeyState::kRetired;
  EXPECT_GE(retired, rotations_seen - 2);
}

TEST_F(KeyManagerTest, ScheduledRotationTimeline) {
  KeyManagerConfig config = FastConfig();
  auto manager = Make(config);
  ASSERT_TRUE(manager->Tick());  // 100 current at kStart
  clock_.Set(kStart + 3600 - 361);
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(store_.List()->size(), 1u);
  clock_.Set(kStart + 3600 - 360);  // rotation due in publish_ahead: create the next key
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(States()["101"], KeyState::kNext);
  EXPECT_EQ(Find("101")->activate_at, kStart + 3600);
  EXPECT_NE(manager->ring()->verify_keys()->Find("101"), nullptr);
  EXPECT_EQ(manager->ring()->current_kid(), "100");
  clock_.Set(kStart + 3599);
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(manager->ring()->current_kid(), "100");
  std::string old_token = Token(*manager->ring());  // exp = kStart + 4199
  clock_.Set(kStart + 3600);
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(manager->ring()->current_kid(), "101");
  EXPECT_EQ(States()["100"], KeyState::kPrevious);
  EXPECT_EQ(Find("100")->retired_at, kStart + 3600);
  EXPECT_EQ(Find("100")->expires_at, kStart + 3600 + 600 + 60);
  clock_.Set(kStart + 3600 + 659);
  ASSERT_TRUE(manager->Tick());
  EXPECT_TRUE(Verify(*manager->ring(), old_token).has_value() ||
              Verify(*manager->ring(), old_token).error().reason == jose::VerifyReason::kExpired);
  EXPECT_NE(manager->ring()->verify_keys()->Find("100"), nullptr);
  clock_.Set(kStart + 3600 + 660);
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(States()["100"], KeyState::kRetired);
  EXPECT_EQ(manager->ring()->verify_keys()->Find("100"), nullptr);
  EXPECT_EQ(manager->ring()->jwks_json().find("\"100\""), std::string::npos);
}

TEST_F(KeyManagerTest, RevokeCurrentPromotesNextEarly) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  auto next = manager->Rotate();
  ASSERT_TRUE(next);
  std::string token = Token(*manager->ring());
  clock_.Advance(10);
  ASSERT_TRUE(manager->Revoke("100"));
  auto ring = manager->ring();
  EXPECT_EQ(ring->current_kid(), *next);
  EXPECT_EQ(States()["100"], KeyState::kRevoked);
  EXPECT_EQ(ring->verify_keys()->Find("100"), nullptr);
  auto r = Verify(*ring, token);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, jose::VerifyReason::kUnknownKid);
  // Idempotent, and unknown kids are reported.
  EXPECT_TRUE(manager->Revoke("100"));
  auto missing = manager->Revoke("999");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR12017");
}

TEST_F(KeyManagerTest, RevokeCurrentWithoutNextCreatesOne) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  ASSERT_TRUE(manager->Revoke("100"));
  EXPECT_EQ(manager->ring()->current_kid(), "101");
  EXPECT_EQ(Find("101")->activate_at, clock_.Now());
  EXPECT_EQ(manager->ring()->verify_keys()->size(), 1u);
}

TEST_F(KeyManagerTest, RevokeNextOrPrevious) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  ASSERT_TRUE(manager->Rotate());  // 101 next
  ASSERT_TRUE(manager->Revoke("101"));
  EXPECT_EQ(manager->ring()->current_kid(), "100");
  EXPECT_EQ(manager->ring()->verify_keys()->size(), 1u);
  ASSERT_TRUE(manager->Rotate());  // 102 next
  clock_.Advance(360);
  ASSERT_TRUE(manager->Tick());  // 102 current, 100 previous
  EXPECT_EQ(manager->ring()->current_kid(), "102");
  ASSERT_TRUE(manager->Revoke("100"));
  EXPECT_EQ(manager->ring()->verify_keys()->size(), 1u);
  EXPECT_EQ(manager->ring()->current_kid(), "102");
}

TEST_F(KeyManagerTest, TwoInstancesShareOneStore) {
  auto a = Make();
  auto b = Make();
  ASSERT_TRUE(a->Tick());
  ASSERT_TRUE(b->Tick());  // sees a's key; creates nothing
  EXPECT_EQ(store_.List()->size(), 1u);
  EXPECT_EQ(b->ring()->current_kid(), "100");
  ASSERT_TRUE(a->Rotate());
  EXPECT_EQ(b->ring()->verify_keys()->size(), 1u);
  ASSERT_TRUE(b->Reload());
  EXPECT_EQ(b->ring()->verify_keys()->size(), 2u);
  clock_.Advance(360);
  ASSERT_TRUE(a->Tick());
  ASSERT_TRUE(b->Tick());
  EXPECT_EQ(a->ring()->current_kid(), "101");
  EXPECT_EQ(b->ring()->current_kid(), "101");
  int currents = 0;
  for (const auto& [kid, state] : States()) currents += state == KeyState::kCurrent;
  EXPECT_EQ(currents, 1);
}

TEST_F(KeyManagerTest, InterruptedPromotionIsRepaired) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  ASSERT_TRUE(manager->Rotate());
  clock_.Advance(360);
  // Another instance promoted 101 and died before demoting 100.
  ASSERT_TRUE(store_.UpdateState("101", {KeyState::kNext, KeyState::kCurrent, {}, {}}));
  ASSERT_TRUE(manager->Reload());
  EXPECT_EQ(manager->ring()->current_kid(), "101");  // the one activated last signs
  ASSERT_TRUE(manager->Tick());
  EXPECT_EQ(States()["100"], KeyState::kPrevious);
  EXPECT_EQ(States()["101"], KeyState::kCurrent);
}

TEST_F(KeyManagerTest, StoreOutageKeepsTheLastRing) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  auto ring = manager->ring();
  store_.fail_next_calls(1);
  auto s = manager->Tick();
  ASSERT_FALSE(s);
  EXPECT_EQ(manager->ring(), ring);
  ASSERT_TRUE(manager->Tick());
}

TEST_F(KeyManagerTest, WrongMasterKeyFailsToPublish) {
  auto manager = Make();
  ASSERT_TRUE(manager->Tick());
  auto other = KeyManager::Create(store_, clock_, Random::System(),
                                  MasterKey::Generate(Random::System()), FastConfig());
  ASSERT_TRUE(other);
  auto s = (*other)->Reload();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().detail.find("authentication failed"), std::string::npos);
  EXPECT_EQ((*other)->ring()->signer(), nullptr);
}

TEST(KeyStateTest, Names) {
  for (KeyState s : {KeyState::kNext, KeyState::kCurrent, KeyState::kPrevious, KeyState::kRetired,
                     KeyState::kRevoked}) {
    EXPECT_EQ(ParseKeyState(KeyStateName(s)), s);
  }
  EXPECT_FALSE(ParseKeyState("active"));
  EXPECT_TRUE(IsPublished(KeyState::kPrevious));
  EXPECT_FALSE(IsPublished(KeyState::kRevoked));
}

}  // namespace
}  // namespace portcullis::oauth
