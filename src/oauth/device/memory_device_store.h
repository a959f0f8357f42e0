#pragma once
// In-memory DeviceGrantStore for unit tests over fake stores (store::FakeDatabase). Thread-safe
// (one mutex), with the SQL store's single-winner transitions. It ignores the transaction
// handle: writes are not rolled back when the caller's transaction fails.

#include <map>
#include <mutex>
#include <string>

#include "oauth/device/device_store.h"

namespace portcullis::oauth {

class MemoryDeviceGrantStore final : public DeviceGrantStore {
 public:
  Result<bool> Insert(const DeviceGrant& g) override {
    std::lock_guard lock(mu_);
    for (const auto& [k, row] : rows_) {
      if (k == g.device_code_hash || row.user_code_hash == g.user_code_hash) return false;
    }
    DeviceGrant row = g;
    row.state = DeviceGrantState::kPending;
    row.user = {};
    row.last_poll_at.reset();
    rows_.emplace(g.device_code_hash, std::move(row));
    return true;
  }

  Result<std::optional<DeviceGrant>> FindByUserCode(std::string_view user_code_hash) override {
    std::lock_guard lock(mu_);
    for (const auto& [k, row] : rows_) {
      if (row.user_code_hash == user_code_hash) return std::optional<DeviceGrant>(row);
    }
    return std::optional<DeviceGrant>();
  }

  Result<bool> Decide(std::string_view user_code_hash, bool approve, const DeviceApproval& who,
                      int64_t now) override {
    std::lock_guard lock(mu_);
    for (auto& [k, row] : rows_) {
      if (row.user_code_hash != user_code_hash) continue;
      if (row.state != DeviceGrantState::kPending || row.expires_at <= now) return false;
      row.state = approve ? DeviceGrantState::kApproved : DeviceGrantState::kDenied;
      if (approve) row.user = who;
      return true;
    }
    return false;
  }

  Result<std::optional<DeviceGrant>> Lock(store::Tx&, std::string_view device_code_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(device_code_hash));
    if (it == rows_.end()) return std::optional<DeviceGrant>();
    return std::optional<DeviceGrant>(it->second);
  }

  Status RecordPoll(store::Tx&, std::string_view device_code_hash, int64_t now,
                    int64_t interval) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(device_code_hash));
    if (it == rows_.end()) return {};
    it->second.last_poll_at = now;
    it->second.interval = interval;
    return {};
  }

  Result<std::optional<DeviceGrant>> Consume(store::Tx&, std::string_view device_code_hash,
                                             std::string_view client_id, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(device_code_hash));
    if (it == rows_.end()) return std::optional<DeviceGrant>();
    DeviceGrant& row = it->second;
    if (row.client_id != client_id || row.state != DeviceGrantState::kApproved ||
        row.expires_at <= now) {
      return std::optional<DeviceGrant>();
    }
    row.state = DeviceGrantState::kConsumed;
    return std::optional<DeviceGrant>(row);
  }

  Status ExpireForUser(store::Tx&, std::string_view user_id, int64_t now) override {
    return Expire([&](const DeviceGrant& g) { return g.user.user_id == user_id; }, now);
  }
  Status ExpireForUserClient(store::Tx&, std::string_view user_id, std::string_view client_id,
                             int64_t now) override {
    return Expire(
        [&](const DeviceGrant& g) { return g.user.user_id == user_id && g.client_id == client_id; },
        now);
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
  template <class Pred>
  Status Expire(Pred match, int64_t now) {
    std::lock_guard lock(mu_);
    for (auto& [k, row] : rows_) {
      if (row.state == DeviceGrantState::kApproved && row.expires_at > now && match(row)) {
        row.expires_at = now;
      }
    }
    return {};
  }

  mutable std::mutex mu_;
  std::map<std::string, DeviceGrant, std::less<>> rows_;  // by device_code_hash
};

}  // namespace portcullis::oauth
