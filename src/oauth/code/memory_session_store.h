#pragma once
// In-memory SessionStore for unit tests. Ignores the transaction handle (no rollback).
// Thread-safe.

#include <map>
#include <mutex>
#include <string>

#include "oauth/code/session_store.h"

namespace portcullis::oauth {

class MemorySessionStore final : public SessionStore {
 public:
  Status Insert(std::string_view key, const SsoSession& session) override {
    std::lock_guard lock(mu_);
    sessions_[std::string(key)] = session;
    return {};
  }
  Result<std::optional<SsoSession>> Find(std::string_view key, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(key);
    if (it == sessions_.end() || it->second.expires_at <= now) return std::optional<SsoSession>();
    return std::optional<SsoSession>(it->second);
  }
  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(key); it != sessions_.end()) sessions_.erase(it);
    return {};
  }
  Status DeleteIn(store::Tx&, std::string_view key) override { return Delete(key); }
  Status DeleteForUser(store::Tx&, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user_id == user_id; });
    return {};
  }
  Status Purge(int64_t now) override {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    return {};
  }

  // For tests: whether a row is stored under `key` (expired or not), and how many there are.
  bool Contains(std::string_view key) const {
    std::lock_guard lock(mu_);
    return sessions_.find(key) != sessions_.end();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, SsoSession, std::less<>> sessions_;
};

}  // namespace portcullis::oauth
