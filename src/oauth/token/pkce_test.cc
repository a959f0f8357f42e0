#include "oauth/token/pkce.h"

#include <gtest/gtest.h>

namespace portcullis::oauth {
namespace {

// The reference's verified vector (light-oauth2 §16).
constexpr std::string_view kVerifier =
    "xzmujl-tX1OgdSrtB3oVFp4G3VHVvGbv81i8Nd-A62qgcmo0VDvOq_EaYJiSaM4fsx6oEqhHZfzhTcmcU4WjUA";
constexpr std::string_view kChallenge = "GIDiZShhVObyvaTrpkPM8VPmtMkj_qnBWlDwE7uz90s";

TEST(Pkce, S256MatchesTheReferenceVector) {
  EXPECT_EQ(S256Challenge(kVerifier), kChallenge);
  EXPECT_TRUE(CheckCodeVerifier(kVerifier, kChallenge, "S256"));
}

TEST(Pkce, ChallengeErrorsUseLightOauth2Codes) {
  EXPECT_EQ(CheckCodeChallenge(kChallenge, "ABC", false).error().code, "ERR12033");
  EXPECT_EQ(CheckCodeChallenge(kChallenge, "plain", false).error().code, "ERR12033");
  EXPECT_TRUE(CheckCodeChallenge(kChallenge, "plain", true));
  EXPECT_EQ(CheckCodeChallenge("short", "S256", false).error().code, "ERR12034");
  EXPECT_EQ(CheckCodeChallenge(std::string(129, 'a'), "S256", false).error().code, "ERR12035");
  EXPECT_EQ(CheckCodeChallenge(std::string(43, '$'), "S256", false).error().code, "ERR12036");
}

TEST(Pkce, VerifierErrorsUseLightOauth2Codes) {
  EXPECT_EQ(CheckCodeVerifier("", kChallenge, "S256").error().code, "ERR12040");
  EXPECT_EQ(CheckCodeVerifier("xzmujl", kChallenge, "S256").error().code, "ERR12038");
  EXPECT_EQ(CheckCodeVerifier(std::string(258, 'a'), kChallenge, "S256").error().code, "ERR12039");
  EXPECT_EQ(CheckCodeVerifier(std::string(50, '$'), kChallenge, "S256").error().code, "ERR12037");
  EXPECT_EQ(CheckCodeVerifier(std::string(50, 'a'), kChallenge, "S256").error().code, "ERR12041");
  EXPECT_EQ(CheckCodeVerifier(kVerifier, kChallenge, "ABC").error().code, "ERR12033");
}

}  // namespace
}  // namespace portcullis::oauth
