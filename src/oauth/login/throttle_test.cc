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

}  // namespace
}  // namespace portcullis::oauth
