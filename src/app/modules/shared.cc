#include "app/modules/shared.h"

#include "app/master_key.h"
#include "app/modules/totp_settings.h"
#include "common/log.h"
#include "jose/alg.h"
#include "oauth/client/bootstrap_client.h"
#include "oauth/client/client.h"
#include "oauth/logout/backchannel.h"
#include "oauth/oidc/id_token.h"
#include "oauth/token/grant_registry.h"

namespace portcullis::app {

std::vector<std::string> IdTokenAlgNames(const Config& c) {
  std::vector<std::string> out;
  auto primary = jose::ParseAlg(c.keys.algorithm);
  if (!primary) return out;  // config validation refuses it before any module is built
  for (jose::Alg a : oauth::oidc::IdTokenAlgs(*primary)) out.emplace_back(jose::AlgName(a));
  return out;
}

Shared::Shared(const Config& config, store::Database& db, oauth::MasterKey master,
               Background& background)
    : config_(config),
      db_(db),
      clock_(SystemClock::Instance()),
      master_(std::move(master)),
      background_(background),
      secrets_(DerivePepper(master_)),
      audit_(db),
      client_store_(db),
      delegations_(db),
      user_store_(db),
      service_store_(db),
      provider_store_(db),
      session_store_(db),
      consent_store_(db),
      codes_(db),
      refresh_tokens_(db),
      reference_tokens_(db),
      deny_list_(db),
      assertion_jtis_(db),
      device_store_(db),
      par_store_(db),
      user_codes_(master_.bytes()),
      logout_store_(db),
      revocation_(refresh_tokens_, codes_, session_store_, device_store_) {
  revocation_.OnUserSessionsEnd(oauth::UserLogoutHook(logout_store_, clock_, Random::System(),
                                                      config_.logout.backchannel_ttl_s));
}

Result<oauth::KeyManager*> Shared::KeyRing() {
  if (keys_) return keys_.get();
  key_store_ = std::make_unique<store::SqlKeyStore>(db_);
  auto km = oauth::KeyManager::Create(*key_store_, clock_, Random::System(), master_,
                                      KeyManagerSettings(config_));
  if (!km) return Fail(std::move(km.error()));
  // Another instance may already keep the keys: read them.
  if (auto s = (*km)->Reload(); !s) return Fail(std::move(s.error()));
  keys_ = std::move(*km);
  oauth::KeyManager* keys = keys_.get();
  background_.OnAnyChange("key", "keys.reload", [keys] { return keys->Reload(); });
  background_.OnFullReload("keys.reload", [keys] { return keys->Reload(); });
  return keys;
}

Result<oauth::KeyManager*> Shared::SigningKeys() {
  auto keys = KeyRing();
  if (!keys || signing_) return keys;
  // Make the first key only when there is none to sign with.
  if (!(*keys)->ring()->signer()) {
    if (auto s = (*keys)->Tick(); !s) return Fail(std::move(s.error()));
  }
  oauth::KeyManager* k = *keys;
  background_.AddJob("keys.tick", 0, [k] { return k->Tick(); });
  signing_ = true;
  return k;
}

Result<oauth::RingKeys*> Shared::TokenKeys() {
  if (ring_keys_) return ring_keys_.get();
  auto keys = KeyRing();
  if (!keys) return Fail(std::move(keys.error()));
  ring_keys_ = std::make_unique<oauth::RingKeys>(**keys, clock_, config_.token.leeway_s);
  return ring_keys_.get();
}

Result<oauth::ClientCatalog*> Shared::Clients() {
  if (clients_) return clients_.get();
  if (!config_.bootstrap.client_id.empty()) {
    auto c = oauth::EnsureBootstrapClient(db_, client_store_, audit_, secrets_,
                                          config_.bootstrap.client_id,
                                          Secret(config_.bootstrap.client_secret), clock_);
    if (!c) return Fail(std::move(c.error()));
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
  auto clients = std::make_unique<oauth::ClientCatalog>(client_store_);
  if (auto s = clients->Reload(); !s) return Fail(std::move(s.error()));
  clients_ = std::move(clients);
  oauth::ClientCatalog* c = clients_.get();
  background_.OnChange("client", "clients.refresh",
                       [c](std::string_view id) { return c->Refresh(id); });
  background_.OnFullReload("clients.reload", [c] { return c->Reload(); });
  return c;
}

Result<oauth::RevocationList*> Shared::Revoked() {
  if (revoked_) return revoked_.get();
  auto revoked = std::make_unique<oauth::RevocationList>(
      deny_list_, clock_, oauth::DenyListRetention(config_.token.leeway_s));
  if (auto s = revoked->Reload(); !s) return Fail(std::move(s.error()));
  revoked_ = std::move(revoked);
  oauth::RevocationList* r = revoked_.get();
  background_.OnAnyChange("revoked", "revoked.reload", [r] { return r->Reload(); });
  background_.OnFullReload("revoked.reload", [r] { return r->Reload(); });
  return r;
}

Result<oauth::ServiceCatalog*> Shared::Services() {
  if (services_) return services_.get();
  auto services = std::make_unique<oauth::ServiceCatalog>(service_store_);
  if (auto s = services->Reload(); !s) return Fail(std::move(s.error()));
  services_ = std::move(services);
  oauth::ServiceCatalog* c = services_.get();
  background_.OnChange("service", "services.refresh",
                       [c](std::string_view id) { return c->Refresh(id); });
  background_.OnFullReload("services.reload", [c] { return c->Reload(); });
  return c;
}

oauth::LoginThrottle& Shared::Throttle() {
  if (!throttle_) {
    throttle_ = std::make_unique<oauth::LoginThrottle>(
        clock_, config_.login.max_failures, config_.login.window_s, config_.login.max_ip_failures);
  }
  return *throttle_;
}

oauth::LocalUserAuthenticator& Shared::Users() {
  if (!users_) {
    users_ = std::make_unique<oauth::LocalUserAuthenticator>(db_, user_store_, Throttle(), audit_);
  }
  return *users_;
}

Result<api::JwtAdminAuth*> Shared::AdminAuth() {
  if (admin_auth_) return admin_auth_.get();
  auto keys = TokenKeys();
  if (!keys) return Fail(std::move(keys.error()));
  auto revoked = Revoked();
  if (!revoked) return Fail(std::move(revoked.error()));
  auto clients = Clients();
  if (!clients) return Fail(std::move(clients.error()));
  // The admin APIs take tokens whose aud is the issuer or an admin audience (README "Admin
  // privileges"); by default also token.audience, which tokens asked without a resource get.
  std::vector<std::string> audiences = oauth::SplitScope(
      config_.admin.audience.empty() ? config_.token.audience : config_.admin.audience);
  admin_auth_ = std::make_unique<api::JwtAdminAuth>(**keys, **revoked, config_.server.issuer,
                                                    std::move(audiences), *clients);
  return admin_auth_.get();
}

Result<oauth::TokenService*> Shared::Tokens() {
  if (tokens_) return tokens_.get();
  if (auto k = SigningKeys(); !k) return Fail(std::move(k.error()));
  auto keys = TokenKeys();
  if (!keys) return Fail(std::move(keys.error()));
  auto clients = Clients();
  if (!clients) return Fail(std::move(clients.error()));
  auto revoked = Revoked();
  if (!revoked) return Fail(std::move(revoked.error()));
  oauth::TokenSettings ts;
  ts.issuer = config_.server.issuer;
  ts.token_endpoint = config_.server.issuer + "/oauth2/token";
  ts.mtls_base_url = config_.server.mtls_base_url;
  ts.default_audience = config_.token.audience;
  ts.access_token_ttl = config_.token.access_token_ttl_s;
  ts.refresh_token_ttl = config_.token.refresh_token_ttl_s;
  ts.bootstrap_token_ttl = config_.token.bootstrap_token_ttl_s;
  ts.id_token_ttl = config_.token.id_token_ttl_s;
  ts.bootstrap_client_id = config_.bootstrap.client_id;
  ts.leeway_s = config_.token.leeway_s;
  ts.dpop.iat_window_s = config_.dpop.iat_window_s;
  ts.dpop.require_nonce = config_.dpop.require_nonce;
  ts.dpop.nonce_slot_s = config_.dpop.nonce_lifetime_s;
  ts.dpop.nonce_key = DpopNonceKey(master_);
  grant_lookups_ = std::make_unique<StoreGrantLookups>(
      db_, user_store_, delegations_, service_store_, client_store_, audit_, secrets_, clock_);
  // code.second_factor_realms resolved and checked here too: a token-only process has no code
  // module to stop start-up on a misspelt name or to map the built-in store's aliases.
  auto sfs = ResolvedSecondFactorSettings(config_);
  if (!sfs) return Fail(std::move(sfs.error()));
  // A refresh family or code from a password-only sign-in ends once these require a factor.
  ts.second_factor_roles = sfs->required_roles;
  ts.second_factor_realms = sfs->required_realms;
  totp_store_ = std::make_unique<store::SqlTotpStore>(db_);
  // Required roles and realms refuse local users here too.
  password_gate_ = std::make_unique<oauth::PasswordGate>(Users(), *totp_store_, std::move(*sfs));
  tokens_ = std::make_unique<oauth::TokenService>(
      ts, **clients, secrets_, **keys, db_,
      oauth::TokenStores{codes_, refresh_tokens_, reference_tokens_, assertion_jtis_,
                         &device_store_},
      *password_gate_, **revoked, clock_, Random::System(), *grant_lookups_);
  const auto& ju = config_.jwks_uri;
  oauth::JwksFetchOptions fo;
  fo.timeout_ms = static_cast<int>(ju.timeout_ms);
  fo.max_bytes = static_cast<size_t>(ju.max_bytes);
  fo.allow_http_loopback = ju.allow_http_loopback;
  fo.ca_file = ju.ca_file;
  oauth::ClientJwksCache::Options co;
  co.default_ttl_s = ju.default_cache_s;
  co.min_ttl_s = ju.min_cache_s;
  co.max_ttl_s = ju.max_cache_s;
  co.refetch_interval_s = ju.refetch_interval_s;
  co.stale_if_error_s = ju.stale_if_error_s;
  co.max_entries = static_cast<size_t>(ju.cache_max_entries);
  client_jwks_ = std::make_unique<oauth::ClientJwksCache>(
      oauth::HttpJwksFetcher(std::move(fo), clock_), clock_, co);
  tokens_->SetClientJwksCache(client_jwks_.get());
  return tokens_.get();
}

Result<api::RegistryRoutes*> Shared::Registry() {
  if (registry_) return registry_.get();
  auto auth = AdminAuth();
  if (!auth) return Fail(std::move(auth.error()));
  auto clients = Clients();
  if (!clients) return Fail(std::move(clients.error()));
  api::RegistryDeps deps{db_,
                         clock_,
                         Random::System(),
                         secrets_,
                         **auth,
                         **clients,
                         client_store_,
                         audit_,
                         ServicesIfBuilt(),
                         &Throttle(),
                         oauth::UserLogoutHook(logout_store_, clock_, Random::System(),
                                               config_.logout.backchannel_ttl_s)};
  deps.on_session_end = oauth::SessionLogoutHook(logout_store_, clock_, Random::System(),
                                                 config_.logout.backchannel_ttl_s);
  deps.id_token_algs = IdTokenAlgNames(config_);
  deps.jwks_uri_http_loopback = config_.jwks_uri.allow_http_loopback;
  deps.grant_types = oauth::GrantRegistry::Default().types();
  deps.federation_http_loopback = config_.federation.allow_http_loopback;
  registry_ = std::make_unique<api::RegistryRoutes>(deps);
  return registry_.get();
}

}  // namespace portcullis::app
