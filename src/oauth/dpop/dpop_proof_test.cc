#include "oauth/dpop/dpop_proof.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/jws_testing.h"
#include "jose/key.h"

namespace portcullis::oauth::dpop {
namespace {

namespace json = boost::json;
constexpr std::string_view kUri = "https://as.example/oauth2/token";

class DpopProofTest : public ::testing::Test {
 protected:
  DpopProofTest() : key_(*jose::Key::Generate(jose::Alg::kES256)) {
    settings_.nonce_key = Secret("0123456789abcdef0123456789abcdef");
  }

  json::object Jwk() const { return *key_.ToPublicJwk("k", jose::Alg::kES256); }
  json::object Header() const {
    json::object jwk = Jwk();
    jwk.erase("kid");
    jwk.erase("use");
    jwk.erase("alg");
    return json::object{{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", jwk}};
  }
  json::object Claims() const {
    return json::object{{"jti", "j-1"}, {"htm", "POST"}, {"htu", kUri}, {"iat", clock_.Now()}};
  }
  std::string Sign(const json::object& header, const json::object& claims,
                   jose::Alg alg = jose::Alg::kES256) const {
    return jose::testing::SignRaw(key_, alg, json::serialize(header), json::serialize(claims));
  }
  Result<Proof> Check(std::string_view proof,
                      std::optional<std::string_view> access_token = std::nullopt) const {
    ProofValidator v(settings_, clock_);
    std::string_view headers[] = {proof};
    return v.Validate(headers, Expected{"POST", kUri, access_token});
  }
  static std::string ErrorOf(const Result<Proof>& r) { return r ? "ok" : r.error().oauth_error; }

  ManualClock clock_;
  Settings settings_;
  jose::Key key_;
};

TEST_F(DpopProofTest, AcceptsAWellFormedProofAndReturnsTheThumbprint) {
  auto r = Check(Sign(Header(), Claims()));
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->jti, "j-1");
  EXPECT_EQ(r->iat, clock_.Now());
  EXPECT_EQ(r->jkt, *JwkThumbprint(Jwk()));
  // Query and fragment of htu are ignored, as are the case of scheme/host and a default port.
  auto c = Claims();
  c["htu"] = "HTTPS://AS.example:443/oauth2/token?x=1#f";
  EXPECT_TRUE(Check(Sign(Header(), c)));
}

TEST_F(DpopProofTest, ThumbprintMatchesRfc7638Example) {
  // RFC 7638 §3.1.
  auto jwk =
      json::parse(
          R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})")
          .as_object();
  EXPECT_EQ(*JwkThumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_F(DpopProofTest, RefusesMissingAndRepeatedHeaders) {
  ProofValidator v(settings_, clock_);
  std::string p = Sign(Header(), Claims());
  EXPECT_EQ(ErrorOf(v.Validate({}, Expected{"POST", kUri, {}})), kInvalidProof);
  std::string_view two[] = {p, p};
  EXPECT_EQ(ErrorOf(v.Validate(two, Expected{"POST", kUri, {}})), kInvalidProof);
  EXPECT_EQ(ErrorOf(Check("not.a.jwt")), kInvalidProof);
  EXPECT_EQ(ErrorOf(Check(std::string(kMaxProofBytes + 1, 'a'))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesWrongTyp) {
  auto h = Header();
  h["typ"] = "JWT";
  EXPECT_EQ(ErrorOf(Check(Sign(h, Claims()))), kInvalidProof);
  h.erase("typ");
  EXPECT_EQ(ErrorOf(Check(Sign(h, Claims()))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesNoneHs256AndAlgsNotAllowed) {
  auto h = Header();
  h["alg"] = "HS256";
  EXPECT_EQ(ErrorOf(Check(
                jose::testing::SignHs256("secret", json::serialize(h), json::serialize(Claims())))),
            kInvalidProof);
  h["alg"] = "none";
  EXPECT_EQ(ErrorOf(Check(
                jose::testing::SignHs256("secret", json::serialize(h), json::serialize(Claims())))),
            kInvalidProof);
  settings_.algs = {jose::Alg::kEdDSA};
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), Claims()))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesPrivateJwkAndMissingJwk) {
  auto h = Header();
  h["jwk"].as_object()["d"] = "AAAA";
  EXPECT_EQ(ErrorOf(Check(Sign(h, Claims()))), kInvalidProof);
  h.erase("jwk");
  EXPECT_EQ(ErrorOf(Check(Sign(h, Claims()))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesSignatureByAnotherKey) {
  auto other = *jose::Key::Generate(jose::Alg::kES256);
  std::string p = jose::testing::SignRaw(other, jose::Alg::kES256, json::serialize(Header()),
                                         json::serialize(Claims()));
  EXPECT_EQ(ErrorOf(Check(p)), kInvalidProof);
  // An RSA alg over an EC key.
  auto h = Header();
  h["alg"] = "RS256";
  EXPECT_EQ(ErrorOf(Check(Sign(h, Claims()))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesWrongHtmHtuAndMissingClaims) {
  auto c = Claims();
  c["htm"] = "GET";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
  c = Claims();
  c["htu"] = "https://as.example/oauth2/introspect";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
  c["htu"] = "https://evil.example/oauth2/token";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
  for (auto name : {"jti", "htm", "htu", "iat"}) {
    c = Claims();
    c.erase(name);
    EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof) << name;
  }
  c = Claims();
  c["jti"] = std::string(kMaxJtiBytes + 1, 'j');
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
}

TEST_F(DpopProofTest, RefusesIatOutsideTheWindow) {
  auto c = Claims();
  c["iat"] = clock_.Now() - settings_.iat_window_s - 1;
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
  c["iat"] = clock_.Now() + settings_.iat_window_s + 1;
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
  c["iat"] = clock_.Now() - settings_.iat_window_s;
  EXPECT_TRUE(Check(Sign(Header(), c)));
  c["iat"] = "now";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
}

TEST_F(DpopProofTest, AthIsRequiredWithAnAccessTokenAndRefusedWithout) {
  auto c = Claims();
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c), "tok")), kInvalidProof);
  c["ath"] = AccessTokenHash("other");
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c), "tok")), kInvalidProof);
  c["ath"] = AccessTokenHash("tok");
  EXPECT_TRUE(Check(Sign(Header(), c), "tok"));
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
}

TEST_F(DpopProofTest, NoncesWhenRequired) {
  settings_.require_nonce = true;
  ProofValidator v(settings_, clock_);
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), Claims()))), kUseNonce);
  auto c = Claims();
  c["nonce"] = "1.forged";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kUseNonce);
  c["nonce"] = v.CurrentNonce();
  EXPECT_TRUE(Check(Sign(Header(), c)));
  // Still good in the next slot, not in the one after.
  clock_.Advance(settings_.nonce_slot_s);
  c["iat"] = clock_.Now();
  EXPECT_TRUE(Check(Sign(Header(), c)));
  clock_.Advance(settings_.nonce_slot_s);
  c["iat"] = clock_.Now();
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kUseNonce);
  // Another instance with the same key accepts it; one with another key does not.
  Settings other = settings_;
  ProofValidator same(settings_, clock_);
  other.nonce_key = Secret("another key, another installation");
  ProofValidator foreign(other, clock_);
  EXPECT_TRUE(same.NonceValid(v.CurrentNonce()));
  EXPECT_FALSE(foreign.NonceValid(v.CurrentNonce()));
  // An invalid proof reports invalid_dpop_proof, not use_dpop_nonce.
  c = Claims();
  c["htm"] = "GET";
  EXPECT_EQ(ErrorOf(Check(Sign(Header(), c))), kInvalidProof);
}

TEST_F(DpopProofTest, AcceptsRsaAndEd25519Keys) {
  for (auto alg : {jose::Alg::kPS256, jose::Alg::kRS256, jose::Alg::kEdDSA}) {
    auto k = *jose::Key::Generate(alg);
    json::object jwk = *k.ToPublicJwk("k", alg);
    auto h = json::object{{"typ", "dpop+jwt"}, {"alg", jose::AlgName(alg)}, {"jwk", jwk}};
    auto p = jose::testing::SignRaw(k, alg, json::serialize(h), json::serialize(Claims()));
    auto r = Check(p);
    ASSERT_TRUE(r) << jose::AlgName(alg) << ": " << r.error().description;
    EXPECT_EQ(r->jkt, *JwkThumbprint(jwk));
  }
}

TEST(DpopHtuTest, Normalizes) {
  EXPECT_EQ(NormalizeHtu("HTTP://Host:80"), "http://host/");
  EXPECT_EQ(NormalizeHtu("https://h:8443/a/B?q#f"), "https://h:8443/a/B");
  EXPECT_NE(NormalizeHtu("https://h/a"), NormalizeHtu("https://h/A"));
}

}  // namespace
}  // namespace portcullis::oauth::dpop
