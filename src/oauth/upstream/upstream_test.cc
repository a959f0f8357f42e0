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

TEST(UpstreamSettings, LinkByClaim) {
  auto values = Base();
  values["link_claim"] = "employee_id";
  values["link_attribute"] = "user_id";
  auto s = ParseUpstreamSettings("corp", values, {});
  ASSERT_TRUE(s) << s.error().key << ": " << s.error().message;
  EXPECT_EQ(s->link, LinkRule::kClaim);
  EXPECT_EQ(s->link_claim, "employee_id");
  EXPECT_EQ(s->link_attribute, "user_id");
  // email and none keep their meaning (and take no attribute).
  for (const auto& [claim, rule] : std::vector<std::pair<std::string, LinkRule>>{
           {"email", LinkRule::kEmail}, {"none", LinkRule::kNone}, {"", LinkRule::kNone}}) {
    values = Base();
    values["link_claim"] = claim;
    s = ParseUpstreamSettings("corp", values, {});
    ASSERT_TRUE(s) << claim;
    EXPECT_EQ(s->link, rule) << claim;
    EXPECT_EQ(s->link_claim, "") << claim;
  }
  // Each bad combination names its key.
  struct Case {
    std::map<std::string, std::string> extra;
    std::string bad;
  };
  for (const auto& c : std::vector<Case>{
           {{{"link_claim", "employee_id"}, {"link_attribute", "email"}}, "link_attribute"},
           {{{"link_claim", "employee_id"}, {"link_attribute", "User_Id"}}, "link_attribute"},
           {{{"link_claim", "employee_id"}, {"link_attribute", ""}}, "link_attribute"},
           {{{"link_claim", "email"}, {"link_attribute", "user_id"}}, "link_attribute"},
           {{{"link_claim", "none"}, {"link_attribute", "user_id"}}, "link_attribute"},
           {{{"link_attribute", "user_id"}}, "link_attribute"},
           {{{"link_claim", "employee_id"}}, "link_claim"},
           {{{"link_claim", std::string(65, 'c')}, {"link_attribute", "user_id"}}, "link_claim"},
       }) {
    values = Base();
    for (const auto& [k, v] : c.extra) values[k] = v;
    auto bad = ParseUpstreamSettings("corp", values, {});
    ASSERT_FALSE(bad) << c.bad;
    EXPECT_EQ(bad.error().key, c.bad);
  }
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
  void AddUser(std::string id, std::string email, std::string type = "customer",
               std::string roles = "local", bool locked = false) {
    User u;
    u.user_id = id;
    u.user_type = type;
    u.email = email;
    u.roles = roles;
    u.locked = locked;
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

std::map<std::string, std::string> ByClaim(bool create_users) {
  return {{"link_claim", "employee_id"},
          {"link_attribute", "user_id"},
          {"create_users", create_users ? "true" : "false"}};
}

TEST_F(MapAccountTest, LinksByClaimToTheExactUserId) {
  AddUser("alice", "alice@example.com");
  auto p = Provider(ByClaim(false));
  auto flows = Flows();
  // No case folding, no trimming, no e-mail: nothing matches, and nothing is created.
  for (const char* claims : {R"({"employee_id":"ALICE"})", R"({"employee_id":"alice "})",
                             R"({"email":"alice@example.com","email_verified":true})"}) {
    auto u = flows.MapAccount(p, Id("s10", claims));
    ASSERT_FALSE(u) << claims;
    EXPECT_NE(u.error().description.find("no account here"), std::string::npos) << claims;
  }
  auto u = flows.MapAccount(p, Id("s10", R"({"employee_id":"alice"})"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->user_id, "alice");
  EXPECT_EQ(u->roles, "local");  // a linked account keeps its own roles
  // The link stands when the claim changes upstream, or is gone.
  u = flows.MapAccount(p, Id("s10", R"({"employee_id":"bob"})"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_id, "alice");
  u = flows.MapAccount(p, Id("s10", "{}"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user_id, "alice");
  EXPECT_FALSE(*users_.Find("corp.s10"));
}

TEST_F(MapAccountTest, ClaimNeverLinksAdminLockedOrSecondFactorAccounts) {
  AddUser("root", "root@example.com", "admin");
  AddUser("ops", "ops@example.com", "employee", "user admin");
  AddUser("gone", "gone@example.com", "customer", "local", /*locked=*/true);
  AddUser("erin", "erin@example.com");
  auto p = Provider(ByClaim(true));
  auto flows = Flows();
  std::vector<std::string> probed;
  flows.SetFactorCheck([&](std::string_view user_id) -> Result<bool> {
    probed.emplace_back(user_id);
    return user_id == "erin";
  });
  struct Case {
    std::string target, refusal;
  };
  for (const auto& c : std::vector<Case>{{"root", "administrator"},
                                         {"ops", "administrator"},
                                         {"gone", "locked"},
                                         {"erin", "second factor"}}) {
    auto u = flows.MapAccount(p, Id("s-" + c.target, R"({"employee_id":")" + c.target + R"("})"));
    ASSERT_FALSE(u) << c.target;
    EXPECT_NE(u.error().description.find(c.refusal), std::string::npos)
        << c.target << ": " << u.error().description;
    // Refused: neither linked nor created.
    EXPECT_FALSE(*users_.Find("corp.s-" + c.target)) << c.target;
  }
  EXPECT_EQ(probed, (std::vector<std::string>{"root", "ops", "gone", "erin"}));
  // Once erin has no second factor the same identity links.
  flows.SetFactorCheck([](std::string_view) -> Result<bool> { return false; });
  auto u = flows.MapAccount(p, Id("s-erin", R"({"employee_id":"erin"})"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->user_id, "erin");
}

TEST_F(MapAccountTest, WithoutAUsableClaimAnAccountIsCreated) {
  AddUser("alice", "alice@example.com");
  auto p = Provider(ByClaim(true));
  auto flows = Flows();
  int i = 0;
  for (const std::string& claims : std::vector<std::string>{
           R"({})", R"({"employee_id":""})", R"({"employee_id":42})",
           R"({"employee_id":["alice"]})", R"({"employee_id":null})",
           R"({"employee_id":")" + std::string(65, 'a') + R"("})", R"({"employee_id":"nobody"})"}) {
    const std::string sub = "j" + std::to_string(i++);
    auto u = flows.MapAccount(p, Id(sub, claims));
    ASSERT_TRUE(u) << claims << ": " << u.error().description;
    EXPECT_EQ(u->user_id, "corp." + sub) << claims;
  }
}

TEST_F(MapAccountTest, AnExistingLinkWinsOverTheClaim) {
  AddUser("alice", "alice@example.com");
  auto p = Provider(ByClaim(true));
  auto flows = Flows();
  ASSERT_EQ(flows.MapAccount(p, Id("s11", "{}"))->user_id, "corp.s11");
  // alice has a second factor, but the identity is linked already: the probe does not refuse,
  // and the claim does not move the link.
  flows.SetFactorCheck([](std::string_view user_id) -> Result<bool> { return user_id == "alice"; });
  auto u = flows.MapAccount(p, Id("s11", R"({"employee_id":"alice"})"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->user_id, "corp.s11");
}

}  // namespace
}  // namespace portcullis::oauth::upstream
