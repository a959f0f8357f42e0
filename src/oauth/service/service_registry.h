#pragma once
// The service registry (reference §8): services and their endpoints.
//
// Beyond light-oauth2: replacing a service's endpoints keeps the client links of endpoints that
// stay (upstream deleted and re-inserted every endpoint), and whenever endpoints or a service go
// away or change scope, the scope of every client linked to them is recomputed and persisted
// in the same transaction (reference §7.3).
//
// Every write records an audit entry and notifies "service" (and "client" for each client whose
// scope it recomputed) inside its transaction, then refreshes the catalogs it was given.
//
// Ownership: borrows everything it is given (database, stores, audit log, clock, catalogs);
// each must outlive the registry.
//
// Thread-safety: safe from any thread; every call blocks on the store (store pool only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/audit/audit.h"
#include "oauth/client/authority.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/client_store.h"
#include "oauth/service/service.h"
#include "oauth/service/service_catalog.h"
#include "oauth/service/service_store.h"
#include "store/db.h"

namespace portcullis::oauth {

class ServiceRegistry {
 public:
  // `db` opens the transactions that `store`, `client_store` (the links and the scope they
  // derive), and `audit` share. Either catalog may be null.
  ServiceRegistry(store::Database& db, ServiceStore& store, ClientStore& client_store,
                  audit::AuditLog& audit, const Clock& clock, ServiceCatalog* services,
                  ClientCatalog* clients);

  // Every write checks `by` (authority.h) inside its transaction: the owner rule always, and
  // for writes that change endpoints (and so the scope of linked clients) the admin-scope rule
  // over the endpoints' scopes before and after. The default is the CLI's full authority.

  // ERR12018 when the id exists.
  Result<Service> Create(const ServicePatch& patch, std::string_view actor,
                         std::string_view default_owner, const Authority& by = Authority::Full());
  // ERR12015 when unknown.
  Result<Service> Update(std::string_view service_id, const ServicePatch& patch,
                         std::string_view actor, const Authority& by = Authority::Full());
  Result<Service> Get(std::string_view service_id);
  // Sorted by serviceId; `host_prefix` filters.
  Result<ServicePage> List(std::string_view host_prefix, int64_t offset, int64_t limit);
  // Deletes the service, its endpoints and the client links to them.
  Result<Service> Delete(std::string_view service_id, std::string_view actor,
                         const Authority& by = Authority::Full());

  // Replaces the endpoints (ERR12015 unknown service).
  Status SetEndpoints(std::string_view service_id, const std::vector<Endpoint>& endpoints,
                      std::string_view actor, const Authority& by = Authority::Full());
  // ERR12042 when the service has none (or does not exist: light-oauth2 answers so).
  Result<std::vector<Endpoint>> Endpoints(std::string_view service_id);
  Status DeleteEndpoints(std::string_view service_id, std::string_view actor,
                         const Authority& by = Authority::Full());

 private:
  void AfterWrite(std::string_view service_id, const std::vector<std::string>& clients);
  store::Database& db_;
  ServiceStore& store_;
  ClientStore& client_store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  ServiceCatalog* services_;
  ClientCatalog* clients_;
};

}  // namespace portcullis::oauth
