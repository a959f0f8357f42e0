#include "jose/key_set.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/encoding.h"

namespace portcullis::jose {
namespace {

boost::json::object JwkOf(Alg alg, std::string kid) {
  static const Key rsa = Key::Generate(Alg::kRS256).value();
  static const Key ec = Key::Generate(Alg::kES256).value();
  static const Key ed = Key::Generate(Alg::kEdDSA).value();
  const Key& key = alg == Alg::kES256 ? ec : alg == Alg::kEdDSA ? ed : rsa;
  return key.ToPublicJwk(kid, alg).value();
}

std::string Jwks(boost::json::array keys) {
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

TEST(JwksTest, ParsesAllKeyTypes) {
  auto set = ParseJwks(Jwks({JwkOf(Alg::kRS256, "100"), JwkOf(Alg::kPS256, "101"),
                             JwkOf(Alg::kES256, "102"), JwkOf(Alg::kEdDSA, "103")}));
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_EQ(set->size(), 4u);
  EXPECT_EQ(set->skipped(), 0u);
  ASSERT_NE(set->Find("102"), nullptr);
  EXPECT_EQ(set->Find("102")->alg, Alg::kES256);
  EXPECT_EQ(set->Find("102")->key.type(), KeyType::kEcP256);
  EXPECT_EQ(set->Find("101")->alg, Alg::kPS256);
  EXPECT_EQ(set->Find("nope"), nullptr);
}

TEST(JwksTest, LightOauth2ShapeWithoutAlgOrUse) {
  auto jwk = JwkOf(Alg::kRS256, "100");
  jwk.erase("alg");
  jwk.erase("use");
  auto set = ParseJwks(Jwks({jwk}));
  ASSERT_TRUE(set);
  ASSERT_NE(set->Find("100"), nullptr);
  EXPECT_FALSE(set->Find("100")->alg.has_value());
}

TEST(JwksTest, SkipsUnsupportedAndBadMembers) {
  auto hs = JwkOf(Alg::kRS256, "hs");
  hs["alg"] = "HS256";
  auto oct = boost::json::object{{"kty", "oct"}, {"kid", "oct"}, {"k", "c2VjcmV0"}};
  auto enc = JwkOf(Alg::kRS256, "enc");
  enc["use"] = "enc";
  auto no_kid = JwkOf(Alg::kES256, "");
  auto num_kid = JwkOf(Alg::kES256, "x");
  num_kid["kid"] = 5;
  auto bad_x = JwkOf(Alg::kES256, "badx");
  bad_x["x"] = "AAAA";
  auto wrong_alg = JwkOf(Alg::kES256, "wrongalg");
  wrong_alg["alg"] = "RS256";
  auto p384 = JwkOf(Alg::kES256, "p384");
  p384["crv"] = "P-384";
  auto dup = JwkOf(Alg::kEdDSA, "good");
  auto set = ParseJwks(Jwks({hs, oct, enc, no_kid, num_kid, bad_x, wrong_alg, p384, "string",
                             nullptr, boost::json::array{}, JwkOf(Alg::kES256, "good"), dup}));
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_EQ(set->size(), 1u);
  EXPECT_EQ(set->skipped(), 12u);
  ASSERT_NE(set->Find("good"), nullptr);
  EXPECT_EQ(set->Find("good")->key.type(), KeyType::kEcP256);  // first one wins
}

TEST(JwksTest, RejectsMalformedDocuments) {
  for (std::string_view bad : {"", "{", "[]", "null", "{}", R"({"keys":{}})", R"({"keys":"x"})",
                               R"({"keys":[]} trailing)", "{\"keys\":[\xff]}"}) {
    EXPECT_FALSE(ParseJwks(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseJwks(R"({"keys":[]})").has_value());
}

TEST(JwksTest, EnforcesLimits) {
  boost::json::array many;
  for (int i = 0; i < 65; ++i) many.push_back(boost::json::object{{"kid", std::to_string(i)}});
  EXPECT_FALSE(ParseJwks(Jwks(many)).has_value());
  JwksLimits small;
  small.max_bytes = 100;
  EXPECT_FALSE(ParseJwks(Jwks({JwkOf(Alg::kES256, "a")}), small).has_value());
  // Deep nesting is refused by the JSON parser's depth limit instead of recursing.
  std::string deep = R"({"keys":[)" + std::string(10'000, '[') + std::string(10'000, ']') + "]}";
  EXPECT_FALSE(ParseJwks(deep).has_value());
  std::string long_kid(300, 'k');
  auto set = ParseJwks(Jwks({JwkOf(Alg::kES256, long_kid)}));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 0u);
}

TEST(KeySetTest, AddChecks) {
  KeySet set;
  auto key = Key::Generate(Alg::kEdDSA).value();
  EXPECT_TRUE(set.Add("a", key, Alg::kEdDSA));
  EXPECT_FALSE(set.Add("a", key, Alg::kEdDSA));
  EXPECT_FALSE(set.Add("b", key, Alg::kRS256));
  EXPECT_EQ(set.size(), 1u);
}

}  // namespace
}  // namespace portcullis::jose
