#include "oauth/oidc/id_token.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "jose/key.h"
#include "jose/signer.h"
#include "oauth/oidc/user_claims.h"

namespace portcullis::oauth::oidc {
namespace {

namespace json = boost::json;

constexpr std::string_view kIssuer = "https://op.example";
constexpr int64_t kNow = 1'700'000'000;

TEST(AtHash, PublishedVectors) {
  // RS256 (SHA-256): Ping Identity's worked example of Core §3.1.3.6.
  EXPECT_EQ(AtHash("dNZX1hEZ9wBCzNL40Upu646bdzQA", jose::Alg::kRS256), "wfgvmE9VxjAudsl9lc6TqA");
  // oidc-token-hash's README vectors: SHA-256 and SHA-512 (EdDSA with Ed25519).
  constexpr std::string_view kToken =
      "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3lth"
      "wpMjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw";
  EXPECT_EQ(AtHash(kToken, jose::Alg::kES256), "x7vk7f6BvQj0jQHYFIk4ag");
  EXPECT_EQ(AtHash(kToken, jose::Alg::kPS256), "x7vk7f6BvQj0jQHYFIk4ag");
  EXPECT_EQ(AtHash(kToken, jose::Alg::kEdDSA), "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ");
}

IdTokenFields Fields() {
  IdTokenFields f;
  f.issuer = std::string(kIssuer);
  f.sub = "alice";
  f.client_id = "c1";
  f.iat = kNow;
  f.exp = kNow + 3600;
  f.auth_time = kNow - 30;
  f.nonce = "n-0S6_WzA2Mj";
  f.access_token = "dNZX1hEZ9wBCzNL40Upu646bdzQA";
  f.sid = "s1";
  f.acr = "urn:portcullis:pwd";
  f.amr = "pwd mfa";
  return f;
}

TEST(IdTokenClaims, EveryClaim) {
  auto c = IdTokenClaims(Fields(), jose::Alg::kRS256);
  EXPECT_EQ(c.at("iss").as_string(), kIssuer);
  EXPECT_EQ(c.at("sub"), "alice");
  EXPECT_EQ(c.at("aud"), "c1");  // a single audience: no azp needed (Core §2)
  EXPECT_FALSE(c.contains("azp"));
  EXPECT_EQ(c.at("exp").as_int64(), kNow + 3600);
  EXPECT_EQ(c.at("iat").as_int64(), kNow);
  EXPECT_EQ(c.at("auth_time").as_int64(), kNow - 30);
  EXPECT_EQ(c.at("nonce"), "n-0S6_WzA2Mj");
  EXPECT_EQ(c.at("at_hash"), "wfgvmE9VxjAudsl9lc6TqA");
  EXPECT_EQ(c.at("sid"), "s1");
  EXPECT_EQ(c.at("acr"), "urn:portcullis:pwd");
  EXPECT_EQ(c.at("amr"), (json::array{"pwd", "mfa"}));
  EXPECT_EQ(c.at("typ"), "ID");
  EXPECT_FALSE(c.contains("client_id"));
  EXPECT_FALSE(c.contains("scope"));
}

TEST(IdTokenClaims, NonceEchoedExactlyAndOmittedWhenAbsent) {
  auto f = Fields();
  f.nonce = " a b\u00e9+/=%20 ";
  EXPECT_EQ(IdTokenClaims(f, jose::Alg::kRS256).at("nonce"), " a b\u00e9+/=%20 ");
  f.nonce.clear();
  f.sid.clear();
  f.acr.clear();
  f.amr.clear();
  auto c = IdTokenClaims(f, jose::Alg::kRS256);
  EXPECT_FALSE(c.contains("nonce"));
  EXPECT_FALSE(c.contains("sid"));
  EXPECT_FALSE(c.contains("acr"));
  EXPECT_FALSE(c.contains("amr"));
}

TEST(IdTokenClaims, RequestedClaimsNeverOverrideTheProtocolOnes) {
  auto f = Fields();
  f.extra = {{"email", "a@example.com"},
             {"sub", "mallory"},
             {"aud", "other"},
             {"client_id", "c9"},
             {"typ", "Bearer"}};
  auto c = IdTokenClaims(f, jose::Alg::kRS256);
  EXPECT_EQ(c.at("email"), "a@example.com");
  EXPECT_EQ(c.at("sub"), "alice");
  EXPECT_EQ(c.at("aud"), "c1");
  EXPECT_EQ(c.at("typ"), "ID");
  EXPECT_FALSE(c.contains("client_id"));
}

TEST(IdTokenAlg, DefaultsToRs256AndRefusesUnknown) {
  EXPECT_EQ(*IdTokenAlg(""), jose::Alg::kRS256);
  EXPECT_EQ(*IdTokenAlg("ES256"), jose::Alg::kES256);
  EXPECT_FALSE(IdTokenAlg("HS256"));
  EXPECT_FALSE(IdTokenAlg("none"));
  EXPECT_EQ(IdTokenAlgs(jose::Alg::kRS256), std::vector<jose::Alg>{jose::Alg::kRS256});
  EXPECT_EQ(IdTokenAlgs(jose::Alg::kES256),
            (std::vector<jose::Alg>{jose::Alg::kRS256, jose::Alg::kES256}));
}

class IdTokenHintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = jose::Key::Generate(jose::Alg::kES256).value();
    auto keys = std::make_shared<jose::KeySet>();
    ASSERT_TRUE(keys->Add("k1", *key_, jose::Alg::kES256));
    keys_ = keys;
  }
  std::string Sign(const json::object& claims, std::string typ = "JWT") {
    auto s = jose::Signer::Create(*key_, jose::Alg::kES256, "k1", std::move(typ)).value();
    return s.Sign(json::serialize(claims)).value();
  }
  Result<IdTokenHint> Read(std::string_view token) {
    return ReadIdTokenHint(token, keys_, kIssuer, clock_);
  }

  std::optional<jose::Key> key_;
  std::shared_ptr<const jose::KeySet> keys_;
  ManualClock clock_{kNow};
};

TEST_F(IdTokenHintTest, ReadsOurIdTokenEvenWhenExpired) {
  auto f = Fields();
  f.iat = kNow - 86400 * 30;
  f.exp = f.iat + 3600;
  auto hint = Read(Sign(IdTokenClaims(f, jose::Alg::kES256)));
  ASSERT_TRUE(hint) << hint.error().detail;
  EXPECT_EQ(hint->sub, "alice");
  EXPECT_EQ(hint->sid, "s1");
  EXPECT_EQ(hint->client_id, "c1");
  EXPECT_EQ(hint->auth_time, kNow - 30);
  EXPECT_EQ(hint->iat, f.iat);
}

TEST_F(IdTokenHintTest, RefusesEveryOtherKindOfToken) {
  auto id = IdTokenClaims(Fields(), jose::Alg::kES256);
  // An access token (RFC 9068): typ at+jwt, client_id, no marker.
  json::object access = {{"iss", std::string(kIssuer)},
                         {"sub", "alice"},
                         {"aud", "c1"},
                         {"exp", kNow + 60},
                         {"iat", kNow},
                         {"jti", "j"},
                         {"client_id", "c1"},
                         {"scope", "openid"}};
  EXPECT_FALSE(Read(Sign(access, "at+jwt")));
  // A light-4j access token: typ JWT but client_id, no marker.
  EXPECT_FALSE(Read(Sign(access, "JWT")));
  // Even with the marker, a client_id makes it an access token.
  auto marked = access;
  marked["typ"] = "ID";
  EXPECT_FALSE(Read(Sign(marked, "JWT")));
  // The ID token's claims under another JOSE typ (a signed payload, an access token).
  EXPECT_FALSE(Read(Sign(id, "payload+jwt")));
  EXPECT_FALSE(Read(Sign(id, "at+jwt")));
  EXPECT_FALSE(Read(Sign(id, "")));
  // Without the marker.
  auto unmarked = id;
  unmarked.erase("typ");
  EXPECT_FALSE(Read(Sign(unmarked)));
  // Another issuer, no sub, no aud, iat in the future.
  auto other = id;
  other["iss"] = "https://evil.example";
  EXPECT_FALSE(Read(Sign(other)));
  auto nosub = id;
  nosub.erase("sub");
  EXPECT_FALSE(Read(Sign(nosub)));
  auto noaud = id;
  noaud.erase("aud");
  EXPECT_FALSE(Read(Sign(noaud)));
  auto future = id;
  future["iat"] = kNow + 3600;
  future["exp"] = kNow + 7200;
  EXPECT_FALSE(Read(Sign(future)));
  // Another key, a tampered payload, garbage.
  auto stranger = jose::Key::Generate(jose::Alg::kES256).value();
  auto s = jose::Signer::Create(stranger, jose::Alg::kES256, "k1", "JWT").value();
  EXPECT_FALSE(Read(s.Sign(json::serialize(id)).value()));
  std::string good = Sign(id);
  ASSERT_TRUE(Read(good));
  std::string tampered = good;
  tampered[good.find('.') + 5] ^= 1;
  EXPECT_FALSE(Read(tampered));
  EXPECT_FALSE(Read("a.b.c"));
  EXPECT_FALSE(Read(""));
  auto e = Read(Sign(access, "JWT")).error();
  EXPECT_EQ(e.code, "ERR10000");
}

TEST(UserClaims, ByScopeAndByRequest) {
  UserProfile u{"alice", "Alice", "Liddell", "alice@example.com", kNow};
  auto none = UserClaims(u, {"openid"}, {});
  EXPECT_TRUE(none.empty());
  auto profile = UserClaims(u, {"openid", "profile"}, {});
  EXPECT_EQ(profile.at("name"), "Alice Liddell");
  EXPECT_EQ(profile.at("given_name"), "Alice");
  EXPECT_EQ(profile.at("family_name"), "Liddell");
  EXPECT_EQ(profile.at("preferred_username"), "alice");
  EXPECT_EQ(profile.at("updated_at").as_int64(), kNow);
  EXPECT_FALSE(profile.contains("email"));
  auto email = UserClaims(u, {"email"}, {});
  EXPECT_EQ(email.at("email"), "alice@example.com");
  EXPECT_FALSE(email.contains("email_verified"));  // the record knows no verification
  EXPECT_EQ(email.size(), 1u);
  // The claims parameter adds single claims; unknown ones are ignored.
  auto asked = UserClaims(u, {"openid"}, {"given_name", "shoe_size", "email"});
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked.at("given_name"), "Alice");
  // Empty fields are left out.
  UserProfile bare{"bob", "", "", "", 0};
  auto b = UserClaims(bare, {"profile", "email"}, {});
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.at("preferred_username"), "bob");
}

TEST(RequestedClaims, ReadsOneMember) {
  std::string_view claims = R"({"userinfo":{"given_name":{"essential":true},"email":null,
      "bad":1},"id_token":{"auth_time":{"essential":true},"acr":{"values":["x"]}}})";
  EXPECT_EQ(RequestedClaims(claims, "userinfo"), (std::vector<std::string>{"given_name", "email"}));
  EXPECT_EQ(RequestedClaims(claims, "id_token"), (std::vector<std::string>{"auth_time", "acr"}));
  EXPECT_TRUE(RequestedClaims("", "userinfo").empty());
  EXPECT_TRUE(RequestedClaims("not json", "userinfo").empty());
  EXPECT_TRUE(RequestedClaims(R"({"userinfo":[]})", "userinfo").empty());
}

}  // namespace
}  // namespace portcullis::oauth::oidc
