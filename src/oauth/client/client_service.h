#pragma once
// The client registry (reference §7): create, read, update, delete, secret rotation, and the
// links from a client to service endpoints from which its scope is derived.
//
// Every write is one transaction (store::Database::Transact) that writes through the ClientStore,
// records its audit entry (AuditLog) and announces the change (store Notify "client"), and is
// followed by a refresh of the ClientCatalog when one is given.
// A link change recomputes the client's scope from its links and persists it in the same
// transaction (light-oauth2 updated its cache and database separately and drifted: issues #80,
// #111).
//
// Secrets: generated here, 256 bits (32 random bytes, base64url), returned once in the result,
// stored only as SecretHasher digests.
//
// Thread-safety: safe from any thread; every call blocks on the store (store pool only).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"
#include "oauth/audit/audit.h"
#include "oauth/client/authority.h"
#include "oauth/client/client.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/client_json.h"
#include "oauth/client/client_store.h"
#include "oauth/client/grant_type.h"
#include "oauth/credentials/secret_hash.h"
#include "store/db.h"

namespace portcullis::oauth {

inline constexpr size_t kClientSecretBytes = 32;

struct ClientWithSecret {
  Client client;
  std::optional<Secret> secret;  // set when this call generated a new secret
};

struct ScopeChange {
  std::string old_scope;
  std::string new_scope;
};

struct ClientPage {
  std::vector<Client> clients;
  int64_t total = 0;  // clients matching the filter
};

// The enum members of a patch that name no value (clientType, tokenProfile, authMethod, as
// given). ApplyPatch leaves those fields as they were; ValidateClient reports them in its order.
struct RejectedEnums {
  std::optional<std::string> client_type;
  std::optional<std::string> token_profile;
  std::optional<std::string> auth_method;
  std::optional<std::string> profile;
  std::optional<std::string> second_factor;
};

// What a deployment allows at registration beyond the fixed rules.
struct RegistrationPolicy {
  // The grant types a client may list, with their rules: the token domain's grant registry
  // (GrantRegistry::Default().types()), so that registration accepts exactly the grants the
  // token endpoint serves. Empty: no grant type is accepted. The entries must outlive the policy.
  std::span<const GrantType> grant_types;
  // The JWS algorithms this server holds ID-token keys for (RS256 plus keys.algorithm,
  // oidc::IdTokenAlgs), which idTokenSignedResponseAlg may name; empty: RS256, PS256, ES256
  // and EdDSA.
  std::vector<std::string> id_token_algs;
  // config jwks_uri.allow_http_loopback: a jwksUri may be http to a loopback host.
  bool allow_http_loopback_jwks_uri = false;
};
// Value rules for a complete client: types, lengths, enums, redirect URIs, grant types (the
// policy's list) against the client type, auth method against jwks/jwksUri, custom claims,
// derefClientId (ERR12043), and the static rules of profile fapi2 (README "FAPI 2.0 profile").
Status ValidateClient(const Client& c, const RejectedEnums& rejected = {},
                      const RegistrationPolicy& policy = {});
// Profile fapi2 without idTokenSignedResponseAlg: the first algorithm of the policy's that is not
// RS256 (keys.algorithm), so ID and logout tokens are never RS256-signed (FAPI 2.0 §5.4.1).
// Leaves the client alone otherwise; ValidateClient refuses what is still not allowed.
void ApplyProfileDefaults(Client& c, const RegistrationPolicy& policy);
// The grants a client of this type gets when a create names none: light-oauth2's behaviour
// (reference §4.4), minus client_credentials for public clients (RFC 6749 §4.4).
std::vector<std::string> DefaultGrantTypes(ClientType client_type);
// Merges `patch` into `client` (absent members keep their values). Pass the result to
// ValidateClient.
[[nodiscard]] RejectedEnums ApplyPatch(const ClientPatch& patch, Client& client);

class ClientService {
 public:
  // `catalog` may be null (CLI, import): then only the store notification announces changes.
  // `grant_types`: what a client may list (RegistrationPolicy::grant_types). Every reference
  // must outlive the service; `db` opens the transactions `store` and `audit` write in.
  ClientService(store::Database& db, ClientStore& store, audit::AuditLog& audit, const Clock& clock,
                Random& random, const SecretHasher& secrets, ClientCatalog* catalog,
                std::span<const GrantType> grant_types);

  // `actor` is recorded in the audit log; `default_owner` is the ownerId when none is given.
  // Every write checks `by` against the client as it was and as it will be (authority.h:
  // admin scopes, trust, owner) inside its transaction; the default is the CLI's full
  // authority.
  Result<ClientWithSecret> Create(const ClientPatch& patch, std::string_view actor,
                                  std::string_view default_owner,
                                  const Authority& by = Authority::Full());
  // Merges the patch into the stored client. Switching to a secret-based auth method from one
  // without a secret generates one (returned); switching away deletes the digest.
  Result<ClientWithSecret> Update(std::string_view client_id, const ClientPatch& patch,
                                  std::string_view actor, const Authority& by = Authority::Full());
  Result<Client> Get(std::string_view client_id);
  Result<ClientPage> List(const ClientListQuery& query);
  // Removes the client, its links and its refresh tokens (and codes, reference tokens,
  // consents) in one transaction; returns the client as it was.
  Result<Client> Delete(std::string_view client_id, std::string_view actor,
                        const Authority& by = Authority::Full());
  Result<ClientWithSecret> RotateSecret(std::string_view client_id, std::string_view actor,
                                        const Authority& by = Authority::Full());

  Result<ClientLinkMap> Links(std::string_view client_id);
  Result<std::vector<std::string>> ServiceLinks(std::string_view client_id,
                                                std::string_view service_id);
  // Replaces the client's links to `service_id` with `endpoints` (ERR12014 unknown client,
  // ERR12015 unknown service, ERR12042 unknown endpoint, ERR11004 duplicates) and recomputes
  // the scope. An empty list changes nothing (light-oauth2 answers `{}`).
  Result<ScopeChange> Link(std::string_view client_id, std::string_view service_id,
                           const std::vector<std::string>& endpoints, std::string_view actor,
                           const Authority& by = Authority::Full());
  // Removes the links to one service, or all links when `service_id` is nullopt.
  Result<ScopeChange> Unlink(std::string_view client_id, std::optional<std::string_view> service_id,
                             std::string_view actor, const Authority& by = Authority::Full());

  // Checks a client secret; a legacy PBKDF2 digest that matches is replaced by a keyed digest.
  // ERR12014 unknown client.
  Result<bool> VerifySecret(std::string_view client_id, const Secret& secret);

  // The algorithms idTokenSignedResponseAlg may name: those the key ring signs ID tokens with,
  // so a client never registers one the token endpoint could not honour.
  void SetIdTokenAlgs(std::vector<std::string> algs) { policy_.id_token_algs = std::move(algs); }
  // config jwks_uri.allow_http_loopback: a jwksUri may be http:// to a loopback host (tests,
  // development). Off by default: https only. Set before use; not synchronized.
  void AllowHttpLoopbackJwksUri(bool allow) { policy_.allow_http_loopback_jwks_uri = allow; }

 private:
  void RefreshCatalog(std::string_view client_id);
  RegistrationPolicy policy_;
  store::Database& db_;
  ClientStore& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Random& random_;
  const SecretHasher& secrets_;
  ClientCatalog* catalog_;
};

// Replaces a legacy (PBKDF2) digest by a keyed one after `secret` was verified against it. The
// update is conditional on the stored digest being unchanged, so concurrent upgrades are
// harmless. For the token service, which verifies from the catalog.
Status UpgradeLegacySecret(store::Database& db, ClientStore& store, audit::AuditLog& audit,
                           const SecretHasher& secrets, const Clock& clock,
                           std::string_view client_id, std::string_view legacy_hash,
                           const Secret& secret);

}  // namespace portcullis::oauth
