#pragma once
// An in-memory snapshot of every service with its endpoints, for hot-path readers (the
// resource-server side: which scope an endpoint needs). Same discipline as ClientCatalog:
// readers never lock, writers build a new snapshot and swap it in; refreshed after each write
// of ServiceRegistry and, through the composition root, on "service" notifications.
//
// Ownership: borrows `store`, which must outlive the catalog. Entries handed out by Find are
// shared and immutable; they stay valid as long as the caller holds the pointer, across later
// refreshes.
//
// Thread-safety: every member may be called from any thread; Reload and Refresh block on the
// store (never call them from an I/O thread) and are serialized among themselves.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "oauth/service/service.h"
#include "oauth/service/service_store.h"

namespace portcullis::oauth {

class ServiceCatalog {
 public:
  explicit ServiceCatalog(ServiceStore& store);
  ServiceCatalog(const ServiceCatalog&) = delete;
  ServiceCatalog& operator=(const ServiceCatalog&) = delete;

  std::shared_ptr<const ServiceEntry> Find(std::string_view service_id) const;
  size_t size() const;

  // Replaces the snapshot with everything in the store.
  Status Reload();
  // Re-reads one service (dropping it when it no longer exists).
  Status Refresh(std::string_view service_id);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map =
      std::unordered_map<std::string, std::shared_ptr<const ServiceEntry>, Hash, std::equal_to<>>;
  struct Snapshot {
    Map services;
  };

  ServiceStore& store_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::mutex writer_;
};

}  // namespace portcullis::oauth
