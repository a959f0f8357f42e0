// User codes (RFC 8628 §6.1) and the verification page's lookup with its guessing throttle
// (RFC 8628 §5.1), over the in-memory store and a ManualClock.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/clock.h"
#include "oauth/device/device_verification.h"
#include "oauth/device/memory_device_store.h"
#include "oauth/device/user_code.h"

namespace portcullis::oauth {
namespace {

TEST(UserCodeTest, NewCodesUseTheAlphabetUniformly) {
  std::map<char, int> counts;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string c = NewUserCode(Random::System());
    ASSERT_EQ(c.size(), kUserCodeLength);
    for (char ch : c) {
      ASSERT_NE(kUserCodeAlphabet.find(ch), std::string_view::npos) << c;
      ++counts[ch];
    }
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 2000u);  // 20^8 codes: a repeat here would mean a broken source
  EXPECT_EQ(counts.size(), kUserCodeAlphabet.size());
  // 16000 letters, 800 expected each; rejection sampling keeps them within a few percent.
  for (const auto& [ch, n] : counts) {
    EXPECT_GT(n, 650) << ch;
    EXPECT_LT(n, 950) << ch;
  }
}

// Every byte value is 0 mod 20 with bias unless values >= 240 are dropped.
class ConstantRandom final : public Random {
 public:
  explicit ConstantRandom(std::vector<unsigned char> seq) : seq_(std::move(seq)) {}
  void Fill(void* out, size_t n) override {
    auto* p = static_cast<unsigned char*>(out);
    for (size_t i = 0; i < n; ++i) p[i] = seq_[next_++ % seq_.size()];
  }

 private:
  std::vector<unsigned char> seq_;
  size_t next_ = 0;
};

TEST(UserCodeTest, BytesAbove239AreRejected) {
  ConstantRandom r({255, 240, 0, 19, 239, 20});
  // 0 -> B, 19 -> Z, 239 -> 239 % 20 = 19 -> Z, 20 -> B
  EXPECT_EQ(NewUserCode(r), "BZZBBZZB");
}

TEST(UserCodeTest, NormalisationIgnoresCaseDashesAndSpaces) {
  EXPECT_EQ(NormalizeUserCode("BCDF-GHJK").value_or(""), "BCDFGHJK");
  EXPECT_EQ(NormalizeUserCode("bcdf-ghjk").value_or(""), "BCDFGHJK");
  EXPECT_EQ(NormalizeUserCode(" bcdf ghjk\n").value_or(""), "BCDFGHJK");
  EXPECT_EQ(NormalizeUserCode("B-C-D-F-G-H-J-K").value_or(""), "BCDFGHJK");
  EXPECT_FALSE(NormalizeUserCode("BCDF-GHJ"));    // short
  EXPECT_FALSE(NormalizeUserCode("BCDF-GHJKL"));  // long
  EXPECT_FALSE(NormalizeUserCode("BCDF-GHJA"));   // vowel
  EXPECT_FALSE(NormalizeUserCode("BCDF-GHJ1"));   // digit
  EXPECT_FALSE(NormalizeUserCode("BCDF_GHJK"));   // other separator
  EXPECT_FALSE(NormalizeUserCode(""));
  EXPECT_FALSE(NormalizeUserCode(std::string(65, '-') + "BCDFGHJK"));
  EXPECT_EQ(FormatUserCode("BCDFGHJK"), "BCDF-GHJK");
}

TEST(UserCodeTest, TheHashIsKeyed) {
  UserCodeHasher a(Secret(std::string(32, 'a'))), b(Secret(std::string(32, 'b')));
  EXPECT_EQ(a.Hash("BCDFGHJK"), a.Hash("BCDFGHJK"));
  EXPECT_NE(a.Hash("BCDFGHJK"), b.Hash("BCDFGHJK"));
  EXPECT_NE(a.Hash("BCDFGHJK"), a.Hash("BCDFGHJL"));
}

class VerificationTest : public ::testing::Test {
 protected:
  VerificationTest()
      : hasher_(Secret(std::string(32, 'k'))),
        // 3 wrong codes per address, 5 overall, growing back over 300 s.
        guesses_(clock_, /*max_failures=*/5, /*window_seconds=*/300, /*max_ip_failures=*/3),
        verify_(store_, hasher_, clock_, guesses_) {}

  void Add(std::string_view code, int64_t ttl = 600) {
    DeviceGrant g;
    g.device_code_hash = "d-" + std::string(code);
    g.user_code_hash = hasher_.Hash(code);
    g.client_id = "tv";
    g.scope = "read";
    g.created_at = clock_.Now();
    g.expires_at = clock_.Now() + ttl;
    ASSERT_TRUE(*store_.Insert(g));
  }

  static int Status(const Result<DeviceGrant>& r) { return r ? 200 : r.error().http_status; }

  ManualClock clock_;
  MemoryDeviceGrantStore store_;
  UserCodeHasher hasher_;
  LoginThrottle guesses_;
  DeviceVerification verify_;
};

TEST_F(VerificationTest, FindsPendingCodesAsTheUserTypesThem) {
  Add("BCDFGHJK");
  auto g = verify_.Find("bcdf ghjk", "198.51.100.7");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->client_id, "tv");
  // Right codes cost nothing: far more than the budget still pass.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(verify_.Find("BCDF-GHJK", "198.51.100.7")), 200);
}

TEST_F(VerificationTest, ExpiredAndDecidedCodesAreRefusedLikeUnknownOnes) {
  Add("BCDFGHJK", 10);
  Add("LMNPQRST");
  ASSERT_TRUE(*verify_.Decide(*verify_.Find("LMNPQRST", "1.1.1.1"), false, {}));
  EXPECT_EQ(verify_.Find("LMNPQRST", "1.1.1.1").error().oauth_error, "invalid_grant");
  clock_.Advance(10);
  EXPECT_EQ(verify_.Find("BCDFGHJK", "1.1.1.2").error().oauth_error, "invalid_grant");
  EXPECT_EQ(verify_.Find("BCDFGHJZ", "1.1.1.2").error().oauth_error, "invalid_grant");
  EXPECT_EQ(verify_.Find("nonsense", "1.1.1.2").error().oauth_error, "invalid_request");
}

TEST_F(VerificationTest, WrongCodesAreThrottledPerAddressAndOverall) {
  Add("BCDFGHJK");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Status(verify_.Find("ZZZZZZZZ", "203.0.113.1")), 400);
  // The address is out of guesses: 429 even for the right code (a 429 reveals nothing).
  auto r = verify_.Find("BCDFGHJK", "203.0.113.1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_GT(r.error().retry_after, 0);
  // Malformed input is not a guess and is answered without the throttle.
  EXPECT_EQ(Status(verify_.Find("nope", "203.0.113.1")), 400);
  // Another address still may; two more wrong ones empty the global bucket (5).
  EXPECT_EQ(Status(verify_.Find("ZZZZZZZZ", "203.0.113.2")), 400);
  EXPECT_EQ(Status(verify_.Find("ZZZZZZZZ", "203.0.113.3")), 400);
  EXPECT_EQ(Status(verify_.Find("BCDFGHJK", "203.0.113.4")), 429);
  // Tokens grow back with time (300 s / 5 per token overall, 100 s per token per address).
  clock_.Advance(100);
  EXPECT_EQ(Status(verify_.Find("BCDFGHJK", "203.0.113.1")), 200);
}

TEST_F(VerificationTest, DecideHasOneWinner) {
  Add("BCDFGHJK");
  auto g = verify_.Find("BCDFGHJK", "1.1.1.1");
  ASSERT_TRUE(g);
  EXPECT_TRUE(*verify_.Decide(*g, true, DeviceApproval{"alice"}));
  EXPECT_FALSE(*verify_.Decide(*g, false, {}));
  EXPECT_EQ(Status(verify_.Find("BCDFGHJK", "1.1.1.1")), 400);
}

}  // namespace
}  // namespace portcullis::oauth
