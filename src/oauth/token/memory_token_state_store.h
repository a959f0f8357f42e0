#pragma once
// In-memory ReferenceTokenStore, DenyListStore and AssertionJtiStore for unit tests over fake
// stores (store::FakeDatabase). Thread-safe (a mutex each). They ignore transaction handles:
// writes are not rolled back when the caller's transaction fails. MemoryDenyList sends no
// notification (there is no other instance to tell).

#include <map>
#include <mutex>
#include <string>

#include "oauth/token/token_state_store.h"

namespace portcullis::oauth {

class MemoryReferenceTokenStore final : public ReferenceTokenStore {
 public:
  Status Insert(store::Tx&, const ReferenceToken& token) override { return Insert(token); }
  Status Insert(const ReferenceToken& token) override {
    std::lock_guard lock(mu_);
    if (!rows_.emplace(token.token_hash, token).second) {
      return Fail(Error::Internal("duplicate reference token hash"));
    }
    return {};
  }
  Result<std::optional<ReferenceToken>> Find(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(token_hash);
    if (it == rows_.end()) return std::optional<ReferenceToken>();
    return std::optional<ReferenceToken>(it->second);
  }
  Status Delete(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    if (auto it = rows_.find(token_hash); it != rows_.end()) rows_.erase(it);
    return {};
  }
  Status DeleteForClient(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.client_id == client_id; });
    return {};
  }
  Status PurgeExpired(store::Tx&, int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.expires_at < cutoff; });
    return {};
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, ReferenceToken, std::less<>> rows_;
};

class MemoryDenyList final : public DenyListStore {
 public:
  Status Add(std::string_view jti, int64_t expires_at) override {
    std::lock_guard lock(mu_);
    rows_.emplace(std::string(jti), expires_at);  // an existing entry is kept
    return {};
  }
  Result<std::vector<std::pair<std::string, int64_t>>> LoadSince(int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& [jti, exp] : rows_) {
      if (exp > cutoff) out.emplace_back(jti, exp);
    }
    return out;
  }
  Status PurgeExpired(store::Tx&, int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second < cutoff; });
    return {};
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> rows_;
};

class MemoryAssertionJtiStore final : public AssertionJtiStore {
 public:
  Result<bool> Remember(std::string_view key, std::string_view, int64_t expires_at) override {
    std::lock_guard lock(mu_);
    return rows_.emplace(std::string(key), expires_at).second;
  }
  Status PurgeExpired(store::Tx&, int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second < cutoff; });
    return {};
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t, std::less<>> rows_;
};

}  // namespace portcullis::oauth
