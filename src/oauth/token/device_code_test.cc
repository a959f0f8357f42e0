// The device flow's token-endpoint side (RFC 8628 §3.1-§3.5) over fakes: the device
// authorization request, and the device_code grant's state machine (authorization_pending,
// slow_down with the interval growing by 5 s, access_denied, expired_token, one redemption)
// driven by a ManualClock, never by sleeping.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/code/memory_code_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/device/memory_device_store.h"
#include "oauth/login/authenticator.h"
#include "oauth/refresh/memory_refresh_token_store.h"
#include "oauth/token/device_authorization.h"
#include "oauth/token/grant_registry.h"
#include "oauth/token/memory_token_state_store.h"
#include "oauth/token/token_service.h"
#include "store/db.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

class FakeKeys final : public TokenKeys {
 public:
  Result<std::string> Sign(std::string_view payload, std::string_view) const override {
    return "h." + Base64UrlEncode(payload) + ".s";
  }
  Result<json::object> Verify(std::string_view) const override {
    return Fail(Error::Status("ERR10000"));
  }
};

class NoUsers final : public UserAuthenticator {
 public:
  Result<AuthenticatedUser> Authenticate(std::string_view, std::string_view) override {
    return Fail(Error::Status("ERR12016"));
  }
  Result<AuthenticatedUser> Find(std::string_view) override {
    return Fail(Error::Status("ERR12016"));
  }
};

class FakeLookups final : public GrantLookups {
 public:
  Result<std::optional<CurrentUser>> FindUser(store::Tx&, std::string_view id) override {
    auto it = users.find(std::string(id));
    if (it == users.end()) return std::optional<CurrentUser>();
    return std::optional<CurrentUser>(it->second);
  }
  Result<std::optional<ExchangePolicy>> FindDelegation(std::string_view,
                                                       std::string_view) override {
    return std::optional<ExchangePolicy>();
  }
  Result<std::optional<std::vector<std::string>>> ServiceScopes(std::string_view) override {
    return std::optional<std::vector<std::string>>();
  }
  Status UpgradeLegacySecret(std::string_view, std::string_view, const Secret&) override {
    return {};
  }
  std::map<std::string, CurrentUser> users;
};

class DeviceFlowTest : public ::testing::Test {
 protected:
  DeviceFlowTest()
      : secrets_(Secret(std::string(32, 'p'))),
        catalog_(client_store_),
        revoked_(deny_list_, clock_),
        hasher_(Secret(std::string(32, 'm'))),
        tokens_(Settings(), catalog_, secrets_, keys_, db_, Stores(), users_, revoked_, clock_,
                Random::System(), lookups_),
        devices_({.code_ttl = 600, .interval = 5, .verification_uri = "https://as/oauth2/device"},
                 tokens_, store_, hasher_, clock_, Random::System()) {
    lookups_.users["alice"] = CurrentUser{"customer", "user", false};
    AddClient("tv", ClientType::kConfidential, {std::string(kDeviceCodeGrant)});
    AddClient("cli", ClientType::kPublic, {std::string(kDeviceCodeGrant), "refresh_token"});
    AddClient("web", ClientType::kConfidential, {"authorization_code"});
    AddClient("legacy", ClientType::kConfidential, {});
    EXPECT_TRUE(catalog_.Reload());
  }

  static TokenSettings Settings() {
    TokenSettings s;
    s.issuer = "https://as";
    s.token_endpoint = "https://as/oauth2/token";
    return s;
  }
  TokenStores Stores() {
    TokenStores s{codes_, refresh_tokens_, references_, jtis_};
    s.devices = &store_;
    return s;
  }

  void AddClient(std::string id, ClientType type, std::vector<std::string> grants) {
    Client c;
    c.client_id = std::move(id);
    c.client_type = type;
    if (type != ClientType::kPublic) c.secret_hash = secrets_.Digest("s3cret");
    c.scope = {"read", "write"};
    c.grant_types = std::move(grants);
    ASSERT_TRUE(db_.Transact("t", [&](store::Tx& tx) { return client_store_.Insert(tx, c); }));
  }

  static std::string Basic(std::string_view id, std::string_view secret = "s3cret") {
    return "Basic " + Base64Encode(std::string(id) + ":" + std::string(secret));
  }

  Result<DeviceAuthorizationResponse> Authorize(std::string_view form,
                                                std::optional<std::string> auth) {
    auto p = Params::FromForm(form);
    EXPECT_TRUE(p.has_value());
    return devices_.Authorize(*p, auth);
  }

  Result<IssuedToken> Poll(std::string_view device_code, std::string_view client = "tv") {
    std::string form =
        "grant_type=" + std::string(kDeviceCodeGrant) + "&device_code=" + std::string(device_code);
    std::optional<std::string> auth;
    if (client == "cli") {
      form += "&client_id=cli";
    } else {
      auth = Basic(client);
    }
    TokenRequest r = tokens_.Prepare(*Params::FromForm(form), auth, "203.0.113.9");
    return tokens_.Token(r, tokens_.Needs(r) != GrantNeeds::kNothing);
  }

  static std::string Err(const Result<IssuedToken>& t) {
    return t ? std::string("ok") : t.error().oauth_error;
  }

  std::string UserCodeHash(std::string_view shown) {
    return hasher_.Hash(*NormalizeUserCode(shown));
  }

  store::FakeDatabase db_;
  ManualClock clock_;
  SecretHasher secrets_;
  FakeKeys keys_;
  NoUsers users_;
  FakeLookups lookups_;
  MemoryClientStore client_store_;
  ClientCatalog catalog_;
  MemoryAuthCodeStore codes_;
  MemoryRefreshTokenStore refresh_tokens_;
  MemoryReferenceTokenStore references_;
  MemoryAssertionJtiStore jtis_;
  MemoryDenyList deny_list_;
  RevocationList revoked_;
  MemoryDeviceGrantStore store_;
  UserCodeHasher hasher_;
  TokenService tokens_;
  DeviceAuthorizationService devices_;
};

TEST_F(DeviceFlowTest, AuthorizationAnswersEveryFieldAndStoresOnlyHashes) {
  auto r = Authorize("scope=read", Basic("tv"));
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->device_code.size(), 43u);  // 256 bits, base64url
  ASSERT_EQ(r->user_code.size(), 9u);
  EXPECT_EQ(r->user_code[4], '-');
  EXPECT_TRUE(NormalizeUserCode(r->user_code));
  EXPECT_EQ(r->verification_uri, "https://as/oauth2/device");
  EXPECT_EQ(r->verification_uri_complete, "https://as/oauth2/device?user_code=" + r->user_code);
  EXPECT_EQ(r->expires_in, 600);
  EXPECT_EQ(r->interval, 5);
  auto json = json::parse(r->ToJson()).as_object();
  for (auto k : {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                 "expires_in", "interval"}) {
    EXPECT_TRUE(json.contains(k)) << k;
  }
  auto g = store_.FindByUserCode(UserCodeHash(r->user_code));
  ASSERT_TRUE(g && *g);
  EXPECT_EQ((*g)->device_code_hash, TokenHash(r->device_code));
  EXPECT_NE((*g)->device_code_hash, r->device_code);
  EXPECT_EQ((*g)->client_id, "tv");
  EXPECT_EQ((*g)->scope, "read");
  EXPECT_EQ((*g)->expires_at, clock_.Now() + 600);
}

TEST_F(DeviceFlowTest, AuthorizationChecksTheClientTheGrantAndTheScope) {
  auto r = Authorize("", Basic("tv"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*store_.FindByUserCode(UserCodeHash(r->user_code)))->scope, "read write");
  EXPECT_TRUE(Authorize("client_id=cli", std::nullopt));  // public: client_id only

  auto bad = Authorize("", Basic("tv", "wrong"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().http_status, 401);
  bad = Authorize("", Basic("ghost"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().oauth_error, "invalid_client");
  EXPECT_EQ(bad.error().http_status, 401);
  bad = Authorize("client_id=tv", std::nullopt);  // confidential without its secret
  ASSERT_FALSE(bad);
  bad = Authorize("", Basic("web"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().oauth_error, "unauthorized_client");
  bad = Authorize("", Basic("legacy"));  // no grant list: not implied
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().oauth_error, "unauthorized_client");
  bad = Authorize("scope=read%20admin", Basic("tv"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().oauth_error, "invalid_scope");
}

TEST_F(DeviceFlowTest, PollingFollowsTheStateMachineAndSlowDownGrowsTheInterval) {
  auto r = Authorize("scope=read", Basic("tv"));
  ASSERT_TRUE(r);
  EXPECT_EQ(Err(Poll(r->device_code)), "authorization_pending");
  EXPECT_EQ(Err(Poll(r->device_code)), "slow_down");  // at once: interval 5 -> 10
  clock_.Advance(9);
  EXPECT_EQ(Err(Poll(r->device_code)), "slow_down");  // 9 < 10 -> 15
  clock_.Advance(15);
  EXPECT_EQ(Err(Poll(r->device_code)), "authorization_pending");
  auto g = store_.FindByUserCode(UserCodeHash(r->user_code));
  EXPECT_EQ((*g)->interval, 15);
  clock_.Advance(14);
  EXPECT_EQ(Err(Poll(r->device_code)), "slow_down");
  EXPECT_EQ((*store_.FindByUserCode(UserCodeHash(r->user_code)))->interval, 20);

  ASSERT_TRUE(*store_.Decide(UserCodeHash(r->user_code), true,
                             DeviceApproval{"alice", "customer", "user"}, clock_.Now()));
  clock_.Advance(1);  // too soon, but approved: tokens
  auto t = Poll(r->device_code);
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_FALSE(t->access_token.empty());
  EXPECT_FALSE(t->refresh_token.empty());
  EXPECT_EQ(t->scope, "read");
  auto stored = refresh_tokens_.Find(TokenHash(t->refresh_token));
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->user_id, "alice");
  EXPECT_EQ((*stored)->client_id, "tv");

  auto again = Poll(r->device_code);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().oauth_error, "invalid_grant");
}

TEST_F(DeviceFlowTest, DeniedExpiredForeignAndUnknownCodes) {
  auto denied = Authorize("", Basic("tv"));
  ASSERT_TRUE(*store_.Decide(UserCodeHash(denied->user_code), false, {}, clock_.Now()));
  EXPECT_EQ(Err(Poll(denied->device_code)), "access_denied");

  auto late = Authorize("", Basic("tv"));
  clock_.Advance(600);
  EXPECT_EQ(Err(Poll(late->device_code)), "expired_token");

  auto mine = Authorize("client_id=cli", std::nullopt);
  ASSERT_TRUE(*store_.Decide(UserCodeHash(mine->user_code), true,
                             DeviceApproval{"alice", "customer", "user"}, clock_.Now()));
  EXPECT_EQ(Err(Poll(mine->device_code, "tv")), "invalid_grant");  // another client's
  EXPECT_EQ(Err(Poll("made-up")), "invalid_grant");
  EXPECT_EQ(Err(Poll("")), "invalid_request");
  EXPECT_EQ(Err(Poll(mine->device_code, "cli")), "ok");  // the public client redeems its own

  // A client without the grant in its list cannot redeem, whatever code it holds.
  EXPECT_EQ(Poll("x", "web").error().code, "ERR12024");
}

TEST_F(DeviceFlowTest, ALockedUserGetsNothing) {
  auto r = Authorize("", Basic("tv"));
  ASSERT_TRUE(*store_.Decide(UserCodeHash(r->user_code), true,
                             DeviceApproval{"alice", "customer", "user"}, clock_.Now()));
  lookups_.users["alice"].locked = true;
  EXPECT_EQ(Err(Poll(r->device_code)), "invalid_grant");
}

TEST_F(DeviceFlowTest, PurgeDropsExpiredGrants) {
  auto r = Authorize("", Basic("tv"));
  ASSERT_EQ(store_.size(), 1u);
  clock_.Advance(600 + 3600 * 24);
  ASSERT_TRUE(tokens_.Purge());
  EXPECT_EQ(store_.size(), 0u);
}

}  // namespace
}  // namespace portcullis::oauth
