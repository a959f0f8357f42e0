// The one DPoP proof checker (jose/dpop.h): each RFC 9449 §4.3 check refuses with its own fault,
// so both callers (the token endpoint and the verifying side) can tell the client why.

#include "jose/dpop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/jws_testing.h"
#include "jose/key.h"

namespace portcullis::jose::dpop {
namespace {

namespace json = boost::json;
constexpr int64_t kNow = 1'700'000'000;
constexpr std::string_view kUri = "https://rs.example/v1/pets";
constexpr Alg kAlgs[] = {Alg::kES256, Alg::kEdDSA};

class DpopCheckTest : public ::testing::Test {
 protected:
  json::object Jwk() const { return *key_.ToPublicJwk("", Alg::kES256); }
  json::object Header() const {
    return json::object{{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", Jwk()}};
  }
  json::object Claims() const {
    return json::object{{"jti", "j-1"},
                        {"htm", "GET"},
                        {"htu", kUri},
                        {"iat", kNow},
                        {"ath", AccessTokenHash("tok")}};
  }
  std::string Sign(const json::object& h, const json::object& c) const {
    return testing::SignRaw(key_, Alg::kES256, json::serialize(h), json::serialize(c));
  }
  std::expected<CheckedProof, ProofFault> Check(
      std::string_view proof, std::optional<std::string_view> token = "tok") const {
    ProofCheck c;
    c.method = "GET";
    c.uri = uri_;
    c.access_token = token;
    c.algorithms = kAlgs;
    c.window_seconds = 60;
    c.now = kNow;
    c.alias_uri = alias_;
    return CheckProof(proof, c);
  }
  std::string FaultOf(std::string_view proof, std::optional<std::string_view> token = "tok") const {
    auto r = Check(proof, token);
    return r ? "ok" : std::string(FaultReason(r.error().fault));
  }

  Key key_ = *Key::Generate(Alg::kES256);
  std::string uri_ = std::string(kUri);
  std::string alias_;
};

TEST_F(DpopCheckTest, AcceptsAValidProof) {
  auto c = Claims();
  c["nonce"] = "n-1";
  auto r = Check(Sign(Header(), c));
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->jkt, *JwkThumbprint(Jwk()));
  EXPECT_EQ(r->jti, "j-1");
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->alg, Alg::kES256);
  EXPECT_EQ(r->nonce, "n-1");
  EXPECT_FALSE(Check(Sign(Header(), Claims()))->nonce);
}

TEST_F(DpopCheckTest, EachCheckHasItsFault) {
  EXPECT_EQ(FaultOf("a.b"), "dpop_proof_malformed");
  EXPECT_EQ(FaultOf(std::string(kMaxProofBytes + 1, 'a')), "dpop_proof_malformed");
  auto h = Header();
  h["typ"] = "jwt";
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_wrong_type");
  h = Header();
  h["alg"] = "PS256";  // a real alg, not in the caller's list
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_alg_not_allowed");
  h = Header();
  h["crit"] = json::array{"x"};
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_proof_malformed");
  h = Header();
  h.erase("jwk");
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_jwk_missing");
  h = Header();
  h["jwk"].as_object()["d"] = "AAAA";
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_jwk_private");
  h = Header();
  h["jwk"] = *Key::Generate(Alg::kEdDSA)->ToPublicJwk("", Alg::kEdDSA);  // no ES256 key
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_jwk_invalid");
  h = Header();
  h["jwk"] = *Key::Generate(Alg::kES256)->ToPublicJwk("", Alg::kES256);  // another key's
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_bad_signature");

  auto c = Claims();
  c["htm"] = "get";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htm_mismatch");
  c = Claims();
  c.erase("htu");
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htu_mismatch");
  c = Claims();
  c["htu"] = "https://rs.example/v1/pets/42";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htu_mismatch");
  c = Claims();
  c["iat"] = kNow - 61;
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_stale");
  c["iat"] = kNow + 60.5;
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_stale");
  c["iat"] = "now";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_proof_malformed");
  c = Claims();
  c["jti"] = std::string(kMaxJtiBytes + 1, 'j');
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_proof_malformed");
  c["jti"] = "";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_proof_malformed");
  c = Claims();
  EXPECT_EQ(FaultOf(Sign(Header(), c), "other token"), "dpop_ath_mismatch");
  c.erase("ath");
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_ath_mismatch");
  EXPECT_EQ(FaultOf(Sign(Header(), c), std::nullopt), "ok");
  EXPECT_EQ(FaultOf(Sign(Header(), Claims()), std::nullopt), "dpop_ath_unexpected");
  uri_ = "/v1/pets";  // the caller does not know its own absolute URI
  EXPECT_EQ(FaultOf(Sign(Header(), Claims())), "dpop_htu_unknown");
}

// RFC 8705 §5: the endpoint under the mTLS front's base URL is the request URI too; nothing else
// under that base, and only when the caller names an alias.
TEST_F(DpopCheckTest, AliasUriIsAcceptedAsHtu) {
  auto c = Claims();
  c["htu"] = "https://mtls.rs.example:8443/v1/pets";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htu_mismatch");
  alias_ = "https://MTLS.rs.example:8443/v1/pets";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "ok");
  EXPECT_EQ(FaultOf(Sign(Header(), Claims())), "ok");  // the ordinary URI still is
  c["htu"] = "https://mtls.rs.example:8443/v1/pets/42";
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htu_mismatch");
  c["htu"] = "https://mtls.rs.example/v1/pets";  // another port: another origin
  EXPECT_EQ(FaultOf(Sign(Header(), c)), "dpop_htu_mismatch");
}

// CheckProof keeps imported proof keys by thumbprint: a cached key must never check a proof
// whose jwk is another key, nor sign for an alg it does not support, and eviction must only
// cost a re-import.
TEST_F(DpopCheckTest, CachedKeysNeverStandForAnotherKey) {
  Key other = *Key::Generate(Alg::kES256);
  auto other_header = Header();
  other_header["jwk"] = *other.ToPublicJwk("", Alg::kES256);
  auto signed_by = [&](const Key& k, const json::object& h) {
    return testing::SignRaw(k, Alg::kES256, json::serialize(h), json::serialize(Claims()));
  };
  // Both keys cached by a valid proof each.
  ASSERT_EQ(FaultOf(Sign(Header(), Claims())), "ok");
  ASSERT_EQ(FaultOf(signed_by(other, other_header)), "ok");
  // Each key's jwk with the other key's signature.
  EXPECT_EQ(FaultOf(signed_by(other, Header())), "dpop_bad_signature");
  EXPECT_EQ(FaultOf(signed_by(key_, other_header)), "dpop_bad_signature");
  // The same key with extra (non-thumbprint) members is the same key.
  auto h = Header();
  h["jwk"].as_object()["kid"] = "k-1";
  h["jwk"].as_object()["use"] = "sig";
  auto r = Check(Sign(h, Claims()));
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->jkt, *JwkThumbprint(Jwk()));
  // A cached EC key named with alg EdDSA (signed by an Ed25519 key): not usable for it.
  Key ed = *Key::Generate(Alg::kEdDSA);
  h = Header();
  h["alg"] = "EdDSA";
  EXPECT_EQ(
      FaultOf(testing::SignRaw(ed, Alg::kEdDSA, json::serialize(h), json::serialize(Claims()))),
      "dpop_jwk_invalid");
  // The cached key's x with another y: another thumbprint, and no point on the curve.
  h = Header();
  std::string y(h["jwk"].as_object()["y"].as_string());
  y[0] = y[0] == 'A' ? 'B' : 'A';
  h["jwk"].as_object()["y"] = y;
  EXPECT_EQ(FaultOf(Sign(h, Claims())), "dpop_jwk_invalid");
  // Push the first key out with more keys than the cache holds: it is imported again.
  for (int i = 0; i < 4200; ++i) {
    Key k = *Key::Generate(Alg::kES256);
    auto kh = Header();
    kh["jwk"] = *k.ToPublicJwk("", Alg::kES256);
    ASSERT_EQ(FaultOf(signed_by(k, kh)), "ok");
  }
  EXPECT_EQ(FaultOf(Sign(Header(), Claims())), "ok");
  EXPECT_EQ(FaultOf(signed_by(other, Header())), "dpop_bad_signature");
}

TEST_F(DpopCheckTest, ConcurrentChecksShareCachedKeys) {
  std::vector<Key> keys;
  std::vector<std::string> good, forged;
  for (int i = 0; i < 8; ++i) keys.push_back(*Key::Generate(Alg::kES256));
  for (size_t i = 0; i < keys.size(); ++i) {
    auto h = Header();
    h["jwk"] = *keys[i].ToPublicJwk("", Alg::kES256);
    good.push_back(
        testing::SignRaw(keys[i], Alg::kES256, json::serialize(h), json::serialize(Claims())));
    forged.push_back(testing::SignRaw(keys[(i + 1) % keys.size()], Alg::kES256, json::serialize(h),
                                      json::serialize(Claims())));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 300; ++n) {
        size_t i = static_cast<size_t>(n + t) % good.size();
        if (FaultOf(good[i]) != "ok") ++wrong;
        if (FaultOf(forged[i]) != "dpop_bad_signature") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(DpopNormalizeHtuTest, Rfc3986Normalisation) {
  EXPECT_EQ(NormalizeHtu("HTTPS://RS.Example:443/a/./b/../c?q#f"), "https://rs.example/a/c");
  EXPECT_EQ(NormalizeHtu("http://h:80"), "http://h/");
  EXPECT_EQ(NormalizeHtu("https://h/%7e%2f"), "https://h/~%2F");
  EXPECT_FALSE(NormalizeHtu("urn:x"));
  EXPECT_FALSE(NormalizeHtu("https://user@h/"));
}

}  // namespace
}  // namespace portcullis::jose::dpop
