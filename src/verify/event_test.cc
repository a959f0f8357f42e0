// Verifier::VerifyEvent: signed events (payload tokens from POST /oauth2/signing) for consumers,
// with static keys and a manual clock.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/signer.h"
#include "portcullis/verify.h"

namespace portcullis::verify {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kIss[] = "https://auth.example.com";

class ManualTime final : public TimeSource {
 public:
  int64_t WallSeconds() const override { return wall_.load(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(wall_.load()));
  }
  void Advance(std::chrono::seconds s) { wall_ += s.count(); }

 private:
  std::atomic<int64_t> wall_{kNow};
};

json::object Event(std::string_view jti = "e1") {
  return {{"iss", kIss},          {"aud", "urn:portcullis:signed-payload"},
          {"exp", kNow + 600},    {"iat", kNow},
          {"nbf", kNow - 120},    {"jti", jti},
          {"client_id", "svc-a"}, {"event_aud", "billing"},
          {"order", 42}};
}

class EventTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = jose::Key::Generate(jose::Alg::kES256).value();
    json::object jwk = key_.ToPublicJwk("k1", jose::Alg::kES256).value();
    Options o;
    o.jwks_json = json::serialize(json::object{{"keys", json::array{jwk}}});
    o.issuer = kIss;
    o.verify_scope = false;
    o.time = &time_;
    verifier_ = Verifier::Create(std::move(o)).value();
  }
  std::string Sign(const json::object& claims, std::string typ = "payload+jwt") {
    return jose::Signer::Create(key_, jose::Alg::kES256, "k1", typ)
        .value()
        .Sign(json::serialize(claims))
        .value();
  }
  EventResult Check(std::string_view token, EventCheck check = {{"svc-a"}, "billing"}) {
    return verifier_->VerifyEvent(token, check);
  }

  ManualTime time_;
  jose::Key key_ = jose::Key::Generate(jose::Alg::kES256).value();
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(EventTest, AcceptsAFreshEventOnceFromAKnownSigner) {
  std::string t = Sign(Event());
  EventResult r = Check(t);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.signer, "svc-a");
  EXPECT_EQ(r.jti, "e1");
  EXPECT_EQ(r.issued_at, kNow);
  EXPECT_EQ(json::parse(r.claims_json).at("order"), 42);
  EXPECT_EQ(Check(t).reason, "replayed");
  // An event is never an access token.
  EXPECT_EQ(verifier_->Verify(t).reason, "wrong_type");
}

TEST_F(EventTest, AccessTokensAreNotEvents) {
  json::object at = Event("a1");
  at["aud"] = "svc-b";
  EXPECT_EQ(Check(Sign(at, "at+jwt")).reason, "wrong_type");
  EXPECT_EQ(Check(Sign(Event("a2"), "at+jwt")).reason, "wrong_type");
  EXPECT_EQ(Check(Sign(Event("a3"), "JWT")).reason, "wrong_type");
  EXPECT_EQ(Check(Sign(at)).reason, "wrong_audience");  // payload typ, access-token audience
}

TEST_F(EventTest, RefusesTamperedForeignAndMisaddressedEvents) {
  std::string t = Sign(Event("t1"));
  size_t a = t.find('.'), b = t.rfind('.');
  json::object changed = Event("t1");
  changed["order"] = 43;
  std::string tampered =
      t.substr(0, a + 1) + Base64UrlEncode(json::serialize(changed)) + t.substr(b);
  EXPECT_EQ(Check(tampered).reason, "bad_signature");
  json::object other = Event("t2");
  other["iss"] = "https://evil.example.com";
  EXPECT_EQ(Check(Sign(other)).reason, "wrong_issuer");
  other = Event("t3");
  other["client_id"] = "svc-x";
  EXPECT_EQ(Check(Sign(other)).reason, "unknown_signer");
  other = Event("t4");
  other["event_aud"] = json::array{"shipping", "billing"};
  EXPECT_TRUE(Check(Sign(other)).ok);
  other = Event("t5");
  other["event_aud"] = "shipping";
  EXPECT_EQ(Check(Sign(other)).reason, "wrong_event_audience");
  other.erase("event_aud");
  other["jti"] = "t6";
  EXPECT_EQ(Check(Sign(other)).reason, "wrong_event_audience");
  EXPECT_TRUE(Check(Sign(other), {{"svc-a"}, ""}).ok);  // no audience asked for
  other = Event("t7");
  other.erase("jti");
  EXPECT_EQ(Check(Sign(other)).reason, "missing_claims");
  EXPECT_EQ(Check(Sign(Event("t8")), {{}, "billing"}).reason, "no_signers");
  auto foreign = jose::Key::Generate(jose::Alg::kES256).value();
  EXPECT_EQ(verifier_
                ->VerifyEvent(jose::Signer::Create(foreign, jose::Alg::kES256, "k1", "payload+jwt")
                                  .value()
                                  .Sign(json::serialize(Event("t9")))
                                  .value(),
                              {{"svc-a"}, "billing"})
                .reason,
            "bad_signature");
}

TEST_F(EventTest, FreshnessAndTheReplayWindow) {
  std::string t = Sign(Event("f1"));
  time_.Advance(301s);
  EXPECT_EQ(Check(t).reason, "stale");  // older than max_age (300 s)
  EXPECT_TRUE(Check(t, {{"svc-a"}, "billing", 600s}).ok);
  json::object future = Event("f2");
  future["iat"] = kNow + 301 + 120;
  EXPECT_EQ(Check(Sign(future)).reason, "issued_in_future");
  time_.Advance(400s);  // past exp
  EXPECT_EQ(Check(Sign(Event("f3"))).reason, "expired");
}

}  // namespace
}  // namespace portcullis::verify
