#pragma once
// In-memory DelegationStore for unit tests (ignores the transaction handle: no rollback). The
// audiences policies may name are declared with AddAudience. Thread-safe (one mutex).

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "oauth/client/delegation_store.h"

namespace portcullis::oauth {

class MemoryDelegationStore final : public DelegationStore {
 public:
  void AddAudience(std::string_view service_id) {
    std::lock_guard lock(mu_);
    audiences_.emplace(service_id);
  }

  Result<std::optional<DelegationPolicy>> Find(std::string_view client_id,
                                               std::string_view audience) override {
    std::lock_guard lock(mu_);
    auto it = policies_.find({std::string(client_id), std::string(audience)});
    if (it == policies_.end()) return std::optional<DelegationPolicy>();
    return std::optional<DelegationPolicy>(it->second);
  }
  Result<std::vector<DelegationPolicy>> List(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::vector<DelegationPolicy> out;
    for (const auto& [key, p] : policies_) {
      if (key.first == client_id) out.push_back(p);  // the map orders by audience
    }
    return out;
  }
  Status Replace(store::Tx&, std::string_view client_id,
                 const std::vector<DelegationPolicy>& policies) override {
    std::lock_guard lock(mu_);
    Erase(client_id);
    for (auto p : policies) {
      p.client_id = std::string(client_id);
      std::pair key{p.client_id, p.audience};
      policies_.insert_or_assign(std::move(key), std::move(p));
    }
    return {};
  }
  Status Delete(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    Erase(client_id);
    return {};
  }
  Result<bool> AudienceExists(store::Tx&, std::string_view audience) override {
    std::lock_guard lock(mu_);
    return audiences_.contains(audience);
  }

 private:
  void Erase(std::string_view client_id) {
    std::erase_if(policies_, [&](const auto& kv) { return kv.first.first == client_id; });
  }

  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, DelegationPolicy> policies_;
  std::set<std::string, std::less<>> audiences_;
};

}  // namespace portcullis::oauth
