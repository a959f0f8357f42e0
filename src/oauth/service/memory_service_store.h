#pragma once
// In-memory ServiceStore for unit tests over fake stores (with store::FakeDatabase). Keeps the
// interface's contract (errors, ordering, notifications through tx.Notify) except two things
// a fake cannot: it ignores the transaction, so a write stays when the transaction later
// fails; and it holds no client links (those belong to the client store).
// Thread-safe (one mutex); fail_next_calls() injects store outages.

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "oauth/service/service_store.h"

namespace portcullis::oauth {

class MemoryServiceStore final : public ServiceStore {
 public:
  Status Insert(store::Tx& tx, const Service& service) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      if (rows_.contains(service.service_id)) return Fail(ServiceExists(service.service_id));
      rows_[service.service_id].service = service;
    }
    return tx.Notify("service", service.service_id);
  }

  Result<std::optional<Service>> LoadForUpdate(store::Tx& /*tx*/,
                                               std::string_view service_id) override {
    return Get(service_id);
  }

  Status Update(store::Tx& tx, const Service& service) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      auto it = rows_.find(service.service_id);
      if (it == rows_.end()) return {};  // like an UPDATE that matches no row
      int64_t created_at = it->second.service.created_at;
      it->second.service = service;
      it->second.service.created_at = created_at;
    }
    return tx.Notify("service", service.service_id);
  }

  Status Delete(store::Tx& tx, std::string_view service_id) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      if (auto it = rows_.find(service_id); it != rows_.end()) rows_.erase(it);
    }
    return tx.Notify("service", service_id);
  }

  Result<std::vector<Endpoint>> Endpoints(store::Tx& /*tx*/, std::string_view service_id) override {
    return ListEndpoints(service_id);
  }

  Status ReplaceEndpoints(store::Tx& tx, std::string_view service_id,
                          const std::vector<Endpoint>& endpoints) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      auto it = rows_.find(service_id);
      if (it != rows_.end()) {
        it->second.endpoints = endpoints;
        Sort(it->second.endpoints);
      }
    }
    return tx.Notify("service", service_id);
  }

  Result<std::optional<Service>> Get(std::string_view service_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = rows_.find(service_id);
    if (it == rows_.end()) return std::optional<Service>();
    return std::optional<Service>(it->second.service);
  }

  Result<ServicePage> List(std::string_view host_prefix, int64_t offset, int64_t limit) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    ServicePage page;
    for (const auto& [id, entry] : rows_) {  // std::map: byte order of ids
      if (!entry.service.host.starts_with(host_prefix)) continue;
      if (page.total >= offset && page.total < offset + limit) {
        page.services.push_back(entry.service);
      }
      ++page.total;
    }
    return page;
  }

  Result<std::vector<Endpoint>> ListEndpoints(std::string_view service_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = rows_.find(service_id);
    if (it == rows_.end()) return std::vector<Endpoint>();
    return it->second.endpoints;
  }

  Result<std::vector<ServiceEntry>> LoadAll() override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    std::vector<ServiceEntry> out;
    for (const auto& [id, entry] : rows_) out.push_back(entry);
    return out;
  }

  Result<std::optional<ServiceEntry>> LoadEntry(std::string_view service_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = rows_.find(service_id);
    if (it == rows_.end()) return std::optional<ServiceEntry>();
    return std::optional<ServiceEntry>(it->second);
  }

  Result<std::optional<std::vector<std::string>>> DeclaredScopes(
      std::string_view service_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = rows_.find(service_id);
    if (it == rows_.end()) return std::optional<std::vector<std::string>>();
    return std::optional<std::vector<std::string>>(DeclaredScopesOf(it->second.endpoints));
  }

  // The next `n` calls fail with an Unavailable error.
  void fail_next_calls(int n) { failures_ = n; }

 private:
  static void Sort(std::vector<Endpoint>& endpoints) {
    std::sort(endpoints.begin(), endpoints.end(),
              [](const Endpoint& a, const Endpoint& b) { return a.endpoint < b.endpoint; });
  }

  std::optional<Error> InjectedFailure() {
    if (failures_ <= 0) return std::nullopt;
    --failures_;
    return Error::Unavailable("injected service store failure");
  }

  std::mutex mu_;
  std::map<std::string, ServiceEntry, std::less<>> rows_;
  std::atomic<int> failures_{0};
};

}  // namespace portcullis::oauth
