#include "oauth/login/spnego.h"

#include <gtest/gtest.h>

namespace portcullis::oauth {
namespace {

TEST(SpnegoPrincipal, RealmIsAfterTheLastUnescapedAt) {
  EXPECT_EQ(PrincipalRealm("alice@EXAMPLE.TEST"), "EXAMPLE.TEST");
  EXPECT_EQ(PrincipalRealm("HTTP/host@EXAMPLE.TEST"), "EXAMPLE.TEST");
  EXPECT_EQ(PrincipalRealm("a\\@b@R"), "R");
  EXPECT_EQ(PrincipalRealm("a\\@b"), "");
  EXPECT_EQ(PrincipalRealm("alice"), "");
}

TEST(SpnegoPrincipal, OnlyTheHomeRealmIsStripped) {
  std::vector<std::string> realms{"EXAMPLE.TEST", "CORP.TEST"};
  EXPECT_EQ(MapPrincipal("alice@EXAMPLE.TEST", realms, true, "EXAMPLE.TEST").value(), "alice");
  // Another allowed realm keeps its name: alice@CORP.TEST is not the local alice.
  EXPECT_EQ(MapPrincipal("alice@CORP.TEST", realms, true, "EXAMPLE.TEST").value(),
            "alice@CORP.TEST");
  EXPECT_EQ(MapPrincipal("bob@CORP.TEST", realms, false, "EXAMPLE.TEST").value(), "bob@CORP.TEST");
  EXPECT_EQ(MapPrincipal("alice@EXAMPLE.TEST", realms, false, "EXAMPLE.TEST").value(),
            "alice@EXAMPLE.TEST");
  EXPECT_EQ(MapPrincipal("alice/admin@EXAMPLE.TEST", realms, true, "EXAMPLE.TEST").value(),
            "alice/admin");
}

TEST(SpnegoPrincipal, ForeignRealmIsRefused) {
  std::vector<std::string> realms{"EXAMPLE.TEST"};
  for (const char* p : {"alice@EVIL.TEST", "alice@example.test", "alice", "alice@",
                        "alice@EXAMPLE.TEST.EVIL", "@EXAMPLE.TEST"}) {
    auto r = MapPrincipal(p, realms, true, "EXAMPLE.TEST");
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.error().http_status, 401) << p;
    EXPECT_EQ(r.error().oauth_error, "login_required") << p;
  }
}

TEST(SpnegoAcceptor, MissingKeytabNamesTheKey) {
  auto a = SpnegoAcceptor::Open({"/nonexistent/http.keytab", "HTTP/localhost@EXAMPLE.TEST"});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().detail.find("spnego.keytab"), std::string::npos) << a.error().detail;
  EXPECT_NE(a.error().detail.find("/nonexistent/http.keytab"), std::string::npos);
}

TEST(SpnegoAcceptor, ServicePrincipalMustNameHostAndRealm) {
  // /dev/null is readable, so the principal is what fails.
  for (const char* p : {"", "HTTP/localhost", "alice@EXAMPLE.TEST"}) {
    auto a = SpnegoAcceptor::Open({"/dev/null", p});
    ASSERT_FALSE(a) << p;
    EXPECT_NE(a.error().detail.find("spnego.service_principal"), std::string::npos)
        << a.error().detail;
  }
}

TEST(SpnegoAcceptor, KeytabWithoutTheKeyIsAStartUpError) {
  auto a = SpnegoAcceptor::Open({"/dev/null", "HTTP/localhost@EXAMPLE.TEST"});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().detail.find("spnego.keytab"), std::string::npos) << a.error().detail;
}

}  // namespace
}  // namespace portcullis::oauth
