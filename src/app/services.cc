#include "app/services.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/code_api.h"
#include "api/delegation_api.h"
#include "api/federation.h"
#include "api/jwt_admin_auth.h"
#include "api/key_api.h"
#include "api/registry_api.h"
#include "api/token_api.h"
#include "api/verify_api.h"
#include "app/master_key.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "http/router.h"
#include "oauth/client/bootstrap_client.h"
#include "oauth/client/client_catalog.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/key/key_manager.h"
#include "oauth/login/throttle.h"
#include "oauth/login/user_authenticator.h"
#include "oauth/service/service_catalog.h"
#include "oauth/token/ring_keys.h"
#include "oauth/token/token_service.h"
#include "store/db.h"
#include "store/sql/code_store.h"
#include "store/sql/key_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/token_state_store.h"

namespace portcullis::app {
namespace {

// Every store-backed piece of the product, built once per process. Which routes are served
// depends on config.server.services; the pieces are shared (the key ring signs for the token
// service and publishes for the key service).
class ServiceSet final : public Services {
 public:
  ServiceSet(const Config& config, store::Database& db, oauth::MasterKey master)
      : config_(config),
        db_(db),
        clock_(SystemClock::Instance()),
        secrets_(DerivePepper(master)),
        clients_(db),
        key_store_(db),
        codes_(db),
        refresh_tokens_(db),
        reference_tokens_(db),
        deny_list_(db),
        assertion_jtis_(db),
        throttle_(clock_, config.login.max_failures, config.login.window_s,
                  config.login.max_ip_failures),
        users_(db, throttle_),
        revoked_(deny_list_, clock_, oauth::DenyListRetention(config.token.leeway_s)),
        services_(db),
        master_(std::move(master)) {}

  Status Init() {
    oauth::KeyManagerConfig kc = KeyManagerSettings(config_);
    auto km = oauth::KeyManager::Create(key_store_, clock_, Random::System(), master_, kc);
    if (!km) return Fail(km.error());
    keys_ = std::move(*km);
    // Another instance may already keep the keys: read them, and only make the first key when
    // there is none to sign with.
    if (auto s = keys_->Reload(); !s) return s;
    if (!keys_->ring()->signer()) {
      if (auto s = keys_->Tick(); !s) return s;
    }
    ring_keys_ = std::make_unique<oauth::RingKeys>(*keys_, clock_, config_.token.leeway_s);

    if (!config_.bootstrap.client_id.empty()) {
      auto c = oauth::EnsureBootstrapClient(db_, secrets_, config_.bootstrap.client_id,
                                            Secret(config_.bootstrap.client_secret), clock_);
      if (!c) return Fail(c.error());
      // An existing client keeps its secret; a configured one that differs would otherwise be
      // ignored in silence, and every call with it refused as a wrong secret.
      if (!secrets_.Verify(config_.bootstrap.client_secret, c->secret_hash)) {
        log::Warn("bootstrap.secret_mismatch",
                  {{"client_id", c->client_id},
                   {"message",
                    "the store already has this client with a different secret; "
                    "bootstrap.client_secret (PORTCULLIS_BOOTSTRAP_CLIENT_SECRET) is ignored and "
                    "does not authenticate"},
                   {"hint", "use the stored secret, or run `portcullis client rotate-secret " +
                                c->client_id + "` and configure the secret it prints"}});
      }
    }
    if (auto s = clients_.Reload(); !s) return s;
    if (auto s = revoked_.Reload(); !s) return s;
    if (auto s = services_.Reload(); !s) return s;

    oauth::TokenSettings ts;
    ts.issuer = config_.server.issuer;
    ts.token_endpoint = config_.server.issuer + "/oauth2/token";
    ts.default_audience = config_.token.audience;
    ts.access_token_ttl = config_.token.access_token_ttl_s;
    ts.refresh_token_ttl = config_.token.refresh_token_ttl_s;
    ts.bootstrap_token_ttl = config_.token.bootstrap_token_ttl_s;
    ts.bootstrap_client_id = config_.bootstrap.client_id;
    ts.leeway_s = config_.token.leeway_s;
    tokens_ = std::make_unique<oauth::TokenService>(
        ts, clients_, secrets_, *ring_keys_, db_,
        oauth::TokenStores{codes_, refresh_tokens_, reference_tokens_, assertion_jtis_}, users_,
        revoked_, clock_, Random::System());
    // The admin APIs take tokens whose aud is the issuer or an admin audience (README "Admin
    // privileges"); by default also token.audience, which tokens asked without a resource get.
    std::vector<std::string> admin_audiences = oauth::SplitScope(
        config_.admin.audience.empty() ? config_.token.audience : config_.admin.audience);
    admin_auth_ = std::make_unique<api::JwtAdminAuth>(*ring_keys_, revoked_, ts.issuer,
                                                      std::move(admin_audiences), &clients_);
    return {};
  }

  void Register(http::Router& router) override {
    if (config_.Serves("token")) {
      api::RegisterTokenApi(router, *tokens_);
      // Resource-server side: GET /oauth2/verify (gateways) and GET /oauth2/revoked.
      api::RegisterVerifyApi(
          router, {*ring_keys_, revoked_, services_, *admin_auth_, config_.server.issuer,
                   config_.token.audience.empty() ? config_.server.issuer : config_.token.audience,
                   config_.verify.default_service});
      api::RegisterDiscovery(
          router, {config_.server.issuer, config_.Serves("code"), config_.Serves("key")});
    }
    if (config_.Serves("key")) {
      api::Federation::Options fo;
      fo.ca_file = config_.federation.ca_file;
      fo.max_entries = static_cast<size_t>(config_.federation.cache_max_entries);
      fo.max_in_flight = static_cast<int>(config_.federation.max_in_flight);
      federation_ = std::make_unique<api::Federation>(db_, clock_, std::move(fo));
      api::RegisterKeyApi(router, *keys_, *tokens_, *admin_auth_, *federation_,
                          {config_.keys.provider_id, config_.keys.jwks_max_age_s});
    }
    registry_deps_ = std::make_unique<api::RegistryDeps>(api::RegistryDeps{
        db_, clock_, Random::System(), secrets_, *admin_auth_, clients_, &services_, &throttle_});
    api::RegisterRegistryApis(router, *registry_deps_, config_.server.services);
    if (config_.Serves("client")) {
      api::RegisterDelegationApi(router, db_, *admin_auth_, clock_);
    }
    // Code service: authorization endpoint, sign-in, consent, logout (api/code_api.h).
    if (config_.Serves("code")) {
      oauth::AuthorizationSettings as;
      as.issuer = config_.server.issuer;
      as.code_ttl = config_.token.code_ttl_s;
      as.basic_auth_implicit_consent = config_.code.basic_auth_implicit_consent;
      code_deps_ = std::make_unique<api::CodeApiDeps>(as, clients_, db_, codes_, clock_,
                                                      Random::System(), master_.bytes());
      code_deps_->authenticators.AddDefault(std::make_shared<oauth::UserStoreLogin>(users_));
      api::RegisterCodeApi(router, *code_deps_);
    }
  }

  // Background work: key rotation ticks, reloads after changes made elsewhere (other
  // instances, the CLI), and purging of expired rows. Store notifications only raise flags:
  // the reload itself happens on this thread, never inside the notifier's transaction.
  void Start() override {
    db_.Subscribe([this](std::string_view kind, std::string_view id) {
      std::lock_guard lock(mu_);
      if (kind == "client") {
        dirty_clients_.emplace_back(id);
      } else if (kind == "key") {
        dirty_keys_ = true;
      } else if (kind == "revoked") {
        dirty_revoked_ = true;
      } else if (kind == "service") {
        dirty_services_.emplace_back(id);
      } else if (kind == "*") {
        dirty_all_ = true;
      }
      cv_.notify_one();
    });
    worker_ = std::thread([this] { Loop(); });
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

 private:
  void Loop() {
    int64_t next_tick = 0, next_purge = 0, next_full = 0;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) break;
      auto clients = std::move(dirty_clients_);
      dirty_clients_.clear();
      auto services = std::exchange(dirty_services_, {});
      bool keys = std::exchange(dirty_keys_, false);
      bool revoked = std::exchange(dirty_revoked_, false);
      bool all = std::exchange(dirty_all_, false);
      lock.unlock();
      int64_t now = clock_.Now();
      if (all || now >= next_full) {
        // Covers missed notifications and reconnects (ARCHITECTURE.md).
        Report("clients.reload", clients_.Reload());
        Report("revoked.reload", revoked_.Reload());
        Report("services.reload", services_.Reload());
        Report("keys.reload", keys_->Reload());
        next_full = now + 60;
      } else {
        for (const auto& id : clients) Report("clients.refresh", clients_.Refresh(id));
        for (const auto& id : services) Report("services.refresh", services_.Refresh(id));
        if (keys) Report("keys.reload", keys_->Reload());
        if (revoked) Report("revoked.reload", revoked_.Reload());
      }
      // Scheduled jobs run on one instance at a time: the holder of the "scheduler" lease.
      const int64_t purge_every = config_.store.purge_interval_s;
      if (now >= next_tick && HoldLease(now)) {
        Report("keys.tick", keys_->Tick());
        if (now >= next_purge) {
          Report("token.purge", tokens_->Purge());
          if (code_deps_) Report("sso.purge", code_deps_->sessions.Purge());
          next_purge = now + purge_every;
        }
      }
      if (now >= next_tick) next_tick = now + std::min<int64_t>(5, purge_every);
      lock.lock();
    }
  }

  // A lease in job_locks, renewed by its holder and taken over once it lapses; the same SQL on
  // both backends (ARCHITECTURE.md suggests PostgreSQL advisory locks, but they bind to one
  // pooled connection, which this pool does not pin).
  bool HoldLease(int64_t now) {
    auto row = db_.QueryRow(
        "INSERT INTO job_locks (name, holder, expires_at) VALUES ('scheduler', $1, $2)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
        " expires_at = excluded.expires_at"
        " WHERE job_locks.expires_at < $3 OR job_locks.holder = excluded.holder"
        " RETURNING holder",
        {store::Text(instance_id_), store::Int(now + 15), store::Int(now)});
    if (!row) {
      Report("jobs.lease", Fail(row.error()));
      return false;
    }
    return row->has_value();
  }

  static void Report(std::string_view what, const Status& s) {
    if (!s) {
      log::Warn("background.failed",
                {{"task", what},
                 {"error", s.error().detail.empty() ? s.error().description : s.error().detail}});
    }
  }

  Config config_;
  store::Database& db_;
  const Clock& clock_;
  oauth::SecretHasher secrets_;
  oauth::ClientCatalog clients_;
  store::SqlKeyStore key_store_;
  // tokenstore: the token state's SQL stores.
  store::SqlAuthCodeStore codes_;
  store::SqlRefreshTokenStore refresh_tokens_;
  store::SqlReferenceTokenStore reference_tokens_;
  store::SqlDenyList deny_list_;
  store::SqlAssertionJtiStore assertion_jtis_;
  oauth::LoginThrottle throttle_;
  oauth::SqlUserAuthenticator users_;
  oauth::RevocationList revoked_;
  oauth::ServiceCatalog services_;  // endpoint->scope tables for /oauth2/verify
  oauth::MasterKey master_;
  std::unique_ptr<oauth::KeyManager> keys_;
  std::unique_ptr<oauth::RingKeys> ring_keys_;
  std::unique_ptr<oauth::TokenService> tokens_;
  std::unique_ptr<api::JwtAdminAuth> admin_auth_;
  std::unique_ptr<api::RegistryDeps> registry_deps_;
  std::unique_ptr<api::Federation> federation_;
  std::unique_ptr<api::CodeApiDeps> code_deps_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> dirty_clients_;
  std::vector<std::string> dirty_services_;
  bool dirty_keys_ = false, dirty_revoked_ = false, dirty_all_ = false;
  std::thread worker_;
  const std::string instance_id_ = Random::System().Token(12);
};

}  // namespace

Result<std::unique_ptr<Services>> BuildServices(const Config& config, store::Database& db) {
  auto master = LoadMasterKey(config);
  if (!master) return Fail(master.error());
  auto set = std::make_unique<ServiceSet>(config, db, std::move(*master));
  if (auto s = set->Init(); !s) {
    Error e = s.error();
    if (e.description.empty() || e.http_status >= 500) {
      e.description = "start-up failed: " + (e.detail.empty() ? e.description : e.detail);
    }
    return Fail(e);
  }
  return std::unique_ptr<Services>(std::move(set));
}

}  // namespace portcullis::app
