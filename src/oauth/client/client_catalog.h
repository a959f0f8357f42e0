#pragma once
// An in-memory snapshot of every client, read on the token hot path (client_credentials at tens
// of thousands of requests a second) without touching the store.
//
// Readers never lock: the snapshot is immutable and published through an atomically swapped
// std::shared_ptr; a Find costs one atomic load and one hash lookup. Writers (Reload, Refresh)
// serialize among themselves, build a new snapshot and swap it in. ClientService refreshes the
// entry after each of its writes; the composition root also subscribes Refresh/Reload to the
// store's "client" notifications, so other instances follow.
//
// Snapshot entries hold the parsed forms the token path reads (enum fields, custom_claims).
//
// Thread-safety: every member may be called from any thread. Reload and Refresh block on the
// store: call them from store-pool or background threads, never from an I/O thread.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "oauth/client/client.h"
#include "oauth/client/client_store.h"

namespace portcullis::oauth {

class ClientCatalog {
 public:
  // `store` must outlive the catalog.
  explicit ClientCatalog(ClientStore& store);
  ClientCatalog(const ClientCatalog&) = delete;
  ClientCatalog& operator=(const ClientCatalog&) = delete;

  // nullptr when unknown. The returned client stays valid however the catalog changes.
  std::shared_ptr<const Client> Find(std::string_view client_id) const;
  size_t size() const;

  // Rebuilds the snapshot from the store.
  Status Reload();
  // Re-reads one client; removes it from the snapshot when the store no longer has it.
  Status Refresh(std::string_view client_id);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::shared_ptr<const Client>, Hash, std::equal_to<>>;
  struct Snapshot {
    Map clients;
  };

  ClientStore& store_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::mutex writer_;
};

}  // namespace portcullis::oauth
