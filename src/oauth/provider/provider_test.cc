// ProviderService over fake stores (MemoryProviderStore, MemoryAuditLog, FakeDatabase); the SQL
// store's contract is tested in store/sql/provider_store_test.cc.
#include "oauth/provider/provider.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/provider/memory_provider_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

class ProviderTest : public ::testing::Test {
 protected:
  store::FakeDatabase db_;
  MemoryProviderStore store_;
  audit::MemoryAuditLog audit_;
  ManualClock clock_;
  ProviderService providers_{db_, store_, audit_, clock_};
};

// Reference §16.8.
TEST_F(ProviderTest, LightOauth2Scenarios) {
  ProviderPatch p;
  p.provider_id = "05";
  // light-oauth2's fixture uses http://google.ca/light-4j:8080; peers are https only here.
  p.server_url = "https://google.ca/light-4j:8080";
  p.uri = "/oauth/key";
  p.provider_name = "cloud light-4j";
  auto created = providers_.Create(p, "t");
  ASSERT_TRUE(created) << created.error().description;
  EXPECT_EQ(providers_.Create(p, "t").error().code, "ERR12048");
  auto list = providers_.List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].provider_name, "cloud light-4j");

  ProviderPatch change;
  change.provider_id = "05";
  change.server_url = "https://light-4j.example.com";
  auto updated = providers_.Update(change, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->server_url, "https://light-4j.example.com");
  EXPECT_EQ(updated->uri, "/oauth/key");
  change.provider_id = "06";
  auto unknown = providers_.Update(change, "t");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "ERR12049");
  EXPECT_EQ(unknown.error().http_status, 400);

  auto st = providers_.Delete("11111", "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12047");
  EXPECT_EQ(st.error().http_status, 400);
  EXPECT_EQ(providers_.Get("05")->uri, "/oauth/key");
  ASSERT_TRUE(providers_.Delete("05", "t"));
  EXPECT_EQ(providers_.Get("05").error().code, "ERR12047");

  auto entries = audit_.List({.entity_kind = "provider"});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->total, 3);
  EXPECT_EQ(entries->entries[0].action, "provider.delete");
  EXPECT_EQ(entries->entries[1].action, "provider.update");
  EXPECT_NE(entries->entries[1].before_json.find("google.ca"), std::string::npos);
  EXPECT_NE(entries->entries[1].after_json.find("light-4j.example.com"), std::string::npos);
  EXPECT_EQ(entries->entries[2].action, "provider.create");
  // Each committed write announced itself.
  std::vector<std::pair<std::string, std::string>> expected(3, {"provider", "05"});
  EXPECT_EQ(db_.notified(), expected);
}

// Peer certificates are fetched from serverUrl: plain http is refused, except to a loopback host
// with the opt-in (config federation.allow_http_loopback, for tests).
TEST_F(ProviderTest, ServerUrlIsHttpsUnlessTheLoopbackOptInIsSet) {
  ProviderPatch p;
  p.provider_id = "05";
  for (const char* url : {"http://127.0.0.1:8080", "http://localhost", "http://[::1]:1",
                          "http://google.ca/light-4j:8080", "HTTP://peer.example.com"}) {
    p.server_url = url;
    auto r = providers_.Create(p, "t");
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, "ERR11004");
    EXPECT_EQ(r.error().description, "serverUrl: must use https") << url;
  }
  p.server_url = "https://peer.example.com";
  ASSERT_TRUE(providers_.Create(p, "t"));
  // An update to http is refused too, and changes nothing.
  ProviderPatch to_http;
  to_http.provider_id = "05";
  to_http.server_url = "http://127.0.0.1:8080";
  EXPECT_EQ(providers_.Update(to_http, "t").error().description, "serverUrl: must use https");
  EXPECT_EQ(providers_.Get("05")->server_url, "https://peer.example.com");

  providers_.AllowHttpLoopback(true);
  ASSERT_TRUE(providers_.Update(to_http, "t"));
  p.provider_id = "06";
  for (const char* url : {"http://localhost:9", "http://[::1]:1"}) {
    p.server_url = url;
    EXPECT_TRUE(providers_.Create(p, "t")) << url;
    ASSERT_TRUE(providers_.Delete("06", "t"));
  }
  p.server_url = "http://google.ca/light-4j:8080";
  EXPECT_EQ(providers_.Create(p, "t").error().description,
            "serverUrl: must use https unless the host is loopback");
}

TEST_F(ProviderTest, Validation) {
  ProviderPatch p;
  p.provider_id = "5";
  p.server_url = "https://peer";
  EXPECT_EQ(providers_.Create(p, "t").error().description,
            "providerId: must be two digits, e.g. \"05\"");
  p.provider_id = "05";
  p.server_url = "peer.example.com";
  EXPECT_TRUE(providers_.Create(p, "t").error().description.starts_with("serverUrl:"));
  p.server_url = "https://peer";
  p.uri = "oauth2/key";
  EXPECT_EQ(providers_.Create(p, "t").error().description, "uri: must be a path starting with '/'");
  EXPECT_TRUE(store_.List()->empty());
  p.uri.reset();
  auto created = providers_.Create(p, "t");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->uri, "/oauth2/key");

  // An update that breaks the rules changes nothing.
  ProviderPatch bad;
  bad.provider_id = "05";
  bad.uri = "no-slash";
  EXPECT_EQ(providers_.Update(bad, "t").error().description,
            "uri: must be a path starting with '/'");
  EXPECT_EQ(providers_.Get("05")->uri, "/oauth2/key");
  EXPECT_EQ(audit_.List({})->total, 1);
}

TEST_F(ProviderTest, StoreFailuresSurface) {
  store_.fail_next_calls(1);
  auto list = providers_.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().http_status, 503);
}

}  // namespace
}  // namespace portcullis::oauth
