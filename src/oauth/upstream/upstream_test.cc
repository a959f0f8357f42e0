// Settings, role mapping, user ids and the account rules (UpstreamFlows::MapAccount) over the
// in-memory stores. The flow over HTTP is covered black-box (tests/integration/test_upstream.py,
// tests/browser/upstream.test.mjs).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/random.h"
#include "oauth/upstream/memory_upstream_store.h"
#include "oauth/upstream/upstream_flows.h"
#include "oauth/user/memory_user_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth::upstream {
namespace {

std::map<std::string, std::string> Base() {
  return {{"type", "oidc"},
          {"issuer", "https://idp.example.com"},
          {"client_id", "portcullis"},
          {"client_secret", "s3cret"}};
}

TEST(UpstreamSettings, Defaults) {
  auto s = ParseUpstreamSettings("corp", Base(), {});
  ASSERT_TRUE(s) << s.error().key << ": " << s.error().message;
  EXPECT_EQ(s->display_name, "corp");
  EXPECT_EQ(s->user_id_prefix, "corp.");
  EXPECT_EQ(s->user_type, "customer");
  EXPECT_EQ(s->link, LinkRule::kNone);
  EXPECT_TRUE(s->create_users);
  EXPECT_EQ(s->scopes, (std::vector<std::string>{"openid", "email", "profile"}));
  EXPECT_EQ(s->client_secret.Reveal(), "s3cret");
}

TEST(UpstreamSettings, NamesTheBadKey) {
  struct Case {
    std::string key, value, bad;
  };
  for (const auto& c : std::vector<Case>{
           {"issuer", "http://idp.example.com", "issuer"},
           {"issuer", "https://idp.example.com/?x=1", "issuer"},
           {"issuer", "", "issuer"},
           {"client_id", "", "client_id"},
           {"client_secret", "", "client_secret"},
           {"algorithms", "HS256", "algorithms"},
           {"algorithms", "none", "algorithms"},
           {"user_type", "admin", "user_type"},
           {"link_claim", "preferred_username", "link_claim"},
           {"clock_skew_s", "3600", "clock_skew_s"},
           {"create_users", "maybe", "create_users"},
           {"colour", "blue", "colour"},
       }) {
    auto values = Base();
    values[c.key] = c.value;
    auto s = ParseUpstreamSettings("corp", values, {});
    ASSERT_FALSE(s) << c.key << "=" << c.value;
    EXPECT_EQ(s.error().key, c.bad) << c.key << "=" << c.value;
  }
  auto values = Base();
  values.erase("issuer");
  EXPECT_EQ(ParseUpstreamSettings("corp", values, {}).error().key, "issuer");
  // roles without roles_claim
  EXPECT_EQ(ParseUpstreamSettings("corp", Base(), {{"roles", {{"a", "b"}}}}).error().key, "roles");
}

TEST(UpstreamSettings, LoopbackHttpOnlyWhenAllowed) {
  auto values = Base();
  values["issuer"] = "http://127.0.0.1:9000";
  EXPECT_FALSE(ParseUpstreamSettings("corp", values, {}));
  values["allow_http_loopback"] = "true";
  EXPECT_TRUE(ParseUpstreamSettings("corp", values, {}));
  values["issuer"] = "http://idp.example.com";
  EXPECT_FALSE(ParseUpstreamSettings("corp", values, {}));
  values = Base();
  values["scopes"] = "email, groups";
  EXPECT_EQ(ParseUpstreamSettings("corp", values, {})->scopes,
            (std::vector<std::string>{"openid", "email", "groups"}));
}

TEST(UpstreamRoles, TableAndDefaults) {
  auto values = Base();
  values["roles_claim"] = "groups";
  values["default_roles"] = "user";
  auto s =
      ParseUpstreamSettings("corp", values, {{"roles", {{"eng", "dev user"}, {"ops", "ops"}}}});
  ASSERT_TRUE(s);
  auto claims = boost::json::parse(R"({"groups":["eng","ops","admins"]})").as_object();
  EXPECT_EQ(RolesFor(*s, claims), "user dev ops");
  claims = boost::json::parse(R"({"groups":"ops"})").as_object();
  EXPECT_EQ(RolesFor(*s, claims), "user ops");
  claims = boost::json::parse(R"({"groups":42})").as_object();
  EXPECT_EQ(RolesFor(*s, claims), "user");
}

TEST(UpstreamUserId, PlainSubOrHash) {
  auto s = *ParseUpstreamSettings("corp", Base(), {});
  EXPECT_EQ(NewUserId(s, "248289761001"), "corp.248289761001");
  std::string odd = NewUserId(s, "a b/c");
  EXPECT_TRUE(odd.starts_with("corp."));
  EXPECT_EQ(odd.size(), 5u + 22u);
  EXPECT_NE(odd, NewUserId(s, "a b/d"));
  EXPECT_LE(NewUserId(s, std::string(100, 'x')).size(), 64u);
}

class MapAccountTest : public ::testing::Test {
 protected:
  MapAccountTest() : clock_(1000) {}
  UpstreamFlows Flows() {
    return UpstreamFlows(links_, db_, users_, clock_, Random::System(), "https://as/cb");
  }
  void AddUser(std::string id, std::string email, std::string type = "customer") {
    User u;
    u.user_id = id;
    u.user_type = type;
    u.email = email;
    u.roles = "local";
    u.password_hash = "h";
    ASSERT_TRUE(db_.Transact("t", [&](store::Tx& tx) { return users_.Insert(tx, u); }));
    links_.SetEmail(id, email);
  }
  OidcProvider Provider(std::map<std::string, std::string> extra) {
    auto values = Base();
    for (auto& [k, v] : extra) values[k] = v;
    std::map<std::string, std::map<std::string, std::string>> tables;
    if (values.contains("roles_claim")) tables["roles"] = {{"eng", "dev"}};
    auto s = ParseUpstreamSettings("corp", values, tables);
    EXPECT_TRUE(s);
    return OidcProvider(std::move(*s), clock_);
  }
  static UpstreamIdentity Id(std::string sub, std::string claims) {
    return UpstreamIdentity{std::move(sub), boost::json::parse(claims).as_object()};
  }
  ManualClock clock_;
  store::FakeDatabase db_;
  MemoryUserStore users_;
  MemoryUpstreamStore links_;
};

TEST_F(MapAccountTest, CreatesJustInTimeThenReusesTheLink) {
  auto p = Provider({{"roles_claim", "groups"}});
  auto flows = Flows();
  auto u = flows.MapAccount(
      p, Id("s1", R"({"email":"new@example.com","email_verified":true,"groups":["eng"]})"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->user_id, "corp.s1");
  EXPECT_EQ(u->user_type, "customer");
  EXPECT_EQ(u->roles, "dev");
  auto stored = users_.Find("corp.s1");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->email, "new@example.com");
  EXPECT_TRUE((*stored)->email_verified);
  EXPECT_FALSE((*stored)->password_hash.starts_with("$"));
  // Again, with other groups: the same user, roles from the table again.
  u = flows.MapAccount(p, Id("s1", R"({"groups":[]})"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_id, "corp.s1");
  EXPECT_EQ(u->roles, "");
}

TEST_F(MapAccountTest, UnverifiedOrTakenEmailGetsAPlaceholder) {
  AddUser("alice", "alice@example.com");
  auto p = Provider({});
  auto flows = Flows();
  auto u = flows.MapAccount(p, Id("s2", R"({"email":"alice@example.com","email_verified":true})"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_id, "corp.s2");  // no linking without link_claim
  auto stored = users_.Find("corp.s2");
  EXPECT_TRUE((*stored)->email.ends_with("@upstream.invalid"));
  EXPECT_FALSE((*stored)->email_verified);
}

TEST_F(MapAccountTest, LinksByVerifiedEmailOnly) {
  AddUser("alice", "alice@example.com");
  auto p = Provider({{"link_claim", "email"}, {"create_users", "false"}});
  auto flows = Flows();
  // Unverified (missing, false, or the string "true"): not linked, and nothing is created.
  for (const char* claims : {R"({"email":"alice@example.com"})",
                             R"({"email":"alice@example.com","email_verified":false})",
                             R"({"email":"alice@example.com","email_verified":"true"})"}) {
    auto u = flows.MapAccount(p, Id("s3", claims));
    ASSERT_FALSE(u) << claims;
    EXPECT_EQ(u.error().oauth_error, "access_denied");
  }
  auto u = flows.MapAccount(p, Id("s3", R"({"email":"ALICE@example.com","email_verified":true})"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->user_id, "alice");
  EXPECT_EQ(u->roles, "local");  // a linked account keeps its own roles
  // The link stands even when the e-mail changes upstream.
  u = flows.MapAccount(p, Id("s3", R"({"email":"other@example.com","email_verified":true})"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_id, "alice");
}

TEST_F(MapAccountTest, NeverLinksAnAdminOrTakesOverAnId) {
  AddUser("root", "root@example.com", "admin");
  AddUser("corp.s5", "squatter@example.com");
  auto p = Provider({{"link_claim", "email"}});
  auto flows = Flows();
  auto u = flows.MapAccount(p, Id("s4", R"({"email":"root@example.com","email_verified":true})"));
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().description.find("administrator"), std::string::npos);
  u = flows.MapAccount(p, Id("s5", R"({})"));
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().description.find("exists already"), std::string::npos);
}

TEST_F(MapAccountTest, LockedAccountIsRefused) {
  auto p = Provider({});
  auto flows = Flows();
  ASSERT_TRUE(flows.MapAccount(p, Id("s6", "{}")));
  auto stored = *users_.Find("corp.s6");
  stored->locked = true;
  ASSERT_TRUE(db_.Transact("t", [&](store::Tx& tx) { return users_.Update(tx, *stored); }));
  auto u = flows.MapAccount(p, Id("s6", "{}"));
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().description.find("locked"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::oauth::upstream
