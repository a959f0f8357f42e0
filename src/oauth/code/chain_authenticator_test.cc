#include "oauth/code/chain_authenticator.h"

#include <gtest/gtest.h>

#include <map>

namespace portcullis::oauth {
namespace {

// A member with fixed users, or one that is down or throttling; counts its calls.
class FakeMember final : public LoginAuthenticator {
 public:
  enum class Mode { kUp, kDown, kThrottled };
  FakeMember(std::map<std::string, std::string> users, Mode mode = Mode::kUp)
      : users_(std::move(users)), mode_(mode) {}
  Result<AuthenticatedUser> Login(std::string_view user, std::string_view password,
                                  std::string_view) override {
    ++logins;
    if (mode_ == Mode::kDown) return Fail(Error::Unavailable("down"));
    if (mode_ == Mode::kThrottled) return Fail(Error::OAuth(429, "slow_down", "wait"));
    auto it = users_.find(std::string(user));
    if (it == users_.end() || it->second != password) return Fail(Error::Status("ERR12016"));
    return AuthenticatedUser{it->first, "employee", "r-" + it->first};
  }
  Result<AuthenticatedUser> Find(std::string_view user) override {
    if (mode_ == Mode::kDown) return Fail(Error::Unavailable("down"));
    if (!users_.contains(std::string(user))) return Fail(Error::Status("ERR12013"));
    return AuthenticatedUser{std::string(user), "employee", "r-" + std::string(user)};
  }
  int logins = 0;

 private:
  std::map<std::string, std::string> users_;
  Mode mode_;
};

TEST(ChainAuthenticatorTest, FirstMemberThatAcceptsWins) {
  auto a = std::make_shared<FakeMember>(std::map<std::string, std::string>{{"alice", "pa"}});
  auto b = std::make_shared<FakeMember>(
      std::map<std::string, std::string>{{"bob", "pb"}, {"alice", "other"}});
  ChainAuthenticator chain({{"a", a}, {"b", b}});
  EXPECT_EQ(chain.Login("alice", "pa", "")->user_id, "alice");
  EXPECT_EQ(b->logins, 0);
  EXPECT_EQ(chain.Login("bob", "pb", "")->roles, "r-bob");
  // alice's password at b also works: members share one namespace (documented).
  EXPECT_TRUE(chain.Login("alice", "other", ""));
  auto bad = chain.Login("carol", "x", "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "ERR12016");
  EXPECT_EQ(chain.Find("bob")->user_id, "bob");
  EXPECT_EQ(chain.Find("nobody").error().code, "ERR12013");
}

TEST(ChainAuthenticatorTest, AMemberDownIsNeverAWrongPassword) {
  auto down =
      std::make_shared<FakeMember>(std::map<std::string, std::string>{}, FakeMember::Mode::kDown);
  auto local = std::make_shared<FakeMember>(std::map<std::string, std::string>{{"dave", "pd"}});
  ChainAuthenticator chain({{"ldap", down}, {"default", local}});
  EXPECT_TRUE(chain.Login("dave", "pd", ""));
  auto r = chain.Login("alice", "pa", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 503);
  // Find cannot tell whose "dave" it is while the first member is down.
  EXPECT_EQ(chain.Find("dave").error().http_status, 503);
}

TEST(ChainAuthenticatorTest, ThrottledEndsTheAttempt) {
  auto slow = std::make_shared<FakeMember>(std::map<std::string, std::string>{},
                                           FakeMember::Mode::kThrottled);
  auto local = std::make_shared<FakeMember>(std::map<std::string, std::string>{{"dave", "pd"}});
  ChainAuthenticator chain({{"a", slow}, {"b", local}});
  auto r = chain.Login("dave", "pd", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_EQ(local->logins, 0);
}

}  // namespace
}  // namespace portcullis::oauth
