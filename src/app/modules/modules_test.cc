// Composition: a process builds only the modules it serves and the shared parts they need.
#include "app/modules/modules.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "app/services.h"
#include "http/router.h"
#include "store/db.h"
#include "store/sql/key_store.h"

namespace portcullis::app {
namespace {

class ModulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pc_modules_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    auto c = LoadConfig({});
    ASSERT_TRUE(c);
    config_ = *c;
    config_.store.url = "sqlite:" + (dir_ / "portcullis.db").string();
    config_.keys.master_key = std::string(64, '1');
    config_.server.issuer = "http://127.0.0.1:1";
    auto db = store::OpenDatabase(config_.store.url);
    ASSERT_TRUE(db);
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The route patterns of a process serving `services`.
  std::vector<std::string> Routes(std::vector<std::string> services) {
    config_.server.services = std::move(services);
    auto built = BuildServices(config_, *db_);
    EXPECT_TRUE(built) << built.error().description;
    if (!built) return {};
    http::Router router;
    EXPECT_TRUE((*built)->Register(router));
    std::vector<std::string> out;
    for (const auto& r : router.routes()) out.push_back(r->method + " " + r->pattern);
    return out;
  }

  size_t SigningKeys() {
    store::SqlKeyStore keys(*db_);
    auto list = keys.List();
    EXPECT_TRUE(list);
    return list ? list->size() : 0;
  }

  static bool Has(const std::vector<std::string>& routes, std::string_view route) {
    return std::find(routes.begin(), routes.end(), route) != routes.end();
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  Config config_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(ModulesTest, EveryServiceHasOneModule) {
  ASSERT_EQ(AllModules().size(), AllServices().size());
  for (const auto& s : AllServices()) {
    EXPECT_TRUE(std::any_of(AllModules().begin(), AllModules().end(), [&](const ModuleSpec* m) {
      return m->name == s.name;
    })) << s.name;
  }
}

TEST_F(ModulesTest, AUserProcessMakesNoKeyAndOpensNoKeyOrTokenRoute) {
  auto routes = Routes({"user"});
  EXPECT_EQ(SigningKeys(), 0u);
  EXPECT_TRUE(Has(routes, "GET /oauth2/user"));
  EXPECT_TRUE(Has(routes, "POST /oauth2/password/{userId}"));
  EXPECT_TRUE(Has(routes, "GET /oauth2/audit"));
  for (const auto& r : routes) {
    EXPECT_FALSE(r.find("/oauth2/key") != std::string::npos ||
                 r.find("/oauth2/token") != std::string::npos ||
                 r.find("/oauth2/client") != std::string::npos ||
                 r.find("jwks") != std::string::npos)
        << r;
  }
}

TEST_F(ModulesTest, ATokenProcessMakesTheFirstKeyAndServesNoRegistry) {
  auto routes = Routes({"token"});
  EXPECT_EQ(SigningKeys(), 1u);
  EXPECT_TRUE(Has(routes, "POST /oauth2/token"));
  EXPECT_TRUE(Has(routes, "GET /oauth2/verify"));
  EXPECT_FALSE(Has(routes, "GET /oauth2/user"));
  EXPECT_FALSE(Has(routes, "GET /oauth2/audit"));
  EXPECT_FALSE(Has(routes, "GET /oauth2/keys"));
  // A second process finds the key and makes none.
  Routes({"token", "key"});
  EXPECT_EQ(SigningKeys(), 1u);
}

TEST_F(ModulesTest, ACodeProcessNeedsNoKeys) {
  auto routes = Routes({"code"});
  EXPECT_EQ(SigningKeys(), 0u);
  EXPECT_TRUE(Has(routes, "GET /oauth2/authorize"));
}

TEST_F(ModulesTest, AllServicesRegisterEveryRouteOnce) {
  auto routes =
      Routes({"code", "token", "service", "client", "user", "key", "refresh-token", "provider"});
  std::vector<std::string> sorted = routes;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  for (const char* r :
       {"POST /oauth2/token", "GET /oauth2/keys", "GET /oauth2/client", "GET /oauth2/service",
        "GET /oauth2/user", "GET /oauth2/provider", "GET /oauth2/refresh_token",
        "GET /oauth2/audit", "GET /oauth2/authorize"}) {
    EXPECT_TRUE(Has(routes, r)) << r;
  }
}

}  // namespace
}  // namespace portcullis::app
