// Named rejection vectors in tests/testdata/jose/vectors/ (see its README.md). Each <name>.jwt
// has its decoded header and payload beside it as <name>.payload.json. README.md is the manifest:
// every `| <name>.jwt | <reason> |` row is checked here.
//
// The vectors are made by Generate() below from the committed tests/testdata/jose/test_rsa.pem
// and fixed timestamps; RS256 (PKCS #1 v1.5) signatures are deterministic, so the committed files
// must equal a fresh generation. To rewrite them: PORTCULLIS_REGEN_VECTORS=1 jose_test
// --gtest_filter='Vectors*'.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "jose/jws_testing.h"
#include "jose/signer.h"
#include "jose/verifier.h"

namespace portcullis::jose {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kIssuer[] = "urn:com:networknt:oauth2:v1";
constexpr char kAudience[] = "urn:com.networknt";

struct Vector {
  std::string name;
  std::string reason;  // ReasonName(), or "valid"
  std::string header;  // JSON as signed (before any corruption)
  std::string payload;
  std::string token;
  std::string note;
};

fs::path VectorDir() {
  const char* root = std::getenv("PORTCULLIS_TESTDATA");
  return fs::path(root ? root : "tests/testdata") / "jose" / "vectors";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

Key TestKey() {
  fs::path pem = VectorDir().parent_path() / "test_rsa.pem";
  return Key::FromPem(ReadFile(pem)).value();
}

std::string Claims(int64_t iat, int64_t exp, int64_t nbf, std::string_view aud) {
  boost::json::object c;
  c["iss"] = kIssuer;
  c["aud"] = aud;
  c["exp"] = exp;
  c["jti"] = "vector-jti";
  c["iat"] = iat;
  c["nbf"] = nbf;
  c["version"] = "1.0";
  c["client_id"] = "f7d42348-c647-4efb-a52d-4c5787421e72";
  c["scope"] = boost::json::array{"petstore.r", "petstore.w"};
  return boost::json::serialize(c);
}

std::vector<Vector> Generate() {
  const Key key = TestKey();
  const std::string rs_header = R"({"alg":"RS256","kid":"100","typ":"JWT"})";
  const std::string good_claims = Claims(kNow, kNow + 600, kNow - 120, kAudience);
  auto rs = [&](const std::string& header, const std::string& payload) {
    return testing::SignRaw(key, Alg::kRS256, header, payload);
  };
  std::vector<Vector> v;
  std::string valid = rs(rs_header, good_claims);
  v.push_back({"valid", "valid", rs_header, good_claims, valid, "control: must be accepted"});

  std::string expired = Claims(kNow - 4200, kNow - 3600, kNow - 4320, kAudience);
  v.push_back({"expired", "expired", rs_header, expired, rs(rs_header, expired),
               "exp one hour before the verifier's clock"});
  std::string nbf = Claims(kNow, kNow + 7200, kNow + 3600, kAudience);
  v.push_back({"not_yet_valid", "not_yet_valid", rs_header, nbf, rs(rs_header, nbf),
               "nbf one hour after the verifier's clock"});
  std::string aud = Claims(kNow, kNow + 600, kNow - 120, "urn:com.example.other");
  v.push_back({"wrong_audience", "wrong_audience", rs_header, aud, rs(rs_header, aud),
               "aud is not urn:com.networknt"});
  std::string kid999 = R"({"alg":"RS256","kid":"999","typ":"JWT"})";
  v.push_back({"unknown_kid", "unknown_kid", kid999, good_claims, rs(kid999, good_claims),
               "signed by the test key but under kid 999"});
  std::string none = R"({"alg":"none","kid":"100","typ":"JWT"})";
  v.push_back({"alg_none", "alg_none", none, good_claims,
               Base64UrlEncode(none) + "." + Base64UrlEncode(good_claims) + ".",
               "unsecured JWS (RFC 7515 appendix A.5), empty signature"});
  std::string hs = R"({"alg":"HS256","kid":"100","typ":"JWT"})";
  v.push_back({"hs256_rsa_public_key", "alg_not_allowed", hs, good_claims,
               testing::SignHs256(key.PublicPem().value(), hs, good_claims),
               "HMAC-SHA256 keyed with the PEM of the RSA public key (HS/RS confusion)"});
  v.push_back({"truncated", "malformed", rs_header, good_claims,
               valid.substr(0, valid.find('.') + 40), "valid token cut inside the payload"});
  std::string bad_b64 = valid;
  bad_b64.insert(valid.find('.') + 10, "!");
  v.push_back({"bad_base64", "bad_base64", rs_header, good_claims, bad_b64,
               "'!' inserted into the payload part"});
  v.push_back({"trailing_garbage", "malformed", rs_header, good_claims, valid + ".garbage",
               "valid token followed by a fourth part"});
  std::string other = rs(rs_header, expired);
  std::string spliced = valid.substr(0, valid.rfind('.')) + other.substr(other.rfind('.'));
  v.push_back({"bad_signature", "bad_signature", rs_header, good_claims, spliced,
               "valid header and payload with the signature of the expired vector"});
  std::string iss =
      R"({"iss":"urn:evil","aud":"urn:com.networknt","exp":)" + std::to_string(kNow + 600) + "}";
  v.push_back({"wrong_issuer", "wrong_issuer", rs_header, iss, rs(rs_header, iss),
               "iss is not urn:com:networknt:oauth2:v1"});
  std::string ps = R"({"alg":"PS256","kid":"100","typ":"JWT"})";
  v.push_back({"ps256_on_rs256_key", "key_alg_mismatch", ps, good_claims,
               Base64UrlEncode(ps) + "." + Base64UrlEncode(good_claims) + ".AAAA",
               "kid 100 is bound to RS256 in the verifier's key set"});
  return v;
}

std::string PayloadFile(const Vector& v) {
  boost::json::object doc;
  doc["header"] = boost::json::parse(v.header);
  doc["payload"] = boost::json::parse(v.payload);
  doc["expected"] = v.reason;
  doc["note"] = v.note;
  return boost::json::serialize(doc) + "\n";
}

std::string Readme(const std::vector<Vector>& vectors) {
  std::string out =
      "# JWS rejection vectors\n\n"
      "Generated by `src/jose/vectors_test.cc` (`PORTCULLIS_REGEN_VECTORS=1 jose_test\n"
      "--gtest_filter='Vectors*'`) from `../test_rsa.pem` (a test-only RSA 2048 key, kid `100`,\n"
      "RS256). Verifier settings: clock 1700000000 (2023-11-14T22:13:20Z), leeway 60 s,\n"
      "issuer `urn:com:networknt:oauth2:v1`, audience `urn:com.networknt`, key set\n"
      "{`100`: test key, RS256}. Each `<name>.payload.json` holds the header and payload as\n"
      "signed (before any corruption) and the expected outcome. The test reads the table below.\n\n"
      "| vector | expected reason | what |\n|---|---|---|\n";
  for (const auto& v : vectors) {
    out += "| " + v.name + ".jwt | " + v.reason + " | " + v.note + " |\n";
  }
  return out;
}

Verifier MakeVerifier(const Clock& clock) {
  KeySet keys;
  auto pub = Key::FromPem(TestKey().PublicPem().value()).value();
  EXPECT_TRUE(keys.Add("100", pub, Alg::kRS256));
  VerifyOptions options;
  options.issuer = kIssuer;
  options.audience = kAudience;
  options.leeway_seconds = 60;
  return Verifier(std::move(keys), options, clock);
}

TEST(VectorsTest, RegenerateWhenAsked) {
  const char* regen = std::getenv("PORTCULLIS_REGEN_VECTORS");
  if (regen == nullptr || std::string_view(regen) != "1") GTEST_SKIP() << "not regenerating";
  auto vectors = Generate();
  fs::create_directories(VectorDir());
  for (const auto& v : vectors) {
    WriteFile(VectorDir() / (v.name + ".jwt"), v.token + "\n");
    WriteFile(VectorDir() / (v.name + ".payload.json"), PayloadFile(v));
  }
  WriteFile(VectorDir() / "README.md", Readme(vectors));
}

TEST(VectorsTest, CommittedFilesMatchTheGenerator) {
  for (const auto& v : Generate()) {
    EXPECT_EQ(ReadFile(VectorDir() / (v.name + ".jwt")), v.token + "\n") << v.name;
    EXPECT_EQ(ReadFile(VectorDir() / (v.name + ".payload.json")), PayloadFile(v)) << v.name;
  }
}

TEST(VectorsTest, EachVectorFailsWithItsReason) {
  std::string readme = ReadFile(VectorDir() / "README.md");
  ASSERT_FALSE(readme.empty()) << "missing " << VectorDir() / "README.md";
  ManualClock clock(kNow);
  Verifier verifier = MakeVerifier(clock);
  static const std::regex kRow(R"(^\| ([a-z0-9_]+)\.jwt \| ([a-z_]+) \|)");
  std::istringstream lines(readme);
  int checked = 0;
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, kRow)) continue;
    std::string name = m[1], expected = m[2];
    std::string token = ReadFile(VectorDir() / (name + ".jwt"));
    ASSERT_FALSE(token.empty()) << name;
    if (token.ends_with('\n')) token.pop_back();
    ASSERT_TRUE(fs::exists(VectorDir() / (name + ".payload.json"))) << name;
    auto result = verifier.Verify(token);
    if (expected == "valid") {
      EXPECT_TRUE(result) << name << ": " << ReasonName(result.error().reason);
    } else {
      ASSERT_FALSE(result) << name << " was accepted";
      EXPECT_EQ(ReasonName(result.error().reason), expected)
          << name << ": " << result.error().detail;
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

}  // namespace
}  // namespace portcullis::jose
