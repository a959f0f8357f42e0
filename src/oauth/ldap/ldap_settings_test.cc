#include "oauth/ldap/ldap_settings.h"

#include <gtest/gtest.h>

namespace portcullis::oauth::ldap {
namespace {

using Values = std::map<std::string, std::string>;
using Tables = std::map<std::string, std::map<std::string, std::string>>;

Values Minimal() {
  return {{"type", "ldap"},
          {"url", "ldaps://ldap.example.org:636"},
          {"user_dn_template", "uid={user},ou=people,dc=example,dc=org"}};
}

std::string BadKey(const Values& v, const Tables& t = {}) {
  auto s = ParseLdapSettings("corp", v, t);
  return s ? std::string("(accepted)") : s.error().key;
}

TEST(LdapSettingsTest, MinimalSettingsHaveSafeDefaults) {
  auto s = ParseLdapSettings("corp", Minimal(), {});
  ASSERT_TRUE(s) << s.error().key << ": " << s.error().message;
  EXPECT_EQ(s->name, "corp");
  EXPECT_FALSE(s->start_tls);
  EXPECT_FALSE(s->allow_plaintext);
  EXPECT_EQ(s->user_attribute, "uid");
  EXPECT_EQ(s->pool_size, 4);
  EXPECT_EQ(s->connect_timeout_ms, 3000);
  EXPECT_EQ(s->operation_timeout_ms, 5000);
  EXPECT_EQ(s->aliases, LightOauth2LdapClassNames());
}

TEST(LdapSettingsTest, FullSettings) {
  Values v = {{"type", "ldap"},
              {"url", "ldap://a:389 ldap://b:389"},
              {"start_tls", "true"},
              {"ca_file", "/etc/ca.pem"},
              {"user_base", "ou=people,dc=example,dc=org"},
              {"user_filter", "(&(objectClass=person)(sAMAccountName={user}))"},
              {"bind_dn", "cn=svc,dc=example,dc=org"},
              {"bind_password", "s3cret"},
              {"user_attribute", "sAMAccountName"},
              {"group_base", "ou=groups,dc=example,dc=org"},
              {"member_of_attribute", "memberOf"},
              {"connect_timeout_ms", "1500"},
              {"operation_timeout_ms", "2500"},
              {"pool_size", "2"},
              {"aliases", "corp-ad, legacy"}};
  Tables t = {{"roles", {{"Admins", "admin"}, {"CN=Ops, OU=Groups,DC=Example,DC=org", "ops dev"}}}};
  auto s = ParseLdapSettings("ad", v, t);
  ASSERT_TRUE(s) << s.error().key << ": " << s.error().message;
  EXPECT_TRUE(s->start_tls);
  EXPECT_EQ(s->bind_password.Reveal(), "s3cret");
  EXPECT_EQ(s->pool_size, 2);
  EXPECT_EQ(s->connect_timeout_ms, 1500);
  EXPECT_EQ(s->aliases, (std::vector<std::string>{"corp-ad", "legacy"}));
  // Group names are matched without case, DNs in normal form.
  EXPECT_EQ(s->roles.at("admins"), "admin");
  EXPECT_EQ(s->roles.at("cn=ops,ou=groups,dc=example,dc=org"), "ops dev");
}

TEST(LdapSettingsTest, ErrorsNameTheKey) {
  auto with = [](std::string key, std::string value) {
    Values v = Minimal();
    v[key] = value;
    return v;
  };
  EXPECT_EQ(BadKey(with("bogus", "1")), "bogus");
  EXPECT_EQ(BadKey(with("url", "")), "url");
  EXPECT_EQ(BadKey(with("url", "http://x")), "url");
  // Clear text only when asked for.
  EXPECT_EQ(BadKey(with("url", "ldap://x:389")), "url");
  EXPECT_EQ(BadKey(with("start_tls", "maybe")), "start_tls");
  {
    Values v = with("start_tls", "true");  // with ldaps://
    EXPECT_EQ(BadKey(v), "start_tls");
  }
  EXPECT_EQ(BadKey(with("user_dn_template", "uid=x,dc=y")), "user_dn_template");
  EXPECT_EQ(BadKey(with("user_base", "dc=y")), "user_dn_template");  // both set
  EXPECT_EQ(BadKey(with("pool_size", "0")), "pool_size");
  EXPECT_EQ(BadKey(with("connect_timeout_ms", "fast")), "connect_timeout_ms");
  EXPECT_EQ(BadKey(with("operation_timeout_ms", "99")), "operation_timeout_ms");
  EXPECT_EQ(BadKey(with("bind_dn", "cn=svc")), "bind_password");
  EXPECT_EQ(BadKey(with("bind_password", "x")), "bind_dn");
  {
    Values v = Minimal();
    v.erase("user_dn_template");
    EXPECT_EQ(BadKey(v), "user_dn_template");  // neither set
    v["user_base"] = "dc=y";
    v["user_filter"] = "(uid=alice)";
    EXPECT_EQ(BadKey(v), "user_filter");
    v["user_filter"] = "(uid={user}";
    EXPECT_EQ(BadKey(v), "user_filter");
  }
  EXPECT_EQ(BadKey(Minimal(), {{"roles", {{"admins", "admin"}}}}), "roles");  // no group source
  EXPECT_EQ(BadKey(with("group_base", "dc=y"), {{"roles", {{"admins", " "}}}}), "roles");
  EXPECT_EQ(BadKey(Minimal(), {{"colors", {{"a", "b"}}}}), "colors");
  {
    Values v = with("url", "ldap://x:389");
    v["allow_plaintext"] = "true";
    EXPECT_EQ(BadKey(v), "(accepted)");
  }
}

TEST(LdapSettingsTest, SecretKeys) {
  EXPECT_TRUE(IsSecretLdapKey("bind_password"));
  EXPECT_FALSE(IsSecretLdapKey("bind_dn"));
}

}  // namespace
}  // namespace portcullis::oauth::ldap
