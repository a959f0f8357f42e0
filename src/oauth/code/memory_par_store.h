#pragma once
// In-memory PushedRequestStore for unit tests. Thread-safe (one mutex), with the SQL store's
// single-winner consumption. It ignores the transaction handle.

#include <map>
#include <mutex>
#include <string>

#include "oauth/code/par_store.h"

namespace portcullis::oauth {

class MemoryPushedRequestStore final : public PushedRequestStore {
 public:
  Result<bool> Insert(const PushedRequest& r) override {
    std::lock_guard lock(mu_);
    PushedRequest row = r;
    row.used_at.reset();
    return rows_.emplace(r.reference_hash, std::move(row)).second;
  }

  Result<std::optional<PushedRequest>> Find(std::string_view reference_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(reference_hash);
    if (it == rows_.end()) return std::optional<PushedRequest>();
    return std::optional<PushedRequest>(it->second);
  }

  Result<bool> Consume(std::string_view reference_hash, std::string_view client_id,
                       int64_t valid_after, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(reference_hash);
    if (it == rows_.end()) return false;
    PushedRequest& row = it->second;
    if (row.used_at || row.client_id != client_id || row.expires_at <= valid_after) return false;
    row.used_at = now;
    return true;
  }

  Status PurgeExpired(store::Tx&, int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [cutoff](const auto& kv) { return kv.second.expires_at < cutoff; });
    return {};
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, PushedRequest, std::less<>> rows_;  // by reference_hash
};

}  // namespace portcullis::oauth
