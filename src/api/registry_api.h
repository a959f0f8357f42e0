#pragma once
// HTTP bindings of the registries, light-oauth2's admin REST contract (reference §7-§11):
//
//   client         /oauth2/client[/{clientId}[/service[/{serviceId}]]], /oauth2/client/{id}/secret
//   service        /oauth2/service[/{serviceId}[/endpoint]]
//   user           /oauth2/user[/{userId}], /oauth2/password/{userId},
//                  /oauth2/user/{userId}/sessions[/{sid}], /oauth2/user/{userId}/consents
//                  [/{clientId}], /oauth2/user/{userId}/password (an admin's reset)
//   provider       /oauth2/provider[/{providerId}]
//   refresh-token  /oauth2/refresh_token[/{refreshToken}]
//   (any of them)  /oauth2/audit
//
// Every call needs a bearer token from AdminAuth with the service's scope: portal.r/portal.w
// (client, service), oauth.user.r/w, read:provider/write:provider, oauth.refresh_token.r/w,
// oauth.audit.r. A write scope also grants the matching read. 401 without or with a bad token,
// 403 without the scope, checked before anything else; both with a WWW-Authenticate: Bearer
// challenge (RFC 6750 §3). Writes then pass the caller's Authority to the domain services,
// which refuse privilege escalation (oauth/client/authority.h).
//
// Paging keeps light-oauth2's conventions (reference §2.6): `page` is required (ERR11000);
// clients and services count pages from 0 and answer {"clients"|"services":[...],"total":n},
// where total counts the rows matching the filter (light-oauth2 counted all rows); users and
// refresh tokens count from 1 and answer a bare array. pageSize defaults to 10 (1..1000).
// Filters are prefixes: host (clients, services), userId (users, refresh tokens).
//
// Handlers validate on the I/O thread and run store work as http::Blocking; password hashing
// (user create, password change) runs on the hash pool.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/admin_auth.h"
#include "common/clock.h"
#include "common/random.h"
#include "http/router.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/client_store.h"
#include "oauth/client/grant_type.h"
#include "oauth/credentials/secret_hash.h"
#include "store/db.h"

namespace portcullis::oauth {
class ServiceCatalog;
class LoginThrottle;
}  // namespace portcullis::oauth

namespace portcullis::api {

struct RegistryDeps {
  store::Database& db;
  const Clock& clock;
  Random& random;
  const oauth::SecretHasher& secrets;
  const api::AdminAuth& auth;
  oauth::ClientCatalog& clients;
  oauth::ClientStore& client_store;
  oauth::audit::AuditLog& audit;
  // Optional: refreshed after service writes when given (the store notification "service"
  // announces them either way).
  oauth::ServiceCatalog* services = nullptr;
  // Optional: the sign-in throttle, which password changes share (a wrong current password is
  // a failed sign-in of that user).
  oauth::LoginThrottle* throttle = nullptr;
  // Optional: runs where a user's SSO sessions end (lock, delete, password change), in that
  // transaction: back-channel logout queues its tokens (GrantRevocation::OnUserSessionsEnd).
  std::function<Status(store::Tx&, std::string_view)> on_user_sessions_end;
  // Optional: runs where an administrator ends one SSO session (its sid), in that transaction:
  // back-channel logout queues its tokens (oauth/logout/backchannel.h SessionLogoutHook).
  std::function<Status(store::Tx&, std::string_view)> on_session_end;
  // The algorithms idTokenSignedResponseAlg may name (ClientService::SetIdTokenAlgs); empty:
  // every one Portcullis implements.
  std::vector<std::string> id_token_algs;
  // config jwks_uri.allow_http_loopback: clients may register an http jwksUri on loopback.
  bool jwks_uri_http_loopback = false;
  // config federation.allow_http_loopback: providers may register an http serverUrl on loopback.
  bool federation_http_loopback = false;
  // The grant types clients may list (RegistrationPolicy::grant_types): the grant registry's.
  std::span<const oauth::GrantType> grant_types;
};

namespace registry {
struct Context;
}

// The registry routes of one process, added area by area by the service modules that serve
// them (app/modules). The areas share one context (the domain services over `deps`); the
// audit route comes with the first area added. What `deps` refers to must outlive the router;
// the context itself is kept alive by the routes.
class RegistryRoutes {
 public:
  explicit RegistryRoutes(const RegistryDeps& deps);
  void AddClient(http::Router& router);
  void AddService(http::Router& router);
  void AddUser(http::Router& router);
  void AddProvider(http::Router& router);
  void AddRefreshToken(http::Router& router);

 private:
  void AddAudit(http::Router& router);
  std::shared_ptr<registry::Context> ctx_;
  bool audit_added_ = false;
};

// Registers the routes of the selected services among "client", "service", "user", "provider"
// and "refresh-token" (others are ignored); the audit route comes with any of them. What
// `deps` refers to must outlive the router.
void RegisterRegistryApis(http::Router& router, const RegistryDeps& deps,
                          const std::vector<std::string>& services);

}  // namespace portcullis::api
