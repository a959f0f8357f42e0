#include "oauth/provider/provider.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/client/registry_testing.h"

namespace portcullis::oauth {
namespace {

class ProviderTest : public testing::RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    providers_ = std::make_unique<ProviderService>(*db_, clock_);
  }
  ManualClock clock_;
  std::unique_ptr<ProviderService> providers_;
};

// Reference §16.8.
TEST_P(ProviderTest, LightOauth2Scenarios) {
  ProviderPatch p;
  p.provider_id = "05";
  p.server_url = "http://google.ca/light-4j:8080";
  p.uri = "/oauth/key";
  p.provider_name = "cloud light-4j";
  auto created = providers_->Create(p, "t");
  ASSERT_TRUE(created) << created.error().description;
  EXPECT_EQ(providers_->Create(p, "t").error().code, "ERR12048");
  auto list = providers_->List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].provider_name, "cloud light-4j");

  ProviderPatch change;
  change.provider_id = "05";
  change.server_url = "https://light-4j.example.com";
  auto updated = providers_->Update(change, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->server_url, "https://light-4j.example.com");
  EXPECT_EQ(updated->uri, "/oauth/key");
  change.provider_id = "06";
  auto unknown = providers_->Update(change, "t");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "ERR12049");
  EXPECT_EQ(unknown.error().http_status, 400);

  auto st = providers_->Delete("11111", "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12047");
  EXPECT_EQ(st.error().http_status, 400);
  EXPECT_EQ(providers_->Get("05")->uri, "/oauth/key");
  ASSERT_TRUE(providers_->Delete("05", "t"));
  EXPECT_EQ(providers_->Get("05").error().code, "ERR12047");
  auto entries = audit::List(*db_, {.entity_kind = "provider"});
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->total, 3);
}

TEST_P(ProviderTest, Validation) {
  ProviderPatch p;
  p.provider_id = "5";
  p.server_url = "https://peer";
  EXPECT_EQ(providers_->Create(p, "t").error().description,
            "providerId: must be two digits, e.g. \"05\"");
  p.provider_id = "05";
  p.server_url = "peer.example.com";
  EXPECT_TRUE(providers_->Create(p, "t").error().description.starts_with("serverUrl:"));
  p.server_url = "https://peer";
  p.uri = "oauth2/key";
  EXPECT_EQ(providers_->Create(p, "t").error().description,
            "uri: must be a path starting with '/'");
  p.uri.reset();
  auto created = providers_->Create(p, "t");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->uri, "/oauth2/key");
}

INSTANTIATE_TEST_SUITE_P(Backends, ProviderTest, testing::kRegistryBackends, testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
