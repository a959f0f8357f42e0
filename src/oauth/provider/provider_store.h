#pragma once
// Persistence of the federation registry (providers). The SQL implementation is
// store::SqlProviderStore (store/sql/provider_store.h); unit tests use MemoryProviderStore
// (memory_provider_store.h).
//
// Writes take the caller's transaction `tx` (from store::Database::Transact), so a change
// commits together with its audit entry, and announce themselves with
// tx.Notify("provider", id), sent when the transaction commits. Plain reads stand alone.
//
// Thread-safety: implementations are safe to call from many threads; every call blocks (store
// pool only, never an I/O thread). `tx` is borrowed for the call only.

#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/provider/provider.h"
#include "store/db.h"

namespace portcullis::oauth {

// ERR12048: what Insert returns when the provider id is taken (every implementation).
Error ProviderExists(std::string_view provider_id);

class ProviderStore {
 public:
  virtual ~ProviderStore() = default;

  // --- Inside the caller's transaction.

  // ProviderExists when the id is taken.
  virtual Status Insert(store::Tx& tx, const Provider& provider) = 0;
  // The provider, holding its row lock until `tx` ends (PostgreSQL; SQLite's writer lock
  // already serializes); nullopt when unknown.
  virtual Result<std::optional<Provider>> LoadForUpdate(store::Tx& tx,
                                                        std::string_view provider_id) = 0;
  // Writes every field but the id of an existing provider.
  virtual Status Update(store::Tx& tx, const Provider& provider) = 0;
  virtual Status Delete(store::Tx& tx, std::string_view provider_id) = 0;

  // --- Standalone reads.

  virtual Result<std::optional<Provider>> Get(std::string_view provider_id) = 0;
  // Every provider, sorted by id.
  virtual Result<std::vector<Provider>> List() = 0;
};

}  // namespace portcullis::oauth
