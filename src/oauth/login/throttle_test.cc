#include "oauth/login/throttle.h"

#include <gtest/gtest.h>

namespace portcullis::oauth {
namespace {

TEST(LoginThrottle, LocksAfterFailuresAndUnlocksWhenTheWindowPasses) {
  ManualClock clock;
  LoginThrottle t(clock, 3, 60);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(t.Locked("user:a"));
    t.Failure("user:a");
  }
  EXPECT_TRUE(t.Locked("user:a"));
  EXPECT_FALSE(t.Locked("user:b"));
  clock.Advance(61);
  EXPECT_FALSE(t.Locked("user:a"));
}

TEST(LoginThrottle, AddressesGetAHigherLimitThanAccounts) {
  ManualClock clock;
  LoginThrottle t(clock, 3, 60, 10);
  for (int i = 0; i < 3; ++i) t.Failure("ip:10.0.0.1");
  EXPECT_FALSE(t.Locked("ip:10.0.0.1"));  // others behind the same NAT still sign in
  for (int i = 0; i < 7; ++i) t.Failure("ip:10.0.0.1");
  EXPECT_TRUE(t.Locked("ip:10.0.0.1"));
}

TEST(LoginThrottle, SuccessClears) {
  ManualClock clock;
  LoginThrottle t(clock, 2, 60);
  t.Failure("k");
  t.Success("k");
  t.Failure("k");
  EXPECT_FALSE(t.Locked("k"));
}

TEST(LoginThrottle, AcquireCountsAtOnceAndRefusesWithoutCounting) {
  ManualClock clock;
  LoginThrottle t(clock, 3, 60);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.Acquire("user:a").allowed);
  auto refused = t.Acquire("user:a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 20);  // one token per 60/3 seconds
  EXPECT_TRUE(t.Locked("user:a"));
  t.Refund("user:a");  // the attempt succeeded after all
  EXPECT_TRUE(t.Acquire("user:a").allowed);
}

TEST(LoginThrottle, AnExhaustedAddressRecoversOneAttemptAtATime) {
  ManualClock clock;
  LoginThrottle t(clock, 5, 300, 50);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(t.Acquire("ip:10.0.0.1").allowed);
  EXPECT_FALSE(t.Acquire("ip:10.0.0.1").allowed);
  EXPECT_EQ(t.RetryAfter("ip:10.0.0.1"), 6);  // not the whole window
  clock.Advance(6);
  EXPECT_TRUE(t.Acquire("ip:10.0.0.1").allowed);
  EXPECT_FALSE(t.Acquire("ip:10.0.0.1").allowed);
  EXPECT_FALSE(t.Locked("ip:10.0.0.2"));  // another address is not touched
}

TEST(LoginThrottle, AccountKeysAreScopedToTheAddress) {
  EXPECT_NE(LoginThrottle::AccountKey("alice", "10.0.0.1"),
            LoginThrottle::AccountKey("alice", "10.0.0.2"));
  EXPECT_NE(LoginThrottle::AccountKey("a|ip:x", ""), LoginThrottle::AccountKey("a", "x"));
  EXPECT_EQ(LoginThrottle::AccountKey("alice", ""), "user:5:alice");
  ManualClock clock;
  LoginThrottle t(clock, 2, 60);
  auto attacker = LoginThrottle::AccountKey("alice", "203.0.113.9");
  for (int i = 0; i < 2; ++i) t.Failure(attacker);
  EXPECT_TRUE(t.Locked(attacker));
  EXPECT_FALSE(t.Locked(LoginThrottle::AccountKey("alice", "198.51.100.7")));
}

TEST(LoginThrottle, Ipv6AddressesShareTheirSlash64) {
  EXPECT_EQ(LoginThrottle::IpKey("2001:db8:1:2:aaaa::1"),
            LoginThrottle::IpKey("2001:db8:1:2::ffff"));
  EXPECT_NE(LoginThrottle::IpKey("2001:db8:1:2::1"), LoginThrottle::IpKey("2001:db8:1:3::1"));
  EXPECT_EQ(LoginThrottle::IpKey("192.0.2.1"), "ip:192.0.2.1");
  EXPECT_EQ(LoginThrottle::IpKey(""), "");
}

}  // namespace
}  // namespace portcullis::oauth
