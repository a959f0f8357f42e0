#pragma once
// The parts that several service modules use, built lazily: a part exists in a process only
// when a selected module asked for it (modules.h). Each part, when built, loads its initial
// state and registers its own change kinds and jobs on the Background, so a process follows
// exactly the changes of what it holds.
//
//   part            built for                       follows            jobs
//   KeyRing         every module that verifies      "key", full reload
//                   admin tokens (read-only)
//   SigningKeys     token, key (may create keys)    (KeyRing's)        keys.tick (leased)
//   Clients         admin auth, token, code         "client", full     (bootstrap client made
//                                                                      before the first load)
//   Revoked         admin auth, token               "revoked", full
//   ServiceCatalog  token (/oauth2/verify)          "service", full
//   AdminAuth       every admin API (needs KeyRing, Revoked, Clients)
//   Tokens          token, key (needs SigningKeys, Clients, Users, Revoked)
//   Registry        client, service, user, provider, refresh-token
//
// Only SigningKeys may create or rotate keys (KeyManager::Tick): a process without the token
// and key modules reads the ring and never writes it.
//
// Ownership and lifetimes: Shared owns every part it built; they live as long as Shared, which
// outlives the modules and the router that borrow them (Services in services.cc owns both).
// Thread-safety: the accessors are called while modules are built, on one thread, never
// concurrently; the parts themselves are thread-safe as their headers say.

#include <memory>
#include <optional>

#include "api/jwt_admin_auth.h"
#include "api/registry_api.h"
#include "app/config.h"
#include "app/modules/background.h"
#include "app/modules/grant_lookups.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/client/client_catalog.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/device/user_code.h"
#include "oauth/key/key_manager.h"
#include "oauth/key/master_key.h"
#include "oauth/login/throttle.h"
#include "oauth/login/user_authenticator.h"
#include "oauth/refresh/grant_revocation.h"
#include "oauth/service/service_catalog.h"
#include "oauth/token/client_jwks.h"
#include "oauth/token/ring_keys.h"
#include "oauth/token/token_service.h"
#include "oauth/totp/password_gate.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"
#include "store/sql/code_store.h"
#include "store/sql/consent_store.h"
#include "store/sql/delegation_store.h"
#include "store/sql/device_store.h"
#include "store/sql/key_store.h"
#include "store/sql/logout_store.h"
#include "store/sql/par_store.h"
#include "store/sql/provider_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/service_store.h"
#include "store/sql/session_store.h"
#include "store/sql/token_state_store.h"
#include "store/sql/totp_store.h"
#include "store/sql/user_store.h"

namespace portcullis::app {

// The JWS algorithms this configuration signs ID tokens with (RS256 plus keys.algorithm,
// oidc::IdTokenAlgs): discovery lists them and client registration accepts only them.
std::vector<std::string> IdTokenAlgNames(const Config& c);

class Shared {
 public:
  // `config`, `db` and `background` must outlive this object.
  Shared(const Config& config, store::Database& db, oauth::MasterKey master,
         Background& background);
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  const Config& config() const { return config_; }
  store::Database& db() { return db_; }
  const Clock& clock() const { return clock_; }
  Random& random() { return Random::System(); }
  const oauth::MasterKey& master() const { return master_; }
  Background& background() { return background_; }
  const oauth::SecretHasher& secrets() const { return secrets_; }

  // The domain stores over `db` (stateless: cheap to build, no I/O until called).
  store::SqlAuditLog& audit() { return audit_; }
  store::SqlClientStore& client_store() { return client_store_; }
  store::SqlDelegationStore& delegation_store() { return delegations_; }
  store::SqlUserStore& user_store() { return user_store_; }
  store::SqlServiceStore& service_store() { return service_store_; }
  store::SqlProviderStore& provider_store() { return provider_store_; }
  store::SqlSessionStore& session_store() { return session_store_; }
  store::SqlConsentStore& consent_store() { return consent_store_; }
  store::SqlAuthCodeStore& code_store() { return codes_; }
  store::SqlRefreshTokenStore& refresh_token_store() { return refresh_tokens_; }
  // device: device authorization grants (RFC 8628) and the keyed hash of their user codes.
  store::SqlDeviceGrantStore& device_store() { return device_store_; }
  const oauth::UserCodeHasher& user_codes() const { return user_codes_; }
  // par: pushed authorization requests (RFC 9126), written by the token service's /oauth2/par
  // and read and consumed by the code service's authorization endpoint.
  store::SqlPushedRequestStore& par_store() { return par_store_; }
  // Ends what a user holds when their rights are cut (over the stores above).
  const oauth::GrantRevocation& revocation() const { return revocation_; }

  // The published keys, read from the store and reloaded on "key" notifications.
  Result<oauth::KeyManager*> KeyRing();
  // The same manager, owned for writing: makes the first key when the store has none to sign
  // with, and rotates keys on the leased job "keys.tick".
  Result<oauth::KeyManager*> SigningKeys();
  // Signs and verifies with the ring (verifying needs only KeyRing).
  Result<oauth::RingKeys*> TokenKeys();
  Result<oauth::ClientCatalog*> Clients();
  Result<oauth::RevocationList*> Revoked();
  Result<oauth::ServiceCatalog*> Services();
  // Null unless a module asked for Services().
  oauth::ServiceCatalog* ServicesIfBuilt() { return services_.get(); }
  // The token service when a module built it (the token module is built first), else null.
  oauth::TokenService* TokensIfBuilt() { return tokens_.get(); }
  oauth::LoginThrottle& Throttle();
  oauth::LocalUserAuthenticator& Users();
  Result<api::JwtAdminAuth*> AdminAuth();
  Result<oauth::TokenService*> Tokens();
  // The registry routes, shared by the registry modules. Call it from Module::Register (after
  // every module is built), so that it sees whether a ServiceCatalog exists.
  Result<api::RegistryRoutes*> Registry();

 private:
  const Config& config_;
  store::Database& db_;
  const Clock& clock_;
  const oauth::MasterKey master_;
  Background& background_;
  const oauth::SecretHasher secrets_;
  store::SqlAuditLog audit_;
  store::SqlClientStore client_store_;
  store::SqlDelegationStore delegations_;
  store::SqlUserStore user_store_;
  store::SqlServiceStore service_store_;
  store::SqlProviderStore provider_store_;
  store::SqlSessionStore session_store_;
  store::SqlConsentStore consent_store_;
  store::SqlAuthCodeStore codes_;
  store::SqlRefreshTokenStore refresh_tokens_;
  store::SqlReferenceTokenStore reference_tokens_;
  store::SqlDenyList deny_list_;
  store::SqlAssertionJtiStore assertion_jtis_;
  store::SqlDeviceGrantStore device_store_;
  store::SqlPushedRequestStore par_store_;
  const oauth::UserCodeHasher user_codes_;
  // Back-channel logout's participants and outbox: a user's sessions ending (revocation_) queue
  // logout tokens here (oauth/logout/backchannel.h).
  store::SqlLogoutStore logout_store_;
  oauth::GrantRevocation revocation_;

  std::unique_ptr<store::SqlKeyStore> key_store_;
  std::unique_ptr<oauth::KeyManager> keys_;
  bool signing_ = false;
  std::unique_ptr<oauth::RingKeys> ring_keys_;
  std::unique_ptr<oauth::ClientCatalog> clients_;
  std::unique_ptr<oauth::RevocationList> revoked_;
  std::unique_ptr<oauth::ServiceCatalog> services_;
  std::unique_ptr<oauth::LoginThrottle> throttle_;
  std::unique_ptr<oauth::LocalUserAuthenticator> users_;
  // The token service checks passwords through it: users with a second factor are refused
  // (oauth/totp/password_gate.h).
  std::unique_ptr<store::SqlTotpStore> totp_store_;
  std::unique_ptr<oauth::PasswordGate> password_gate_;
  std::unique_ptr<api::JwtAdminAuth> admin_auth_;
  std::unique_ptr<StoreGrantLookups> grant_lookups_;
  // Before tokens_, which borrows it (private_key_jwt with jwksUri).
  std::unique_ptr<oauth::ClientJwksCache> client_jwks_;
  std::unique_ptr<oauth::TokenService> tokens_;
  std::unique_ptr<api::RegistryRoutes> registry_;
};

}  // namespace portcullis::app
