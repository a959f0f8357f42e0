#include "oauth/ldap/ldap_escape.h"

#include <gtest/gtest.h>

namespace portcullis::oauth::ldap {
namespace {

TEST(LdapEscapeTest, FilterValuesCannotChangeTheFilter) {
  EXPECT_EQ(EscapeFilterValue("alice"), "alice");
  // The classic injection: closes the assertion and adds one that matches everybody.
  EXPECT_EQ(EscapeFilterValue("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
  EXPECT_EQ(EscapeFilterValue("a\\b"), "a\\5cb");
  EXPECT_EQ(EscapeFilterValue(std::string("a\0b", 3)), "a\\00b");
  EXPECT_EQ(EscapeFilterValue("*"), "\\2a");
  // UTF-8 passes as it is (RFC 4515 allows it unescaped).
  EXPECT_EQ(EscapeFilterValue("j\xc3\xb6rg"), "j\xc3\xb6rg");
  // Whatever goes in, the result has no unescaped special character left.
  std::string nasty = "()*\\\x00|&!=<>~";
  std::string out = EscapeFilterValue(std::string(nasty.data(), nasty.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\\') {
      i += 2;
      continue;
    }
    EXPECT_TRUE(out[i] != '(' && out[i] != ')' && out[i] != '*' && out[i] != '\0') << out;
  }
}

TEST(LdapEscapeTest, DnValuesCannotAddComponents) {
  EXPECT_EQ(EscapeDnValue("alice"), "alice");
  EXPECT_EQ(EscapeDnValue("alice,ou=admins"), "alice\\,ou\\=admins");
  EXPECT_EQ(EscapeDnValue("a+b"), "a\\+b");
  EXPECT_EQ(EscapeDnValue("\"q\";<x>\\"), "\\\"q\\\"\\;\\<x\\>\\\\");
  EXPECT_EQ(EscapeDnValue("#hash"), "\\#hash");
  EXPECT_EQ(EscapeDnValue("in#side"), "in#side");
  EXPECT_EQ(EscapeDnValue(" lead"), "\\ lead");
  EXPECT_EQ(EscapeDnValue("trail "), "trail\\ ");
  EXPECT_EQ(EscapeDnValue(" "), "\\ ");
  EXPECT_EQ(EscapeDnValue(std::string("a\0b", 3)), "a\\00b");
}

TEST(LdapEscapeTest, TemplatesReplaceOnlyKnownNames) {
  EXPECT_EQ(FillTemplate("uid={user},ou=people", {{"user", "alice"}}), "uid=alice,ou=people");
  EXPECT_EQ(
      FillTemplate("(|(member={dn})(memberUid={user}))", {{"dn", "uid=a,dc=x"}, {"user", "a"}}),
      "(|(member=uid=a,dc=x)(memberUid=a))");
  EXPECT_EQ(FillTemplate("{other} {user", {{"user", "x"}}), "{other} {user");
  // A value that itself looks like a placeholder is not expanded again.
  EXPECT_EQ(FillTemplate("{user}{dn}", {{"user", "{dn}"}, {"dn", "D"}}), "{dn}D");
}

TEST(LdapEscapeTest, DnHelpers) {
  EXPECT_EQ(FirstRdnValue("cn=admins,ou=groups,dc=example,dc=org"), "admins");
  EXPECT_EQ(FirstRdnValue("CN=Domain Admins,CN=Users,DC=corp"), "Domain Admins");
  EXPECT_EQ(FirstRdnValue("cn=a\\,b,dc=x"), "a,b");
  EXPECT_EQ(FirstRdnValue("cn=a\\2cb,dc=x"), "a,b");
  EXPECT_EQ(FirstRdnValue("nodn"), "");
  EXPECT_EQ(NormalizeDn("CN=Admins, OU=Groups,DC=Example , DC=org"),
            "cn=admins,ou=groups,dc=example,dc=org");
  EXPECT_EQ(NormalizeDn("cn = a\\, B"), "cn=a\\, b");
}

}  // namespace
}  // namespace portcullis::oauth::ldap
