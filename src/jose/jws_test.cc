#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "jose/jws_testing.h"
#include "jose/ossl.h"
#include "jose/signer.h"
#include "jose/verifier.h"

namespace portcullis::jose {
namespace {

using testing::SignRaw;

constexpr int64_t kNow = 1'700'000'000;
constexpr Alg kAllAlgs[] = {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA};

std::string Claims(int64_t exp = kNow + 600, std::string extra = "") {
  return R"({"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt","exp":)" +
         std::to_string(exp) + R"(,"iat":)" + std::to_string(kNow) + R"(,"nbf":)" +
         std::to_string(kNow - 120) + extra + "}";
}

// One key per alg, generated once for the suite (RSA generation is slow).
const Key& KeyFor(Alg alg) {
  static const std::vector<Key> keys = [] {
    std::vector<Key> k;
    for (Alg a : kAllAlgs) k.push_back(Key::Generate(a).value());
    return k;
  }();
  return keys[static_cast<size_t>(alg)];
}

std::string KidFor(Alg alg) { return "k-" + std::string(AlgName(alg)); }

std::shared_ptr<const KeySet> AllKeys() {
  auto set = std::make_shared<KeySet>();
  for (Alg alg : kAllAlgs) {
    EXPECT_TRUE(set->Add(KidFor(alg), KeyFor(alg), alg));
  }
  return set;
}

class JwsTest : public ::testing::Test {
 protected:
  ManualClock clock_{kNow};
  VerifyOptions options_ = [] {
    VerifyOptions o;
    o.issuer = "urn:com:networknt:oauth2:v1";
    o.audience = "urn:com.networknt";
    return o;
  }();
  Verifier verifier_{AllKeys(), options_, clock_};

  std::string Sign(Alg alg, std::string_view payload) {
    auto signer = Signer::Create(KeyFor(alg), alg, KidFor(alg));
    return signer.value().Sign(payload).value();
  }
  VerifyReason ReasonOf(std::string_view token) {
    auto r = verifier_.Verify(token);
    EXPECT_FALSE(r.has_value()) << "accepted: " << token;
    return r ? VerifyReason::kMalformed : r.error().reason;
  }
  std::string Header(Alg alg, std::string kid = "") {
    if (kid.empty()) kid = KidFor(alg);
    return R"({"alg":")" + std::string(AlgName(alg)) + R"(","kid":")" + kid + R"("})";
  }
};

class JwsAlgTest : public JwsTest, public ::testing::WithParamInterface<Alg> {};

TEST_P(JwsAlgTest, SignVerifyRoundTrip) {
  Alg alg = GetParam();
  std::string token = Sign(alg, Claims(kNow + 600, R"(,"scope":["a","b"])"));
  auto verified = verifier_.Verify(token);
  ASSERT_TRUE(verified) << ReasonName(verified.error().reason) << " " << verified.error().detail;
  EXPECT_EQ(verified->kid, KidFor(alg));
  EXPECT_EQ(verified->alg, alg);
  EXPECT_EQ(verified->header.at("typ"), "JWT");
  EXPECT_EQ(verified->payload.at("scope").as_array().size(), 2u);
}

TEST_P(JwsAlgTest, SignatureSizes) {
  Alg alg = GetParam();
  std::string token = Sign(alg, Claims());
  auto sig = Base64UrlDecode(token.substr(token.rfind('.') + 1));
  ASSERT_TRUE(sig);
  // RFC 7518 §3.4: ES256 is raw R||S; RFC 8032: Ed25519 is 64 bytes; RSA: modulus size.
  EXPECT_EQ(sig->size(), alg == Alg::kRS256 || alg == Alg::kPS256 ? 256u : 64u);
}

TEST_P(JwsAlgTest, TamperedTokensFail) {
  Alg alg = GetParam();
  std::string token = Sign(alg, Claims());
  size_t dot2 = token.rfind('.');
  // Flip one bit of the signature's first byte (the first char carries 6 full bits).
  std::string bad_sig = token;
  bad_sig[dot2 + 1] = bad_sig[dot2 + 1] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ReasonOf(bad_sig), VerifyReason::kBadSignature);
  // Another payload under the original signature.
  std::string other = Sign(alg, Claims(kNow + 900));
  std::string spliced = other.substr(0, other.rfind('.')) + token.substr(dot2);
  EXPECT_EQ(ReasonOf(spliced), VerifyReason::kBadSignature);
  // Truncated signature.
  auto sig = Base64UrlDecode(token.substr(dot2 + 1)).value();
  std::string short_sig =
      token.substr(0, dot2 + 1) + Base64UrlEncode(std::string_view(sig).substr(0, sig.size() - 1));
  EXPECT_EQ(ReasonOf(short_sig), VerifyReason::kBadSignature);
}

TEST_P(JwsAlgTest, SignerIsRepeatableAndVerifiesEachTime) {
  auto signer = Signer::Create(KeyFor(GetParam()), GetParam(), KidFor(GetParam())).value();
  for (int i = 0; i < 20; ++i) {
    auto token = signer.Sign(Claims(kNow + 600 + i));
    ASSERT_TRUE(token);
    ASSERT_TRUE(verifier_.Verify(*token)) << i;
  }
}

// ES256 signatures leave OpenSSL as DER and are cut down to R || S in place (ossl.cc). R or S
// is shorter than 32 bytes once in 256 signatures, and has its top bit set (a 33-byte DER
// INTEGER) every other one: 3000 signatures meet each case many times; every one must verify
// and match the DER-parsing conversion.
TEST_F(JwsTest, Es256SignaturesOfEveryIntegerLengthVerify) {
  auto signer = Signer::Create(KeyFor(Alg::kES256), Alg::kES256, KidFor(Alg::kES256)).value();
  int short_parts = 0;
  for (int i = 0; i < 3000; ++i) {
    auto token = signer.Sign(Claims(kNow + 600));
    ASSERT_TRUE(token);
    auto sig = Base64UrlDecode(token->substr(token->rfind('.') + 1)).value();
    ASSERT_EQ(sig.size(), 64u);
    if (sig[0] == 0 || sig[32] == 0) ++short_parts;
    auto der = internal::EcdsaRawToDer(sig);
    ASSERT_TRUE(der);
    EXPECT_EQ(internal::EcdsaDerToRaw(*der), sig);
    ASSERT_TRUE(verifier_.Verify(*token)) << i;
  }
  EXPECT_GT(short_parts, 0);
}

INSTANTIATE_TEST_SUITE_P(AllAlgs, JwsAlgTest, ::testing::ValuesIn(kAllAlgs),
                         [](const auto& info) { return std::string(AlgName(info.param)); });

TEST_F(JwsTest, SignerHeader) {
  auto signer = Signer::Create(KeyFor(Alg::kRS256), Alg::kRS256, "05100").value();
  EXPECT_EQ(Base64UrlDecode(signer.encoded_header()),
            R"({"alg":"RS256","kid":"05100","typ":"JWT"})");
  auto no_typ = Signer::Create(KeyFor(Alg::kRS256), Alg::kRS256, "100", "").value();
  EXPECT_EQ(Base64UrlDecode(no_typ.encoded_header()), R"({"alg":"RS256","kid":"100"})");
}

TEST_F(JwsTest, SignerRejectsPublicOrMismatchedKeys) {
  auto pub = Key::FromPem(KeyFor(Alg::kES256).PublicPem().value()).value();
  EXPECT_FALSE(Signer::Create(pub, Alg::kES256, "k"));
  EXPECT_FALSE(Signer::Create(KeyFor(Alg::kES256), Alg::kRS256, "k"));
  EXPECT_FALSE(Signer::Create(KeyFor(Alg::kRS256), Alg::kEdDSA, "k"));
}

TEST_F(JwsTest, ShapeErrors) {
  std::string good = Sign(Alg::kES256, Claims());
  EXPECT_EQ(ReasonOf(""), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf("abc"), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf("a.b"), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf("a.b.c.d"), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(good + "."), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(good + ".x"), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(".."), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(good.substr(0, good.rfind('.') + 1)), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(std::string(kMaxTokenBytes + 1, 'a')), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(good + "="), VerifyReason::kBadBase64);
  EXPECT_EQ(ReasonOf(good + " "), VerifyReason::kBadBase64);
  EXPECT_EQ(ReasonOf("e30=.e30.AA"), VerifyReason::kBadBase64);
  EXPECT_EQ(ReasonOf("e30.e3+.AA"), VerifyReason::kBadBase64);
}

TEST_F(JwsTest, HeaderErrors) {
  const Key& key = KeyFor(Alg::kES256);
  auto reason = [&](std::string_view header) {
    return ReasonOf(SignRaw(key, Alg::kES256, header, Claims()));
  };
  EXPECT_EQ(reason("[]"), VerifyReason::kMalformed);
  EXPECT_EQ(reason("not json"), VerifyReason::kMalformed);
  EXPECT_EQ(reason(R"({"kid":"k-ES256"})"), VerifyReason::kMalformed);
  EXPECT_EQ(reason(R"({"alg":1,"kid":"k-ES256"})"), VerifyReason::kMalformed);
  EXPECT_EQ(reason(R"({"alg":"none","kid":"k-ES256"})"), VerifyReason::kAlgNone);
  EXPECT_EQ(reason(R"({"alg":"NoNe","kid":"k-ES256"})"), VerifyReason::kAlgNone);
  EXPECT_EQ(reason(R"({"alg":"HS256","kid":"k-ES256"})"), VerifyReason::kAlgNotAllowed);
  EXPECT_EQ(reason(R"({"alg":"ES384","kid":"k-ES256"})"), VerifyReason::kAlgNotAllowed);
  EXPECT_EQ(reason(R"({"alg":"es256","kid":"k-ES256"})"), VerifyReason::kAlgNotAllowed);
  EXPECT_EQ(reason(R"({"alg":"ES256"})"), VerifyReason::kUnknownKid);
  EXPECT_EQ(reason(R"({"alg":"ES256","kid":7})"), VerifyReason::kUnknownKid);
  EXPECT_EQ(reason(R"({"alg":"ES256","kid":"nope"})"), VerifyReason::kUnknownKid);
  EXPECT_EQ(reason(R"({"alg":"ES256","kid":"k-ES256","crit":["exp"]})"), VerifyReason::kMalformed);
  // Duplicate members: the last one counts.
  EXPECT_EQ(reason(R"({"alg":"ES256","kid":"k-ES256","alg":"none"})"), VerifyReason::kAlgNone);
}

TEST_F(JwsTest, KeyAlgBinding) {
  // An RS256 token presented under the EC kid, and a PS256 token under a kid bound to RS256.
  std::string rs =
      SignRaw(KeyFor(Alg::kRS256), Alg::kRS256, Header(Alg::kRS256, "k-ES256"), Claims());
  EXPECT_EQ(ReasonOf(rs), VerifyReason::kKeyAlgMismatch);
  std::string ps =
      SignRaw(KeyFor(Alg::kRS256), Alg::kPS256, Header(Alg::kPS256, "k-RS256"), Claims());
  EXPECT_EQ(ReasonOf(ps), VerifyReason::kKeyAlgMismatch);
  // Without a JWK alg the RSA key accepts both RSA algs, still never ES256.
  KeySet set;
  ASSERT_TRUE(set.Add("rsa", KeyFor(Alg::kRS256)));
  Verifier v(std::move(set), options_, clock_);
  EXPECT_TRUE(
      v.Verify(SignRaw(KeyFor(Alg::kRS256), Alg::kRS256, Header(Alg::kRS256, "rsa"), Claims())));
  EXPECT_TRUE(
      v.Verify(SignRaw(KeyFor(Alg::kRS256), Alg::kPS256, Header(Alg::kPS256, "rsa"), Claims())));
  auto es =
      v.Verify(SignRaw(KeyFor(Alg::kES256), Alg::kES256, Header(Alg::kES256, "rsa"), Claims()));
  ASSERT_FALSE(es);
  EXPECT_EQ(es.error().reason, VerifyReason::kKeyAlgMismatch);
}

TEST_F(JwsTest, AlgorithmAllowList) {
  VerifyOptions only_es = options_;
  only_es.algorithms = {Alg::kES256};
  Verifier v(AllKeys(), only_es, clock_);
  EXPECT_TRUE(v.Verify(Sign(Alg::kES256, Claims())));
  auto rs = v.Verify(Sign(Alg::kRS256, Claims()));
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().reason, VerifyReason::kAlgNotAllowed);
  VerifyOptions none = options_;
  none.algorithms.clear();
  Verifier nothing(AllKeys(), none, clock_);
  EXPECT_FALSE(nothing.Verify(Sign(Alg::kES256, Claims())));
}

TEST_F(JwsTest, TimeClaims) {
  // exp: accepted until exp + leeway (exclusive).
  std::string token = Sign(Alg::kES256, Claims(kNow + 10));
  clock_.Set(kNow + 10 + 59);
  EXPECT_TRUE(verifier_.Verify(token));
  clock_.Set(kNow + 10 + 60);
  EXPECT_EQ(ReasonOf(token), VerifyReason::kExpired);
  clock_.Set(kNow);

  auto with = [&](std::string claims) { return Sign(Alg::kES256, claims); };
  std::string exp = std::to_string(kNow + 600);
  EXPECT_EQ(ReasonOf(with(R"({"exp":)" + exp + R"(,"nbf":)" + std::to_string(kNow + 61) +
                          R"(,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")),
            VerifyReason::kNotYetValid);
  EXPECT_TRUE(
      verifier_.Verify(with(R"({"exp":)" + exp + R"(,"nbf":)" + std::to_string(kNow + 60) +
                            R"(,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")));
  EXPECT_EQ(ReasonOf(with(R"({"exp":)" + exp + R"(,"iat":)" + std::to_string(kNow + 61) +
                          R"(,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")),
            VerifyReason::kIssuedInFuture);
  // Non-numeric and missing.
  EXPECT_EQ(ReasonOf(with(R"({"exp":")" + exp + R"("})")), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(with(R"({"exp":)" + exp + R"(,"nbf":null})")), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(with(R"({"exp":)" + exp + R"(,"iat":[1]})")), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(with(R"({"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")),
            VerifyReason::kMalformed);
  // Fractional and huge values.
  EXPECT_TRUE(verifier_.Verify(
      with(R"({"exp":)" + exp +
           R"(.5,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")));
  EXPECT_TRUE(verifier_.Verify(with(
      R"({"exp":18446744073709551615,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")));
  EXPECT_EQ(
      ReasonOf(with(
          R"({"exp":-9223372036854775808,"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt"})")),
      VerifyReason::kExpired);
  // Payload must be an object.
  EXPECT_EQ(ReasonOf(with("[1,2]")), VerifyReason::kMalformed);
  EXPECT_EQ(ReasonOf(with("{")), VerifyReason::kMalformed);
}

TEST_F(JwsTest, ExpOptional) {
  VerifyOptions o;
  o.require_exp = false;
  Verifier v(AllKeys(), o, clock_);
  EXPECT_TRUE(v.Verify(Sign(Alg::kEdDSA, "{}")));
}

TEST_F(JwsTest, IssuerAndAudience) {
  std::string exp = std::to_string(kNow + 600);
  auto with = [&](std::string iss_aud) {
    return Sign(Alg::kEdDSA, R"({"exp":)" + exp + "," + iss_aud + "}");
  };
  EXPECT_EQ(ReasonOf(with(R"("iss":"other","aud":"urn:com.networknt")")),
            VerifyReason::kWrongIssuer);
  EXPECT_EQ(ReasonOf(with(R"("aud":"urn:com.networknt")")), VerifyReason::kWrongIssuer);
  EXPECT_EQ(ReasonOf(with(R"("iss":"urn:com:networknt:oauth2:v1","aud":"x")")),
            VerifyReason::kWrongAudience);
  EXPECT_EQ(ReasonOf(with(R"("iss":"urn:com:networknt:oauth2:v1")")), VerifyReason::kWrongAudience);
  EXPECT_EQ(ReasonOf(with(R"("iss":"urn:com:networknt:oauth2:v1","aud":["x","y"])")),
            VerifyReason::kWrongAudience);
  EXPECT_EQ(
      ReasonOf(with(R"("iss":"urn:com:networknt:oauth2:v1","aud":{"a":"urn:com.networknt"})")),
      VerifyReason::kWrongAudience);
  EXPECT_TRUE(verifier_.Verify(
      with(R"("iss":"urn:com:networknt:oauth2:v1","aud":["x","urn:com.networknt"])")));
}

TEST_F(JwsTest, TypeCheck) {
  VerifyOptions o = options_;
  o.typ = "at+jwt";
  Verifier v(AllKeys(), o, clock_);
  const Key& key = KeyFor(Alg::kES256);
  auto with_typ = [&](std::string typ) {
    return v.Verify(
        SignRaw(key, Alg::kES256, R"({"alg":"ES256","kid":"k-ES256")" + typ + "}", Claims()));
  };
  EXPECT_TRUE(with_typ(R"(,"typ":"at+jwt")"));
  EXPECT_TRUE(with_typ(R"(,"typ":"AT+JWT")"));
  EXPECT_TRUE(with_typ(R"(,"typ":"application/at+jwt")"));
  EXPECT_EQ(with_typ(R"(,"typ":"JWT")").error().reason, VerifyReason::kWrongType);
  EXPECT_EQ(with_typ("").error().reason, VerifyReason::kWrongType);
  EXPECT_EQ(with_typ(R"(,"typ":"application/")").error().reason, VerifyReason::kWrongType);
}

TEST_F(JwsTest, ToError) {
  Error expired = ToError({VerifyReason::kExpired, "exp"});
  EXPECT_EQ(expired.code, "ERR10001");
  EXPECT_EQ(expired.http_status, 401);
  Error bad = ToError({VerifyReason::kBadSignature, "kid 100"});
  EXPECT_EQ(bad.code, "ERR10000");
  EXPECT_NE(bad.description.find("bad_signature"), std::string::npos);
  EXPECT_NE(bad.detail.find("kid 100"), std::string::npos);
  for (int r = 0; r <= static_cast<int>(VerifyReason::kWrongType); ++r) {
    EXPECT_NE(ReasonName(static_cast<VerifyReason>(r)), "unknown");
  }
}

TEST_F(JwsTest, EmptyKeySet) {
  Verifier v(std::shared_ptr<const KeySet>(), options_, clock_);
  auto r = v.Verify(Sign(Alg::kES256, Claims()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, VerifyReason::kUnknownKid);
}

TEST_F(JwsTest, ConcurrentSignAndVerify) {
  std::vector<Signer> signers;
  for (Alg alg : kAllAlgs) signers.push_back(Signer::Create(KeyFor(alg), alg, KidFor(alg)).value());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const Signer& s = signers[(t + i) % signers.size()];
        auto token = s.Sign(Claims(kNow + 600 + i));
        if (!token || !verifier_.Verify(*token)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace portcullis::jose
