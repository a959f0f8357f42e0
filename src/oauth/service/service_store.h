#pragma once
// Persistence of services and their endpoints (light-oauth2 reference §8). The SQL
// implementation is store::SqlServiceStore (store/sql/service_store.h); unit tests use
// MemoryServiceStore (memory_service_store.h).
//
// Two kinds of calls:
//   - Writes and locked reads take the caller's transaction `tx` (from store::Database::
//     Transact), so a service change commits together with its audit entry and the recomputed
//     scopes of linked clients. Each write announces itself: tx.Notify("service", id), sent
//     when the transaction commits.
//   - Plain reads stand alone (no transaction of the caller's).
//
// Endpoint lists are sorted by endpoint id in byte order on every implementation.
// Client links (table client_endpoints) belong to the client store; this store only removes
// the links of the endpoints it removes, so no link outlives its endpoint.
//
// Thread-safety: implementations are safe to call from many threads; every call blocks (store
// pool only, never an I/O thread). `tx` is borrowed for the call only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/service/service.h"
#include "store/db.h"

namespace portcullis::oauth {

// ERR12018: what Insert returns when the service id is taken (every implementation).
Error ServiceExists(std::string_view service_id);

// What DeclaredScopes answers for a service with `endpoints` (sorted): their scopes split on
// spaces, each once, in endpoint order. Shared by the implementations.
std::vector<std::string> DeclaredScopesOf(const std::vector<Endpoint>& endpoints);

class ServiceStore {
 public:
  virtual ~ServiceStore() = default;

  // --- Inside the caller's transaction.

  // ServiceExists when the id is taken.
  virtual Status Insert(store::Tx& tx, const Service& service) = 0;
  // The service, holding its row lock until `tx` ends (PostgreSQL; SQLite's writer lock
  // already serializes); nullopt when unknown.
  virtual Result<std::optional<Service>> LoadForUpdate(store::Tx& tx,
                                                       std::string_view service_id) = 0;
  // Writes every field but service_id and created_at of an existing service.
  virtual Status Update(store::Tx& tx, const Service& service) = 0;
  // Deletes the service, its endpoints and the client links to them.
  virtual Status Delete(store::Tx& tx, std::string_view service_id) = 0;
  virtual Result<std::vector<Endpoint>> Endpoints(store::Tx& tx, std::string_view service_id) = 0;
  // Makes `endpoints` the service's endpoints: those not in the list go away with their client
  // links; the others are inserted or updated in place, keeping their links.
  virtual Status ReplaceEndpoints(store::Tx& tx, std::string_view service_id,
                                  const std::vector<Endpoint>& endpoints) = 0;

  // --- Standalone reads.

  virtual Result<std::optional<Service>> Get(std::string_view service_id) = 0;
  // Services whose host starts with `host_prefix`, sorted by service id (byte order), with the
  // number of matches.
  virtual Result<ServicePage> List(std::string_view host_prefix, int64_t offset, int64_t limit) = 0;
  virtual Result<std::vector<Endpoint>> ListEndpoints(std::string_view service_id) = 0;
  // Every service with its endpoints, in any order (the in-memory ServiceCatalog).
  virtual Result<std::vector<ServiceEntry>> LoadAll() = 0;
  // One service with its endpoints; nullopt when unknown.
  virtual Result<std::optional<ServiceEntry>> LoadEntry(std::string_view service_id) = 0;
  // For RFC 8707 / RFC 8693 targets: nullopt when no such service; else the scopes its
  // endpoints declare, split on spaces, each once, in endpoint order.
  virtual Result<std::optional<std::vector<std::string>>> DeclaredScopes(
      std::string_view service_id) = 0;
};

}  // namespace portcullis::oauth
