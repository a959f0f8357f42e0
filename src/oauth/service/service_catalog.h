#pragma once
// An in-memory snapshot of every service with its endpoints, for hot-path readers (the
// resource-server side: which scope an endpoint needs). Same discipline as ClientCatalog:
// readers never lock, writers build a new snapshot and swap it in; refreshed after each write
// of ServiceRegistry and, through the composition root, on "service" notifications.
//
// Thread-safety: every member may be called from any thread; Reload and Refresh block on the
// store (never call them from an I/O thread).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "oauth/service/service.h"
#include "store/db.h"

namespace portcullis::oauth {

struct ServiceEntry {
  Service service;
  std::vector<Endpoint> endpoints;  // sorted by endpoint id

  const Endpoint* FindEndpoint(std::string_view endpoint) const;
};

class ServiceCatalog {
 public:
  explicit ServiceCatalog(store::Database& db);
  ServiceCatalog(const ServiceCatalog&) = delete;
  ServiceCatalog& operator=(const ServiceCatalog&) = delete;

  std::shared_ptr<const ServiceEntry> Find(std::string_view service_id) const;
  size_t size() const;

  Status Reload();
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

  store::Database& db_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::mutex writer_;
};

}  // namespace portcullis::oauth
