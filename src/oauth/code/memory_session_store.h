#pragma once
// In-memory SessionStore for unit tests. Ignores the transaction handle (no rollback).
// Thread-safe.

#include <algorithm>
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
  Result<std::vector<SsoSession>> ListForUser(std::string_view user_id, int64_t now) override {
    std::lock_guard lock(mu_);
    std::vector<SsoSession> out;
    for (const auto& [key, s] : sessions_) {
      if (s.user_id == user_id && s.expires_at > now) out.push_back(s);
    }
    std::sort(out.begin(), out.end(), [](const SsoSession& a, const SsoSession& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.sid < b.sid;
    });
    return out;
  }
  Result<std::vector<SsoSession>> ListForUser(store::Tx&, std::string_view user_id,
                                              int64_t now) override {
    return ListForUser(user_id, now);
  }
  Result<bool> DeleteBySid(store::Tx&, std::string_view user_id, std::string_view sid) override {
    std::lock_guard lock(mu_);
    if (sid.empty()) return false;
    return std::erase_if(sessions_, [&](const auto& kv) {
             return kv.second.user_id == user_id && kv.second.sid == sid;
           }) > 0;
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
