// The registry routes driven through the router, with the store on SQLite (and PostgreSQL when
// PORTCULLIS_TEST_PG_URL is set) and a fake AdminAuth. Deferred work runs inline.
#include "api/registry_api.h"

#include <gtest/gtest.h>

#include <tuple>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/client/registry_testing.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/service/service_catalog.h"
#include "oauth/token/grant_registry.h"
#include "oauth/user/user_service.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/service_store.h"
#include "store/sql/user_store.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;

// "Bearer scopes:<s1>,<s2>" is a valid token with those scopes, for the trusted client
// "admin-client"; "Bearer user:<id>:<scopes>" a token of that client for a user whose roles
// are "user", "Bearer admin:<id>:<scopes>" for one whose roles are "user admin";
// "Bearer plain:<scopes>" a token of an untrusted client; anything else is invalid.
class FakeAdminAuth final : public AdminAuth {
 public:
  Result<Caller> Authorize(const http::Request& req, std::string_view scope) const override {
    auto h = req.Header("authorization");
    if (!h || !h->starts_with("Bearer ")) return Fail(Error::Status("ERR10002"));
    std::string_view t = h->substr(7);
    Caller c;
    c.client_id = "admin-client";
    c.trusted = true;
    if (t.starts_with("user:") || t.starts_with("admin:")) {
      c.roles = t.starts_with("admin:") ? "user admin" : "user";
      t.remove_prefix(t.find(':') + 1);
      size_t colon = t.find(':');
      c.user_id = std::string(t.substr(0, colon));
      t = t.substr(colon + 1);
    } else if (t.starts_with("scopes:")) {
      t.remove_prefix(7);
    } else if (t.starts_with("plain:")) {
      t.remove_prefix(6);
      c.client_id = "plain-client";
      c.trusted = false;
    } else {
      return Fail(Error::Status("ERR10000"));
    }
    while (!t.empty()) {
      size_t comma = t.find(',');
      c.scopes.emplace_back(t.substr(0, comma));
      t = comma == std::string_view::npos ? std::string_view{} : t.substr(comma + 1);
    }
    for (const auto& s : c.scopes) {
      if (s == scope) return c;
    }
    return Fail(Error::Status("ERR10005"));
  }
};

constexpr const char* kAll =
    "scopes:portal.r,portal.w,oauth.user.r,oauth.user.w,oauth.refresh_token.r,"
    "oauth.refresh_token.w,read:provider,write:provider,oauth.audit.r";

struct Reply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  json::value json() const {
    json::error_code ec;
    auto v = json::parse(body, ec);
    return ec ? json::value(nullptr) : v;
  }
  std::string code() const {
    auto v = json();
    return v.is_object() && v.as_object().contains("code")
               ? std::string(v.as_object().at("code").as_string())
               : "";
  }
  std::string description() const {
    auto v = json();
    return v.is_object() && v.as_object().contains("description")
               ? std::string(v.as_object().at("description").as_string())
               : "";
  }
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

class RegistryApiTest : public oauth::testing::RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    client_store_ = std::make_unique<store::SqlClientStore>(*db_);
    audit_log_ = std::make_unique<store::SqlAuditLog>(*db_);
    catalog_ = std::make_unique<oauth::ClientCatalog>(*client_store_);
    service_store_ = std::make_unique<store::SqlServiceStore>(*db_);
    services_ = std::make_unique<oauth::ServiceCatalog>(*service_store_);
    deps_ = std::make_unique<RegistryDeps>(RegistryDeps{*db_, clock_, Random::System(), hasher_,
                                                        auth_, *catalog_, *client_store_,
                                                        *audit_log_, services_.get()});
    deps_->grant_types = oauth::GrantRegistry::Default().types();
    RegisterRegistryApis(router_, *deps_,
                         {"client", "service", "user", "provider", "refresh-token"});
  }

  Reply Call(std::string method, std::string target, std::string body = {},
             std::optional<std::string> token = std::string(kAll),
             http::Pool expect_pool = http::Pool::kStore) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    size_t q = req.target.find('?');
    req.path = std::string_view(req.target).substr(0, q);
    if (q != std::string::npos) req.query = std::string_view(req.target).substr(q + 1);
    req.body = std::move(body);
    if (token) req.headers.emplace_back("authorization", "Bearer " + *token);
    auto m = router_.Find(req);
    if (!m.route) return Reply{m.status, "", {}};
    auto reply = m.route->handler(req);
    http::Response r;
    if (auto* d = std::get_if<http::Deferred>(&reply)) {
      EXPECT_EQ(d->pool, expect_pool) << req.method << " " << req.target;
      r = d->work();
    } else {
      r = std::get<http::Response>(reply);
    }
    return Reply{r.status, r.body, r.headers};
  }

  // Creates a client over the API; returns {clientId, clientSecret}.
  std::pair<std::string, std::string> CreateClient(std::string body) {
    auto r = Call("POST", "/oauth2/client", std::move(body));
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = r.json().as_object();
    return {std::string(o["clientId"].as_string()),
            o.contains("clientSecret") ? std::string(o["clientSecret"].as_string()) : ""};
  }

  void SeedServices() {
    for (const char* id : {"AACT0001", "AACT0002"}) {
      auto r = Call("POST", "/oauth2/service",
                    std::string(R"({"serviceId":")") + id +
                        R"(","serviceType":"openapi","serviceName":"Account Service",)"
                        R"("serviceDesc":"A microservice that serves account information",)"
                        R"("scope":"a.r b.r","ownerId":"admin","host":"lightapi.net"})");
      ASSERT_EQ(r.status, 200) << r.body;
      r = Call("POST", std::string("/oauth2/service/") + id + "/endpoint",
               R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.w data.r"},
                   {"endpoint":"/v1/data@post","operation":"postData","scope":"data.w"},
                   {"endpoint":"/v1/data@put","operation":"putData","scope":"data.w"},
                   {"endpoint":"/v1/data@delete","operation":"deleteData","scope":"data.w"}])");
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  static constexpr const char* kPetstore =
      R"({"clientType":"public","clientProfile":"mobile","clientName":"PetStore Web Server",
          "clientDesc":"PetStore Web Server that calls PetStore API","scope":"petstore.r petstore.w",
          "customClaim":"{\"c1\": \"361\", \"c2\": \"67\"}","ownerId":"admin",
          "redirectUri":"http://localhost:8080/authorization","host":"lightapi.net"})";

  ManualClock clock_;
  oauth::SecretHasher hasher_{Secret(std::string(32, 'p'))};
  FakeAdminAuth auth_;
  std::unique_ptr<store::SqlClientStore> client_store_;
  std::unique_ptr<store::SqlAuditLog> audit_log_;
  std::unique_ptr<oauth::ClientCatalog> catalog_;
  std::unique_ptr<store::SqlServiceStore> service_store_;
  std::unique_ptr<oauth::ServiceCatalog> services_;
  std::unique_ptr<RegistryDeps> deps_;
  http::Router router_;
};

TEST_P(RegistryApiTest, EveryRouteRefusesMissingInvalidAndUnderScopedTokens) {
  struct R {
    const char* method;
    const char* target;
    const char* read_scope;  // the scope that must be enough (or the write scope for writes)
  };
  const R routes[] = {
      {"POST", "/oauth2/client", "portal.w"},
      {"PUT", "/oauth2/client", "portal.w"},
      {"GET", "/oauth2/client?page=0", "portal.r"},
      {"GET", "/oauth2/client/x", "portal.r"},
      {"DELETE", "/oauth2/client/x", "portal.w"},
      {"POST", "/oauth2/client/x/secret", "portal.w"},
      {"GET", "/oauth2/client/x/service", "portal.r"},
      {"DELETE", "/oauth2/client/x/service", "portal.w"},
      {"POST", "/oauth2/client/x/service/y", "portal.w"},
      {"GET", "/oauth2/client/x/service/y", "portal.r"},
      {"DELETE", "/oauth2/client/x/service/y", "portal.w"},
      {"POST", "/oauth2/service", "portal.w"},
      {"PUT", "/oauth2/service", "portal.w"},
      {"GET", "/oauth2/service?page=0", "portal.r"},
      {"GET", "/oauth2/service/x", "portal.r"},
      {"DELETE", "/oauth2/service/x", "portal.w"},
      {"POST", "/oauth2/service/x/endpoint", "portal.w"},
      {"GET", "/oauth2/service/x/endpoint", "portal.r"},
      {"DELETE", "/oauth2/service/x/endpoint", "portal.w"},
      {"POST", "/oauth2/user", "oauth.user.w"},
      {"PUT", "/oauth2/user", "oauth.user.w"},
      {"GET", "/oauth2/user?page=1", "oauth.user.r"},
      {"GET", "/oauth2/user/x", "oauth.user.r"},
      {"DELETE", "/oauth2/user/x", "oauth.user.w"},
      {"POST", "/oauth2/password/x", "oauth.user.w"},
      {"POST", "/oauth2/provider", "write:provider"},
      {"PUT", "/oauth2/provider", "write:provider"},
      {"GET", "/oauth2/provider", "read:provider"},
      {"GET", "/oauth2/provider/05", "read:provider"},
      {"DELETE", "/oauth2/provider/05", "write:provider"},
      {"GET", "/oauth2/refresh_token?page=1", "oauth.refresh_token.r"},
      {"GET", "/oauth2/refresh_token/x", "oauth.refresh_token.r"},
      {"DELETE", "/oauth2/refresh_token/x", "oauth.refresh_token.w"},
      {"GET", "/oauth2/audit", "oauth.audit.r"},
  };
  for (const auto& r : routes) {
    auto none = Call(r.method, r.target, "{}", std::nullopt);
    EXPECT_EQ(none.status, 401) << r.method << " " << r.target;
    EXPECT_EQ(none.code(), "ERR10002") << r.method << " " << r.target;
    auto bad = Call(r.method, r.target, "{}", "garbage");
    EXPECT_EQ(bad.status, 401) << r.method << " " << r.target;
    EXPECT_EQ(bad.code(), "ERR10000");
    // Every other admin scope, but not this one.
    auto wrong = Call(r.method, r.target, "{}", "scopes:unrelated.scope,portal.x");
    EXPECT_EQ(wrong.status, 403) << r.method << " " << r.target;
    EXPECT_EQ(wrong.code(), "ERR10005");
    // The right scope gets past authorization (to a 2xx/4xx of the call itself).
    auto ok = Call(
        r.method, r.target, "{}", std::string("scopes:") + r.read_scope,
        std::string(r.method) == "POST" && (std::string(r.target) == "/oauth2/user" ||
                                            std::string(r.target).starts_with("/oauth2/password"))
            ? http::Pool::kHash
            : http::Pool::kStore);
    EXPECT_NE(ok.status, 401) << r.method << " " << r.target;
    EXPECT_NE(ok.status, 403) << r.method << " " << r.target;
  }
  // A write scope grants the read.
  EXPECT_EQ(Call("GET", "/oauth2/client?page=0", "", "scopes:portal.w").status, 200);
  // A read scope does not grant the write.
  EXPECT_EQ(Call("DELETE", "/oauth2/client/x", "", "scopes:portal.r").status, 403);
  EXPECT_EQ(Count("audit_log"), 0);
}

// Reference §16.3.
TEST_P(RegistryApiTest, ClientScenarios) {
  SeedServices();
  // A public client without authMethod gets `none` and no secret: it uses PKCE.
  auto r = Call("POST", "/oauth2/client", kPetstore);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.json().as_object().contains("clientSecret"));
  EXPECT_EQ(r.json().as_object()["authMethod"], "none");
  std::string confidential = kPetstore;
  confidential.replace(confidential.find("public"), 6, "confidential");
  r = Call("POST", "/oauth2/client", confidential);
  ASSERT_EQ(r.status, 200) << r.body;
  auto created = r.json().as_object();
  std::string id(created["clientId"].as_string());
  std::string secret(created["clientSecret"].as_string());
  EXPECT_EQ(secret.size(), 43u);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(created["redirectUri"], "http://localhost:8080/authorization");
  EXPECT_EQ(created["customClaim"], R"({"c1": "361", "c2": "67"})");
  EXPECT_EQ(created["scope"], "petstore.r petstore.w");
  EXPECT_TRUE(hasher_.Verify(secret, catalog_->Find(id)->secret_hash));

  // External client with authenticateClass and derefClientId.
  r = Call("POST", "/oauth2/client",
           R"({"clientType":"external","clientProfile":"service","clientName":"External",
               "clientDesc":"x","scope":"a.r","host":"lightapi.net",
               "authenticateClass":"com.networknt.oauth.auth.MarketPlaceAuth",
               "derefClientId":"841c7d50-7690-11e8-adc0-fa7ae01bbebc"})");
  EXPECT_EQ(r.status, 200) << r.body;
  // Public client with derefClientId.
  r = Call("POST", "/oauth2/client",
           R"({"clientType":"public","clientProfile":"mobile","clientName":"P","clientDesc":"x",
               "scope":"a.r","host":"h","derefClientId":"841c7d50-7690-11e8-adc0-fa7ae01bbebc"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "ERR12043");
  r = Call("POST", "/oauth2/client",
           R"({"clientType":"fake","clientProfile":"mobile","clientName":"P","host":"h"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "ERR11004");
  r = Call("POST", "/oauth2/client",
           R"({"clientType":"public","clientProfile":"fake","clientName":"P","host":"h"})");
  EXPECT_EQ(r.code(), "ERR11004");

  // PUT existing as trusted/webserver; PUT public with derefClientId.
  r = Call("PUT", "/oauth2/client",
           R"({"clientId":")" + id + R"(","clientType":"trusted","clientProfile":"webserver",
               "clientName":"PetStore Web Server","clientSecret":null})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().as_object()["clientType"], "trusted");
  EXPECT_FALSE(r.json().as_object().contains("clientSecret"));
  EXPECT_TRUE(hasher_.Verify(secret, catalog_->Find(id)->secret_hash));  // secret kept
  r = Call("PUT", "/oauth2/client",
           R"({"clientId":")" + id + R"(","clientType":"public","derefClientId":"abc"})");
  EXPECT_EQ(r.code(), "ERR12043");
  r = Call("PUT", "/oauth2/client", R"({"clientId":"nope","clientName":"x"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12014");
  r = Call("PUT", "/oauth2/client", R"({"clientName":"x"})");
  EXPECT_EQ(r.description(), "clientId: is required");

  // List.
  for (int i = 0; i < 4; ++i)
    CreateClient(R"({"clientType":"confidential","clientProfile":"service",
      "clientName":"zz)" +
                 std::to_string(i) + R"(","host":"lightapi.net"})");
  r = Call("GET", "/oauth2/client?page=0");
  ASSERT_EQ(r.status, 200);
  auto list = r.json().as_object();
  EXPECT_GE(list["total"].as_int64(), 5);
  auto& clients = list["clients"].as_array();
  EXPECT_GE(clients.size(), 1u);
  EXPECT_LE(clients.size(), 10u);
  EXPECT_EQ(clients[0].as_object().at("clientName"), "External");
  for (const auto& c : clients) EXPECT_FALSE(c.as_object().contains("clientSecret"));
  EXPECT_EQ(Call("GET", "/oauth2/client?page=0&pageSize=25").status, 200);
  r = Call("GET", "/oauth2/client?page=1&pageSize=2");
  EXPECT_EQ(r.json().as_object()["clients"].as_array().size(), 2u);
  r = Call("GET", "/oauth2/client");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "ERR11000");
  EXPECT_EQ(Call("GET", "/oauth2/client?page=-1").code(), "ERR11004");
  EXPECT_EQ(Call("GET", "/oauth2/client?page=0&pageSize=0").code(), "ERR11004");
  EXPECT_EQ(Call("GET", "/oauth2/client?page=abc").code(), "ERR11004");
  r = Call("GET", "/oauth2/client?page=0&host=nomatch");
  EXPECT_EQ(r.json().as_object()["total"], 0);

  // Get.
  r = Call("GET", "/oauth2/client/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.json().as_object().contains("clientSecret"));
  EXPECT_EQ(r.body.find("hs256"), std::string::npos);
  r = Call("GET", "/oauth2/client/fake");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12014");

  // Links.
  r = Call("POST", "/oauth2/client/" + id + "/service/AACT0001", R"(["/v1/data@get"])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().as_object()["old_scope"], "petstore.r petstore.w");
  EXPECT_EQ(r.json().as_object()["new_scope"], "data.w data.r");
  EXPECT_EQ(oauth::JoinScope(catalog_->Find(id)->scope), "data.w data.r");
  r = Call("POST", "/oauth2/client/" + id + "/service/AACT0001", "[]");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  r = Call("GET", "/oauth2/client/" + id + "/service/AACT0001");
  EXPECT_EQ(r.body, R"(["/v1/data@get"])");
  r = Call("GET", "/oauth2/client/" + id + "/service");
  EXPECT_EQ(r.body, R"({"AACT0001":["/v1/data@get"]})");
  EXPECT_EQ(Call("POST", "/oauth2/client/fake/service/AACT0001", R"(["/v1/data@get"])").code(),
            "ERR12014");
  EXPECT_EQ(Call("POST", "/oauth2/client/" + id + "/service/fake", R"(["/v1/data@get"])").code(),
            "ERR12015");
  EXPECT_EQ(Call("POST", "/oauth2/client/" + id + "/service/AACT0001", R"(["/none@get"])").code(),
            "ERR12042");
  EXPECT_EQ(Call("POST", "/oauth2/client/" + id + "/service/AACT0001", R"({"a":1})").code(),
            "ERR11004");
  EXPECT_EQ(Call("GET", "/oauth2/client/fake/service/AACT0001").code(), "ERR12014");
  EXPECT_EQ(Call("GET", "/oauth2/client/" + id + "/service/fake").code(), "ERR12015");
  EXPECT_EQ(Call("GET", "/oauth2/client/fake/service").code(), "ERR12014");
  r = Call("DELETE", "/oauth2/client/" + id + "/service/AACT0001");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["old_scope"], "data.w data.r");
  EXPECT_EQ(r.json().as_object()["new_scope"], "");
  EXPECT_EQ(Call("DELETE", "/oauth2/client/fake/service/AACT0001").code(), "ERR12014");
  EXPECT_EQ(Call("DELETE", "/oauth2/client/" + id + "/service/fake").code(), "ERR12015");
  ASSERT_EQ(
      Call("POST", "/oauth2/client/" + id + "/service/AACT0002", R"(["/v1/data@put"])").status,
      200);
  r = Call("DELETE", "/oauth2/client/" + id + "/service");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["old_scope"], "data.w");
  EXPECT_EQ(r.json().as_object()["new_scope"], "");
  EXPECT_EQ(Call("DELETE", "/oauth2/client/fake/service").code(), "ERR12014");

  // Rotate, delete.
  r = Call("POST", "/oauth2/client/" + id + "/secret");
  ASSERT_EQ(r.status, 200);
  std::string rotated(r.json().as_object()["clientSecret"].as_string());
  EXPECT_NE(rotated, secret);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_TRUE(hasher_.Verify(rotated, catalog_->Find(id)->secret_hash));
  EXPECT_FALSE(hasher_.Verify(secret, catalog_->Find(id)->secret_hash));
  r = Call("DELETE", "/oauth2/client/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["clientId"].as_string(), id);
  EXPECT_FALSE(r.json().as_object().contains("clientSecret"));
  EXPECT_EQ(Call("DELETE", "/oauth2/client/" + id).code(), "ERR12014");
  EXPECT_FALSE(catalog_->Find(id));
}

// Reference §16.4.
TEST_P(RegistryApiTest, ServiceScenarios) {
  SeedServices();
  auto r = Call("GET", "/oauth2/service");
  EXPECT_EQ(r.code(), "ERR11000");
  r = Call("GET", "/oauth2/service?page=0");
  ASSERT_EQ(r.status, 200);
  EXPECT_GE(r.json().as_object()["total"].as_int64(), 2);
  EXPECT_EQ(r.json().as_object()["services"].as_array()[0].as_object().at("serviceId"), "AACT0001");
  r = Call("GET", "/oauth2/service?page=1");
  EXPECT_TRUE(r.json().as_object()["services"].as_array().empty());
  r = Call("POST", "/oauth2/service",
           R"({"serviceId":"AACT0005","serviceType":"openapi","serviceName":"Retail Account",
               "serviceDesc":"d","scope":"r.r","ownerId":"admin","host":"lightapi.net"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("POST", "/oauth2/service",
           R"({"serviceId":"AACT0005","serviceType":"openapi","serviceName":"x","host":"h"})");
  EXPECT_EQ(r.code(), "ERR12018");
  r = Call("PUT", "/oauth2/service",
           R"({"serviceId":"AACT0005","serviceType":"openapi","serviceName":"Retail Account 2",
               "host":"lightapi.net"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["serviceName"], "Retail Account 2");
  EXPECT_EQ(Call("PUT", "/oauth2/service", R"({"serviceId":"nope"})").code(), "ERR12015");
  EXPECT_EQ(Call("GET", "/oauth2/service/AACT0005").status, 200);
  EXPECT_EQ(Call("GET", "/oauth2/service/nope").code(), "ERR12015");
  r = Call("DELETE", "/oauth2/service/AACT0002");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"serviceId":"AACT0002"})");
  EXPECT_EQ(Call("DELETE", "/oauth2/service/AACT0002").code(), "ERR12015");
  r = Call("POST", "/oauth2/service/AACT0001/endpoint",
           R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.r"}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  r = Call("POST", "/oauth2/service/fake/endpoint",
           R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.r"}])");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12015");
  r = Call("GET", "/oauth2/service/AACT0001/endpoint");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.r"}])");
  r = Call("GET", "/oauth2/service/AACT0004/endpoint");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12042");
  ASSERT_EQ(
      Call("POST", "/oauth2/service/AACT0005/endpoint", R"([{"endpoint":"/x@get","scope":"x.r"}])")
          .status,
      200);
  EXPECT_EQ(Call("DELETE", "/oauth2/service/AACT0005/endpoint").status, 200);
  EXPECT_EQ(Call("DELETE", "/oauth2/service/AACT0004/endpoint").code(), "ERR12042");
  // Validation of endpoint bodies.
  EXPECT_EQ(Call("POST", "/oauth2/service/AACT0001/endpoint", R"({"endpoint":"x"})").description(),
            "body: must be a JSON array of endpoints");
  EXPECT_EQ(Call("POST", "/oauth2/service/AACT0001/endpoint",
                 R"([{"endpoint":"/a@get","scope":"a","extra":1}])")
                .description(),
            "[0].extra: unknown field");
  EXPECT_EQ(services_->Find("AACT0001")->endpoints.size(), 1u);
}

// Reference §16.5.
TEST_P(RegistryApiTest, UserScenarios) {
  auto user = [](std::string id, std::string email, std::string pw = "123456-long",
                 std::string confirm = "") {
    if (confirm.empty()) confirm = pw;
    return R"({"userId":")" + id + R"(","userType":"customer","firstName":"F","lastName":"L",)" +
           R"("email":")" + email + R"(","password":")" + pw + R"(","passwordConfirm":")" +
           confirm + R"(","roles":"user"})";
  };
  auto r = Call("POST", "/oauth2/user", user("admin", "admin@networknt.com"), std::string(kAll),
                http::Pool::kHash);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  for (int i = 1; i <= 12; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "test%02d", i);
    ASSERT_EQ(Call("POST", "/oauth2/user", user(id, std::string(id) + "@x.com"), std::string(kAll),
                   http::Pool::kHash)
                  .status,
              200);
  }
  ASSERT_EQ(Call("POST", "/oauth2/user", user("delete", "delete@x.com"), std::string(kAll),
                 http::Pool::kHash)
                .status,
            200);
  auto hash_call = [&](std::string body) {
    return Call("POST", "/oauth2/user", std::move(body), std::string(kAll), http::Pool::kHash);
  };
  EXPECT_EQ(hash_call(user("admin", "new@x.com")).code(), "ERR12020");
  EXPECT_EQ(hash_call(user("new", "admin@networknt.com")).code(), "ERR12021");
  r = hash_call(R"({"userId":"new","userType":"admin","email":"n@x.com"})");
  EXPECT_EQ(r.code(), "ERR12011");
  EXPECT_EQ(hash_call(user("new", "n@x.com", "aaaaaaaa1", "aaaaaaaa2")).code(), "ERR12012");

  r = Call("PUT", "/oauth2/user", R"({"userId":"admin","userType":"admin","firstName":"Steve"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Call("PUT", "/oauth2/user", R"({"userId":"nobody","firstName":"x"})").code(),
            "ERR12013");
  EXPECT_EQ(Call("GET", "/oauth2/user").code(), "ERR11000");
  r = Call("GET", "/oauth2/user?page=1");
  ASSERT_EQ(r.status, 200);
  auto page1 = r.json().as_array();
  ASSERT_EQ(page1.size(), 10u);
  EXPECT_EQ(page1[0].as_object().at("userId"), "admin");
  for (const auto& u : page1) {
    EXPECT_FALSE(u.as_object().contains("password"));
  }
  EXPECT_EQ(r.body.find("argon2"), std::string::npos);
  r = Call("GET", "/oauth2/user?page=2");
  EXPECT_GE(r.json().as_array().size(), 3u);
  EXPECT_LE(r.json().as_array().size(), 5u);
  r = Call("GET", "/oauth2/user?page=2&userId=test");
  EXPECT_EQ(r.json().as_array().size(), 2u);
  EXPECT_EQ(Call("GET", "/oauth2/user?page=0").code(), "ERR11004");  // 1-based
  r = Call("GET", "/oauth2/user/admin");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["firstName"], "Steve");
  EXPECT_EQ(Call("DELETE", "/oauth2/user/delete").status, 200);
  EXPECT_EQ(Call("DELETE", "/oauth2/user/delete").code(), "ERR12013");

  auto pw = [&](std::string body) {
    return Call("POST", "/oauth2/password/admin", std::move(body), std::string(kAll),
                http::Pool::kHash);
  };
  r = pw(
      R"({"password":"wrong-pass","newPassword":"n3w-password","newPasswordConfirm":"n3w-password"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("INCORRECT_PASSWORD"), std::string::npos);
  r = pw(
      R"({"password":"123456-long","newPassword":"n3w-password","newPasswordConfirm":"other-pw1"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("PASSWORD_PASSWORDCONFIRM_NOT_MATCH"), std::string::npos);
  r = pw(
      R"({"password":"123456-long","newPassword":"n3w-password","newPasswordConfirm":"n3w-password"})");
  EXPECT_EQ(r.status, 200) << r.body;
  store::SqlUserStore user_store(*db_);
  store::SqlAuditLog audit_log(*db_);
  oauth::UserService users(*db_, user_store, audit_log, clock_);
  EXPECT_TRUE(users.Authenticate("admin", Secret("n3w-password")));
  EXPECT_EQ(Call("POST", "/oauth2/password/nobody",
                 R"({"password":"a","newPassword":"b","newPasswordConfirm":"b"})",
                 std::string(kAll), http::Pool::kHash)
                .code(),
            "ERR12013");
  // No secret of any kind in the audit trail.
  auto audit = Call("GET", "/oauth2/audit?entityKind=user&pageSize=100");
  ASSERT_EQ(audit.status, 200);
  EXPECT_GE(audit.json().as_object()["total"].as_int64(), 16);
  for (const char* s : {"123456-long", "n3w-password", "argon2", "\"password\":"}) {
    EXPECT_EQ(audit.body.find(s), std::string::npos) << s;
  }
}

// Reference §16.7.
TEST_P(RegistryApiTest, RefreshTokenScenarios) {
  auto [client, secret] = CreateClient(kPetstore);
  const std::string token = "86c0a39f-0789-4b71-9fed-d99fe6dc9281";
  oauth::RefreshToken row;
  row.token_hash = oauth::TokenHash(token);
  row.family_id = "f1";
  row.client_id = client;
  row.user_id = "admin";
  row.user_type = "admin";
  row.roles = "user admin";
  row.scope = "petstore.r";
  row.created_at = clock_.Now();
  row.expires_at = clock_.Now() + 1000;
  store::SqlRefreshTokenStore refresh_tokens(*db_);
  ASSERT_TRUE(db_->Transact([&](store::Tx& tx) { return refresh_tokens.Insert(tx, row); }));
  auto r = Call("GET", "/oauth2/refresh_token?page=1");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json().as_array().size(), 1u);
  EXPECT_EQ(r.json().as_array()[0].as_object().at("userId"), "admin");
  EXPECT_EQ(r.body.find(token), std::string::npos);  // the token itself is never shown
  EXPECT_EQ(Call("GET", "/oauth2/refresh_token").code(), "ERR11000");
  r = Call("GET", "/oauth2/refresh_token/" + token);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["clientId"].as_string(), client);
  r = Call("GET", "/oauth2/refresh_token/fake");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12029");
  EXPECT_EQ(Call("DELETE", "/oauth2/refresh_token/" + token).status, 200);
  EXPECT_TRUE(Call("GET", "/oauth2/refresh_token?page=1").json().as_array().empty());
  r = Call("DELETE", "/oauth2/refresh_token/fake");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ERR12029");
}

// Reference §16.8.
TEST_P(RegistryApiTest, ProviderScenarios) {
  auto r = Call("POST", "/oauth2/provider",
                R"({"providerId":"05","serverUrl":"https://google.ca/light-4j:8080",
                    "uri":"/oauth/key","providerName":"cloud light-4j"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("GET", "/oauth2/provider");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().as_object()["05"].as_object()["providerName"], "cloud light-4j");
  r = Call("PUT", "/oauth2/provider",
           R"({"providerId":"05","serverUrl":"https://light-4j.example.com",
               "uri":"/oauth2/key","providerName":"cloud"})");
  EXPECT_EQ(r.status, 200);
  r = Call("DELETE", "/oauth2/provider/11111");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "ERR12047");
  EXPECT_EQ(
      Call("POST", "/oauth2/provider", R"({"providerId":"05","serverUrl":"https://x"})").code(),
      "ERR12048");
  EXPECT_EQ(
      Call("PUT", "/oauth2/provider", R"({"providerId":"07","serverUrl":"https://x"})").code(),
      "ERR12049");
  EXPECT_EQ(Call("DELETE", "/oauth2/provider/05").status, 200);
}

TEST_P(RegistryApiTest, HostileAndMalformedInput) {
  auto post = [&](std::string body) { return Call("POST", "/oauth2/client", std::move(body)); };
  const std::string base =
      R"("clientType":"confidential","clientProfile":"service","host":"lightapi.net")";
  // Oversized fields.
  auto r = post("{" + base + R"(,"clientName":")" + std::string(33, 'n') + "\"}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.description(), "clientName: at most 32 characters");
  r = post("{" + base + R"(,"clientName":"n","clientDesc":")" + std::string(2049, 'd') + "\"}");
  EXPECT_EQ(r.description(), "clientDesc: at most 2048 characters");
  r = post("{" + base + R"(,"clientName":"n","scope":")" + std::string(4097, 's') + "\"}");
  EXPECT_EQ(r.description(), "scope: at most 4096 characters");
  // Wrong types.
  EXPECT_EQ(post("{" + base + R"(,"clientName":["n"]})").description(),
            "clientName: must be a string");
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","redirectUris":"https://a/cb"})").description(),
            "redirectUris: must be an array of strings");
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","accessTokenTtl":"600"})").description(),
            "accessTokenTtl: must be an integer");
  EXPECT_EQ(post("{" + base + R"(,"clientName":true})").description(),
            "clientName: must be a string");
  // Unknown fields, duplicates, not JSON, not an object.
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","isAdmin":true})").description(),
            "isAdmin: unknown field");
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","clientName":"m"})").description(),
            "body: duplicate member 'clientName'");
  EXPECT_EQ(post("clientName=n").code(), "ERR11004");
  EXPECT_EQ(post("[]").description(), "body: must be a JSON object");
  EXPECT_EQ(post("").code(), "ERR11004");
  EXPECT_EQ(post(std::string(1000, '[')).code(), "ERR11004");
  // Redirect URI rules and reserved claims.
  EXPECT_EQ(
      post("{" + base + R"(,"clientName":"n","redirectUris":["https://a/cb#x"]})").description(),
      "redirectUris[0]: must not contain a fragment");
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","redirectUri":"http://evil.example.com/cb"})")
                .description(),
            "redirectUris[0]: must use https unless the host is loopback");
  EXPECT_EQ(post("{" + base + R"(,"clientName":"n","customClaim":{"aud":"x"}})").description(),
            "customClaim: 'aud' is a reserved claim name and cannot be overridden");
  // SQL metacharacters and unicode are data.
  r = post("{" + base +
           R"(,"clientName":"'; DROP TABLE clients;--","clientDesc":"Zoë ☃ 𝄞 \u0000x"})");
  EXPECT_EQ(r.description(), "clientDesc: contains a control character");
  r = post("{" + base + R"(,"clientName":"'; DROP TABLE clients;--","clientDesc":"Zoë ☃ 𝄞"})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string id(r.json().as_object()["clientId"].as_string());
  r = Call("GET", "/oauth2/client/" + id);
  EXPECT_EQ(r.json().as_object()["clientName"], "'; DROP TABLE clients;--");
  EXPECT_EQ(r.json().as_object()["clientDesc"], "Zoë ☃ 𝄞");
  r = Call("GET", "/oauth2/client/x'%20OR%20'1'='1");
  EXPECT_EQ(r.code(), "ERR12014");
  r = Call("GET", "/oauth2/client?page=0&host=%27%20OR%201%3D1--");
  EXPECT_EQ(r.json().as_object()["total"], 0);
  r = Call("GET", "/oauth2/user?page=1&userId=%25");
  EXPECT_TRUE(r.json().as_array().empty());
  EXPECT_EQ(Count("clients"), 1);
  // Unicode in user fields; a hostile id.
  r = Call("POST", "/oauth2/user",
           R"({"userId":"zoë","userType":"customer","email":"z@x.com","password":"aaaaaaaa1",
               "passwordConfirm":"aaaaaaaa1"})",
           std::string(kAll), http::Pool::kHash);
  EXPECT_EQ(r.description(), "userId: may contain only letters, digits and . _ ~ @ + -");
}

TEST_P(RegistryApiTest, AuditIsQueryableAndNamesTheActor) {
  auto r = Call("POST", "/oauth2/client",
                R"({"clientType":"confidential","clientProfile":"service","clientName":"a",
                    "host":"h"})",
                "user:steve:portal.w");
  ASSERT_EQ(r.status, 200);
  std::string id(r.json().as_object()["clientId"].as_string());
  std::string secret(r.json().as_object()["clientSecret"].as_string());
  EXPECT_EQ(r.json().as_object()["ownerId"], "steve");
  ASSERT_EQ(
      Call("PUT", "/oauth2/client", R"({"clientId":")" + id + R"(","clientName":"b"})").status,
      200);
  r = Call("GET", "/oauth2/audit?entityKind=client&entityId=" + id);
  ASSERT_EQ(r.status, 200);
  auto o = r.json().as_object();
  EXPECT_EQ(o["total"], 2);
  auto& entries = o["entries"].as_array();
  EXPECT_EQ(entries[0].as_object().at("action"), "client.update");
  EXPECT_EQ(entries[0].as_object().at("actor"), "client:admin-client");
  EXPECT_EQ(entries[0].as_object().at("before").as_object().at("clientName"), "a");
  EXPECT_EQ(entries[0].as_object().at("after").as_object().at("clientName"), "b");
  EXPECT_EQ(entries[1].as_object().at("actor"), "user:steve client:admin-client");
  EXPECT_TRUE(entries[1].as_object().at("before").is_null());
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  r = Call("GET", "/oauth2/audit?action=client.&since=" + std::to_string(clock_.Now() + 1));
  EXPECT_EQ(r.json().as_object()["total"], 0);
  EXPECT_EQ(Call("GET", "/oauth2/audit?since=yesterday").code(), "ERR11004");
}

// light-oauth2's owner check (reference §7.1, §8, ERR11620): a caller acting for a user
// without the admin role writes only what that user owns. Black-box tests cannot reach it: such
// a user's tokens no longer carry admin scopes (README "Admin privileges").
TEST_P(RegistryApiTest, ANonAdminUserChangesOnlyWhatItOwns) {
  const std::string steve = "user:steve:portal.r,portal.w";
  const std::string body =
      R"({"clientType":"confidential","clientProfile":"service","clientName":"a","host":"h")";
  auto r = Call("POST", "/oauth2/client", body + "}", steve);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string stevens(r.json().as_object()["clientId"].as_string());
  EXPECT_EQ(r.json().as_object()["ownerId"], "steve");
  // Naming another owner is refused, so is giving one's client away.
  r = Call("POST", "/oauth2/client", body + R"(,"ownerId":"alice"})", steve);
  EXPECT_EQ(r.code(), "ERR11620");
  r = Call("PUT", "/oauth2/client", R"({"clientId":")" + stevens + R"(","ownerId":"alice"})",
           steve);
  EXPECT_EQ(r.code(), "ERR11620");
  EXPECT_EQ(
      Call("PUT", "/oauth2/client", R"({"clientId":")" + stevens + R"(","clientName":"b"})", steve)
          .status,
      200);
  // Alice's client: steve may read it, not write it.
  auto [alices, _] = CreateClient(body + R"(,"ownerId":"alice"})");
  EXPECT_EQ(Call("GET", "/oauth2/client/" + alices, "", steve).status, 200);
  for (auto [method, path, payload] :
       {std::tuple<std::string, std::string, std::string>{
            "PUT", "/oauth2/client", R"({"clientId":")" + alices + R"(","clientName":"x"})"},
        {"DELETE", "/oauth2/client/" + alices, ""},
        {"POST", "/oauth2/client/" + alices + "/secret", ""},
        {"DELETE", "/oauth2/client/" + alices + "/service", ""}}) {
    r = Call(method, path, payload, steve);
    EXPECT_EQ(r.status, 400) << method << " " << path << " " << r.body;
    EXPECT_EQ(r.code(), "ERR11620") << method << " " << path;
  }
  // Services alike.
  const std::string service = R"({"serviceId":"S1","serviceType":"openapi","serviceName":"s",)"
                              R"("host":"h","ownerId":"alice"})";
  ASSERT_EQ(Call("POST", "/oauth2/service", service).status, 200);
  EXPECT_EQ(Call("PUT", "/oauth2/service", R"({"serviceId":"S1","serviceName":"x"})", steve).code(),
            "ERR11620");
  EXPECT_EQ(Call("DELETE", "/oauth2/service/S1", "", steve).code(), "ERR11620");
  EXPECT_EQ(Call("POST", "/oauth2/service/S1/endpoint",
                 R"([{"endpoint":"/a@get","operation":"a","scope":"a.r"}])", steve)
                .code(),
            "ERR11620");
  // An admin user, and a client acting for itself, are not bound by ownership.
  EXPECT_EQ(Call("PUT", "/oauth2/client", R"({"clientId":")" + alices + R"(","clientName":"y"})",
                 "admin:carol:portal.w")
                .status,
            200);
  EXPECT_EQ(Call("PUT", "/oauth2/service", R"({"serviceId":"S1","serviceName":"y"})").status, 200);
  // Users: a non-admin user changes only itself, and never roles.
  for (const char* id : {"alice", "steve"}) {
    r = Call("POST", "/oauth2/user",
             std::string(R"({"userId":")") + id + R"(","userType":"customer","email":")" + id +
                 R"(@x.com","password":"aaaaaaaa1","passwordConfirm":"aaaaaaaa1","roles":"user"})",
             std::string(kAll), http::Pool::kHash);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const std::string steve_users = "user:steve:oauth.user.w";
  r = Call("PUT", "/oauth2/user", R"({"userId":"alice","firstName":"x"})", steve_users);
  EXPECT_EQ(r.code(), "ERR11620");
  r = Call("PUT", "/oauth2/user", R"({"userId":"steve","roles":"user admin"})", steve_users);
  EXPECT_EQ(r.code(), "ERR11620");
  EXPECT_EQ(
      Call("PUT", "/oauth2/user", R"({"userId":"steve","firstName":"S"})", steve_users).status,
      200);
  EXPECT_EQ(Call("DELETE", "/oauth2/user/alice", "", steve_users).code(), "ERR11620");
}

TEST_P(RegistryApiTest, AnUntrustedCallerCannotGrantTrustOrAdminScopes) {
  const std::string plain = "plain:portal.r,portal.w,oauth.user.w";
  auto r = Call("POST", "/oauth2/client",
                R"({"clientType":"trusted","clientProfile":"service","clientName":"t",
                    "host":"h"})",
                plain);
  EXPECT_EQ(r.code(), "ERR11620");
  r = Call("POST", "/oauth2/client",
           R"({"clientType":"confidential","clientProfile":"service","clientName":"t",
               "host":"h","scope":"oauth.key.w"})",
           plain);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code(), "ERR10005");
  r = Call("POST", "/oauth2/user",
           R"({"userId":"mallory","userType":"customer","email":"m@x.com",
               "password":"aaaaaaaa1","passwordConfirm":"aaaaaaaa1","roles":"admin"})",
           plain, http::Pool::kHash);
  EXPECT_EQ(r.code(), "ERR11620");
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryApiTest, oauth::testing::kRegistryBackends,
                         oauth::testing::BackendName);

}  // namespace
}  // namespace portcullis::api
