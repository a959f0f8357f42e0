#pragma once
// Persistence of clients and of their links to service endpoints (tables clients,
// client_endpoints). SQL implementation: store::SqlClientStore (src/store/sql/client_store.h);
// in-memory fake for unit tests: MemoryClientStore (memory_client_store.h).
//
// Methods that take a store::Tx& run inside the caller's transaction, so they commit together
// with the caller's other writes (audit rows, notifications, other domains' scope
// recomputation); they neither notify nor audit: ClientService does that around them. Find and
// FindAll stand alone (autocommit reads: on SQLite a transaction would take the write lock).
//
// Thread-safety: implementations are safe from any thread; every call blocks on the store
// (store pool or background threads only, never an I/O thread). Returned clients are copies.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"
#include "store/db.h"

namespace portcullis::oauth {

struct ClientListQuery {
  std::string host_prefix;
  int64_t offset = 0;
  int64_t limit = 10;
};

// service_id -> endpoint ids, both sorted (byte order).
using ClientLinkMap = std::map<std::string, std::vector<std::string>>;

// The error Insert fails with when the id exists (ERR12019, 400).
Error ClientExists(std::string_view client_id);

class ClientStore {
 public:
  virtual ~ClientStore() = default;

  // Stand-alone reads.
  virtual Result<std::optional<Client>> Find(std::string_view client_id) = 0;
  virtual Result<std::vector<Client>> FindAll() = 0;

  virtual Result<std::optional<Client>> Load(store::Tx& tx, std::string_view client_id) = 0;
  // Load, taking the row lock (PostgreSQL: SELECT ... FOR UPDATE), so concurrent link changes
  // and scope recomputations of one client queue instead of losing updates.
  virtual Result<std::optional<Client>> LoadForUpdate(store::Tx& tx,
                                                      std::string_view client_id) = 0;
  // Fails with ClientExists when the id exists. Writes every field of `c`.
  virtual Status Insert(store::Tx& tx, const Client& c) = 0;
  // Insert unless the id exists; false when it did (the stored client is left as it is). The
  // light-oauth2 importer's path, so a re-run skips what it already imported.
  virtual Result<bool> InsertIfAbsent(store::Tx& tx, const Client& c) = 0;
  // Writes every field but client_id and created_at. False when no such client.
  virtual Result<bool> Update(store::Tx& tx, const Client& c) = 0;
  // Sets the secret digest (empty: none) and updated_at. False when no such client.
  virtual Result<bool> UpdateSecretHash(store::Tx& tx, std::string_view client_id,
                                        std::string_view secret_hash, int64_t now) = 0;
  // Sets the digest only while the stored one is still `from` (a conditional update, so of
  // concurrent upgrades one wins). False when the client is gone or its digest changed.
  virtual Result<bool> ReplaceSecretHash(store::Tx& tx, std::string_view client_id,
                                         std::string_view from, std::string_view to,
                                         int64_t now) = 0;
  // Deletes the client with everything it owns: its links, refresh tokens, codes, reference
  // tokens, consents and delegation policies. False when no such client.
  virtual Result<bool> Delete(store::Tx& tx, std::string_view client_id) = 0;

  // Clients whose host starts with the prefix, sorted by clientName, then clientId (byte order).
  virtual Result<std::vector<Client>> List(store::Tx& tx, const ClientListQuery& q) = 0;
  virtual Result<int64_t> Count(store::Tx& tx, std::string_view host_prefix) = 0;

  // Links (client -> service endpoints).
  virtual Result<ClientLinkMap> Links(store::Tx& tx, std::string_view client_id) = 0;
  // The client's endpoints of one service, sorted.
  virtual Result<std::vector<std::string>> ServiceLinks(store::Tx& tx, std::string_view client_id,
                                                        std::string_view service_id) = 0;
  // Replaces the client's links to one service.
  virtual Status ReplaceServiceLinks(store::Tx& tx, std::string_view client_id,
                                     std::string_view service_id,
                                     const std::vector<std::string>& endpoints) = 0;
  // Removes the links to one service, or every link when `service_id` is nullopt.
  virtual Status DeleteLinks(store::Tx& tx, std::string_view client_id,
                             std::optional<std::string_view> service_id) = 0;
  // Clients with at least one link to the service, sorted by id.
  virtual Result<std::vector<std::string>> ClientsLinkedTo(store::Tx& tx,
                                                           std::string_view service_id) = 0;
  // The scope reference §7.3 derives from links: the linked endpoints' scopes, split on spaces,
  // de-duplicated in order (by service id, then endpoint).
  virtual Result<std::vector<std::string>> LinkedScope(store::Tx& tx,
                                                       std::string_view client_id) = 0;
  // Sets the client's scope and updated_at.
  virtual Status SetScope(store::Tx& tx, std::string_view client_id,
                          const std::vector<std::string>& scope, int64_t now) = 0;

  // The targets of a link, read in the link change's transaction. Whether the service exists;
  // holds a share lock on it (PostgreSQL FOR SHARE), so a concurrent delete of the service
  // waits for the link change and then sees and recomputes every client linked to it.
  virtual Result<bool> LockService(store::Tx& tx, std::string_view service_id) = 0;
  virtual Result<bool> EndpointExists(store::Tx& tx, std::string_view service_id,
                                      std::string_view endpoint) = 0;
};

}  // namespace portcullis::oauth
