#include <gtest/gtest.h>

#include "oauth/totp/memory_totp_store.h"
#include "oauth/totp/password_gate.h"
#include "oauth/totp/second_factor.h"
#include "oauth/totp/totp.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kRfcKey = "12345678901234567890";

// RFC 6238 Appendix B, the SHA-1 rows (8 digits).
TEST(Totp, Rfc6238Sha1Vectors) {
  struct Row {
    int64_t time;
    const char* code;
  } rows[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
              {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& r : rows) {
    EXPECT_EQ(totp::CodeAt(kRfcKey, totp::StepAt(r.time), 8), r.code) << r.time;
  }
}

// RFC 4226 Appendix D: HOTP, 6 digits, counters 0..9.
TEST(Totp, Rfc4226HotpVectors) {
  const uint32_t expected[] = {755224, 287082, 359152, 969429, 338314,
                               254676, 287922, 162583, 399871, 520489};
  for (uint64_t c = 0; c < 10; ++c) EXPECT_EQ(totp::Hotp(kRfcKey, c), expected[c]) << c;
  EXPECT_EQ(totp::CodeAt(kRfcKey, 0), "755224");
}

TEST(Totp, Base32RoundTripAndRfc4648Vectors) {
  EXPECT_EQ(totp::Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(totp::Base32Encode("f"), "MY");
  EXPECT_EQ(totp::Base32Encode(kRfcKey), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(totp::Base32Decode("mzxw 6ytb oi======"), "foobar");
  EXPECT_FALSE(totp::Base32Decode("MZXW1"));
}

TEST(Totp, OtpauthUri) {
  EXPECT_EQ(totp::OtpauthUri("Acme Corp", "alice@x", "ABC"),
            "otpauth://totp/Acme%20Corp:alice%40x?secret=ABC&issuer=Acme%20Corp&algorithm=SHA1"
            "&digits=6&period=30");
  EXPECT_TRUE(totp::LooksLikeTotp("123 456"));
  EXPECT_FALSE(totp::LooksLikeTotp("12345"));
  EXPECT_FALSE(totp::LooksLikeTotp("12345a"));
}

class SecondFactorTest : public ::testing::Test {
 protected:
  SecondFactorTest()
      : master_(MasterKey::Generate(Random::System())),
        hasher_(Secret(std::string(32, 'p'))),
        clock_(1'700'000'000),
        throttle_(clock_, 5, 300, 50),
        sf_(store_, master_, hasher_, clock_, Random::System(), throttle_) {}

  std::string CodeNow(const SecondFactor::Enrolment& e, int64_t offset = 0) {
    auto key = totp::Base32Decode(e.secret.Reveal());
    return totp::CodeAt(*key, totp::StepAt(clock_.Now()) + offset);
  }

  MemoryTotpStore store_;
  MasterKey master_;
  SecretHasher hasher_;
  ManualClock clock_;
  LoginThrottle throttle_;
  SecondFactor sf_;
};

TEST_F(SecondFactorTest, EnrolConfirmVerifyAndReplay) {
  auto e = sf_.Enrol("alice");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->recovery_codes.size(), 10u);
  EXPECT_EQ(totp::Base32Decode(e->secret.Reveal())->size(), totp::kSecretBytes);
  EXPECT_NE(e->otpauth_uri.find("secret=" + std::string(e->secret.Reveal())), std::string::npos);
  EXPECT_TRUE(e->qr_svg.starts_with("<svg "));
  // Stored sealed, never in clear.
  auto row = store_.Find("alice");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->secret_sealed.find(e->secret.Reveal()), std::string::npos);
  EXPECT_EQ(*sf_.StateOf("alice"), SecondFactor::State::kPending);

  // Pending: no sign-in with it yet.
  EXPECT_FALSE(sf_.Verify("alice", CodeNow(*e), "10.0.0.1"));
  EXPECT_FALSE(sf_.Confirm("alice", "000000", "10.0.0.1") && CodeNow(*e) != "000000");
  ASSERT_TRUE(sf_.Confirm("alice", CodeNow(*e), "10.0.0.1"));
  EXPECT_EQ(*sf_.StateOf("alice"), SecondFactor::State::kActive);
  // The confirming code's step is used: the same code is refused.
  EXPECT_FALSE(sf_.Verify("alice", CodeNow(*e), "10.0.0.1"));
  // A second Enrol while active is refused.
  EXPECT_EQ(sf_.Enrol("alice").error().http_status, 409);

  clock_.Advance(30);
  auto m = sf_.Verify("alice", CodeNow(*e), "10.0.0.1");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, SecondFactor::Method::kTotp);
  auto replay = sf_.Verify("alice", CodeNow(*e), "10.0.0.2");
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().oauth_error, "invalid_code");
  // The previous step is older than the last used one: refused too.
  EXPECT_FALSE(sf_.Verify("alice", CodeNow(*e, -1), "10.0.0.1"));
  // One step ahead (clock skew) is accepted; two are not.
  EXPECT_FALSE(sf_.Verify("alice", CodeNow(*e, 2), "10.0.0.1"));
  EXPECT_TRUE(sf_.Verify("alice", CodeNow(*e, 1), "10.0.0.1"));
}

TEST_F(SecondFactorTest, RecoveryCodesAreSingleUse) {
  auto e = sf_.Enrol("bob");
  ASSERT_TRUE(e);
  const std::string code = e->recovery_codes[3];
  // Not before the enrolment is confirmed.
  EXPECT_FALSE(sf_.Verify("bob", code, ""));
  ASSERT_TRUE(sf_.Confirm("bob", CodeNow(*e), ""));
  EXPECT_EQ(*sf_.RecoveryCodesLeft("bob"), 10);
  std::string upper = code;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  auto m = sf_.Verify("bob", upper, "");  // case and dashes do not matter
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, SecondFactor::Method::kRecoveryCode);
  EXPECT_FALSE(sf_.Verify("bob", code, ""));
  EXPECT_EQ(*sf_.RecoveryCodesLeft("bob"), 9);
  // Another user's codes are worthless here.
  EXPECT_FALSE(sf_.Verify("alice", e->recovery_codes[4], ""));
  ASSERT_TRUE(*sf_.Disable("bob"));
  EXPECT_FALSE(*sf_.Disable("bob"));
  EXPECT_EQ(*sf_.StateOf("bob"), SecondFactor::State::kNone);
}

TEST_F(SecondFactorTest, RegeneratedRecoveryCodesReplaceTheOldOnes) {
  auto e = sf_.Enrol("bob");
  ASSERT_TRUE(e);
  EXPECT_EQ(sf_.RegenerateRecoveryCodes("bob").error().http_status, 409);  // pending
  ASSERT_TRUE(sf_.Confirm("bob", CodeNow(*e), ""));
  ASSERT_TRUE(sf_.Verify("bob", e->recovery_codes[0], ""));
  auto fresh = sf_.RegenerateRecoveryCodes("bob");
  ASSERT_TRUE(fresh);
  ASSERT_EQ(fresh->size(), 10u);
  EXPECT_EQ(*sf_.RecoveryCodesLeft("bob"), 10);
  EXPECT_FALSE(sf_.Verify("bob", e->recovery_codes[1], ""));  // old: gone
  EXPECT_TRUE(sf_.Verify("bob", (*fresh)[1], ""));
  EXPECT_EQ(sf_.RegenerateRecoveryCodes("nobody").error().http_status, 409);
}

TEST_F(SecondFactorTest, RealmsHaveTheirOwnEnrolments) {
  EXPECT_EQ(TotpSubject("", "alice"), "alice");
  EXPECT_EQ(TotpSubject("ldap-corp", "alice"), "ldap-corp:alice");
  EXPECT_TRUE(IsLocalSubject("alice"));
  EXPECT_FALSE(IsLocalSubject("ldap-corp:alice"));
  auto e = sf_.Enrol(TotpSubject("ldap-corp", "alice"), "alice");
  ASSERT_TRUE(e);
  // The app shows the user's name, not the key.
  EXPECT_TRUE(e->otpauth_uri.starts_with("otpauth://totp/Portcullis:alice?")) << e->otpauth_uri;
  EXPECT_FALSE((*store_.Find("ldap-corp:alice"))->local);
  ASSERT_TRUE(sf_.Confirm("ldap-corp:alice", CodeNow(*e), ""));
  EXPECT_EQ(*sf_.StateOf("ldap-corp:alice"), SecondFactor::State::kActive);
  EXPECT_EQ(*sf_.StateOf("alice"), SecondFactor::State::kNone);
  EXPECT_FALSE(*sf_.NeededFor("", "alice", "", "c"));
  EXPECT_TRUE(*sf_.NeededFor("ldap-corp", "alice", "", "c"));
  EXPECT_TRUE(*sf_.NeededFor("", "alice", "", "c", /*client_requires=*/true));
}

TEST_F(SecondFactorTest, RequiredRolesAndRealmsNeedAFactorWithoutAnEnrolment) {
  SecondFactorSettings s;
  s.required_roles = {"admin", "ops"};
  s.required_realms = {"ldap-corp"};
  SecondFactor sf(store_, master_, hasher_, clock_, Random::System(), throttle_, s);
  EXPECT_TRUE(sf.RequiredFor("", "user admin"));
  EXPECT_TRUE(sf.RequiredFor("", "ops"));
  EXPECT_FALSE(sf.RequiredFor("", "user administrator"));  // whole roles only
  // Commas separate roles as HasRole reads them (admin scopes): "user,admin" holds admin.
  EXPECT_TRUE(sf.RequiredFor("", "user,admin"));
  EXPECT_TRUE(sf.RequiredFor("", ",ops,"));
  EXPECT_FALSE(sf.RequiredFor("", "user,administrator"));
  EXPECT_FALSE(sf.RequiredFor("", "  user  "));
  EXPECT_FALSE(sf.RequiredFor("", ""));
  EXPECT_TRUE(sf.RequiredFor("ldap-corp", ""));
  EXPECT_FALSE(sf.RequiredFor("ldap-other", "user"));
  EXPECT_TRUE(*sf.NeededFor("", "erin", "reader admin", "c"));
  EXPECT_FALSE(*sf.NeededFor("", "erin", "reader", "c"));
  EXPECT_TRUE(*sf.NeededFor("ldap-corp", "erin", "", "c"));
  // A directory user of a chain: enrolment realm the chain's, the listed member counts.
  EXPECT_TRUE(sf.RequiredFor("corp-or-local", "user", "ldap-corp"));
  EXPECT_FALSE(sf.RequiredFor("corp-or-local", "user", "ldap-other"));
  EXPECT_TRUE(*sf.NeededFor("corp-or-local", "erin", "", "c", false, "ldap-corp"));
  SecondFactorSettings local;
  local.required_realms = {""};
  EXPECT_TRUE(UserRequiresSecondFactor(local, "", ""));
  EXPECT_FALSE(UserRequiresSecondFactor(local, "ldap-corp", "admin"));
}

TEST_F(SecondFactorTest, WrongCodesAreThrottledPerAccount) {
  auto e = sf_.Enrol("carol");
  ASSERT_TRUE(e);
  ASSERT_TRUE(sf_.Confirm("carol", CodeNow(*e), ""));
  clock_.Advance(30);
  const std::string good = CodeNow(*e);
  const std::string wrong = good == "111111" ? "222222" : "111111";
  for (int i = 0; i < 5; ++i) {
    auto r = sf_.Verify("carol", wrong, "10.0.0." + std::to_string(i));  // from any address
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status, 400);
  }
  auto r = sf_.Verify("carol", good, "10.9.9.9");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_GT(r.error().retry_after, 0);
  clock_.Advance(60);  // one token grows back in window/limit seconds
  EXPECT_TRUE(sf_.Verify("carol", CodeNow(*e), "10.9.9.9"));
}

TEST_F(SecondFactorTest, RequiredClientsAndReEnrolment) {
  SecondFactorSettings s;
  s.required_clients = {"bank"};
  SecondFactor sf(store_, master_, hasher_, clock_, Random::System(), throttle_, s);
  EXPECT_TRUE(sf.RequiredBy("bank"));
  EXPECT_FALSE(sf.RequiredBy("bank2"));
  // A pending enrolment is replaced by a new one: the old secret cannot confirm it.
  auto first = sf.Enrol("dave");
  auto second = sf.Enrol("dave");
  ASSERT_TRUE(first && second);
  if (CodeNow(*first) != CodeNow(*second)) {
    EXPECT_FALSE(sf.Confirm("dave", CodeNow(*first), ""));
  }
  EXPECT_TRUE(sf.Confirm("dave", CodeNow(*second), ""));
}

class FixedPassword final : public UserAuthenticator {
 public:
  Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                         std::string_view password) override {
    if (password != "right") return Fail(Error::Status("ERR12016"));
    return AuthenticatedUser{std::string(user_id), "employee", "user"};
  }
  Result<AuthenticatedUser> Find(std::string_view user_id) override {
    return AuthenticatedUser{std::string(user_id), "employee", "user"};
  }
};

TEST_F(SecondFactorTest, PasswordGateRefusesOnlyActiveEnrolmentsAfterTheirPassword) {
  FixedPassword inner;
  PasswordGate gate(inner, store_);
  EXPECT_TRUE(gate.AuthenticateFrom("erin", "right", "10.0.0.1"));
  auto e = sf_.Enrol("erin");
  ASSERT_TRUE(e);
  EXPECT_TRUE(gate.Authenticate("erin", "right"));  // pending: not yet a factor
  ASSERT_TRUE(sf_.Confirm("erin", CodeNow(*e), ""));
  auto refused = gate.AuthenticateFrom("erin", "right", "10.0.0.1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().oauth_error, "invalid_grant");
  // A wrong password is the inner authenticator's answer, which says nothing about the factor.
  auto wrong = gate.Authenticate("erin", "wrong");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, "ERR12016");
  EXPECT_TRUE(gate.Find("erin"));
}

TEST_F(SecondFactorTest, PasswordGateRefusesUsersWhoseRoleRequiresAFactor) {
  FixedPassword inner;  // every user has the role "user"
  SecondFactorSettings s;
  s.required_roles = {"user"};
  PasswordGate gate(inner, store_, s);
  auto refused = gate.AuthenticateFrom("frank", "right", "10.0.0.1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().oauth_error, "invalid_grant");
  EXPECT_EQ(gate.Authenticate("frank", "wrong").error().code, "ERR12016");
  s.required_roles = {"admin"};
  EXPECT_TRUE(PasswordGate(inner, store_, s).Authenticate("frank", "right"));
  s.required_realms = {""};  // every built-in store user
  EXPECT_FALSE(PasswordGate(inner, store_, s).Authenticate("frank", "right"));
}

}  // namespace
}  // namespace portcullis::oauth
