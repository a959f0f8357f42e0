#pragma once
// In-memory ProviderStore for unit tests over fake stores (with store::FakeDatabase). Keeps the
// interface's contract (errors, ordering, notifications through tx.Notify) but ignores the
// transaction: a write stays when the transaction later fails.
// Thread-safe (one mutex); fail_next_calls() injects store outages; reads() counts Get calls
// (federation tests check that cached answers skip the store).

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "oauth/provider/provider_store.h"

namespace portcullis::oauth {

class MemoryProviderStore final : public ProviderStore {
 public:
  Status Insert(store::Tx& tx, const Provider& provider) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      if (!rows_.emplace(provider.provider_id, provider).second) {
        return Fail(ProviderExists(provider.provider_id));
      }
    }
    return tx.Notify("provider", provider.provider_id);
  }

  Result<std::optional<Provider>> LoadForUpdate(store::Tx& /*tx*/,
                                                std::string_view provider_id) override {
    std::lock_guard lock(mu_);
    return Find(provider_id);
  }

  Status Update(store::Tx& tx, const Provider& provider) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      auto it = rows_.find(provider.provider_id);
      if (it != rows_.end()) it->second = provider;  // else: like an UPDATE matching no row
    }
    return tx.Notify("provider", provider.provider_id);
  }

  Status Delete(store::Tx& tx, std::string_view provider_id) override {
    {
      std::lock_guard lock(mu_);
      if (auto e = InjectedFailure()) return Fail(*e);
      if (auto it = rows_.find(provider_id); it != rows_.end()) rows_.erase(it);
    }
    return tx.Notify("provider", provider_id);
  }

  Result<std::optional<Provider>> Get(std::string_view provider_id) override {
    std::lock_guard lock(mu_);
    ++reads_;
    return Find(provider_id);
  }

  Result<std::vector<Provider>> List() override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    std::vector<Provider> out;
    for (const auto& [id, p] : rows_) out.push_back(p);  // std::map: sorted by id
    return out;
  }

  // The next `n` calls fail with an Unavailable error.
  void fail_next_calls(int n) { failures_ = n; }
  int reads() const { return reads_; }

 private:
  // Under mu_.
  Result<std::optional<Provider>> Find(std::string_view provider_id) {
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = rows_.find(provider_id);
    if (it == rows_.end()) return std::optional<Provider>();
    return std::optional<Provider>(it->second);
  }

  std::optional<Error> InjectedFailure() {
    if (failures_ <= 0) return std::nullopt;
    --failures_;
    return Error::Unavailable("injected provider store failure");
  }

  std::mutex mu_;
  std::map<std::string, Provider, std::less<>> rows_;
  std::atomic<int> failures_{0};
  std::atomic<int> reads_{0};
};

}  // namespace portcullis::oauth
