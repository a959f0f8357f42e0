#pragma once
// In-memory RefreshTokenStore for unit tests over fake stores (store::FakeDatabase). Thread-safe
// (one mutex), with the SQL store's single-winner rotation. It ignores the transaction handle
// for its data (writes are not rolled back when the caller's transaction fails) but sends
// DeleteFamily's notification through it, as the SQL store does.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "oauth/refresh/refresh_token_store.h"
#include "store/db.h"

namespace portcullis::oauth {

class MemoryRefreshTokenStore final : public RefreshTokenStore {
 public:
  Status Insert(store::Tx&, const RefreshToken& token) override {
    std::lock_guard lock(mu_);
    RefreshToken t = token;
    t.rotated_at.reset();
    if (!rows_.emplace(t.token_hash, std::move(t)).second) {
      return Fail(Error::Internal("duplicate refresh token hash"));
    }
    return {};
  }

  Result<bool> Import(store::Tx&, const RefreshToken& token) override {
    std::lock_guard lock(mu_);
    RefreshToken t = token;
    t.state = "active";
    t.parent_hash.clear();
    t.rotated_at.reset();
    t.user_source.clear();
    t.auth_time = 0;
    t.sid.clear();
    t.amr.clear();
    t.acr.clear();
    t.claims.clear();
    return rows_.emplace(t.token_hash, std::move(t)).second;
  }

  Result<std::optional<RefreshToken>> Find(store::Tx&, std::string_view token_hash) override {
    return Find(token_hash);
  }
  Result<std::optional<RefreshToken>> Find(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(token_hash);
    if (it == rows_.end()) return std::optional<RefreshToken>();
    return std::optional<RefreshToken>(it->second);
  }

  Result<bool> Rotate(store::Tx&, std::string_view token_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(token_hash);
    if (it == rows_.end() || it->second.state != "active") return false;
    it->second.state = "rotated";
    it->second.rotated_at = now;
    return true;
  }

  Status SetScope(store::Tx&, std::string_view token_hash, std::string_view scope) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(token_hash);
    if (it != rows_.end() && it->second.state == "active") it->second.scope = std::string(scope);
    return {};
  }

  Status RevokeFamily(store::Tx&, std::string_view family_id, std::optional<int64_t> at) override {
    return Revoke([&](const RefreshToken& t) { return t.family_id == family_id; }, at);
  }
  Status RevokeForUser(store::Tx&, std::string_view user_id, int64_t now) override {
    return Revoke([&](const RefreshToken& t) { return t.user_id == user_id; }, now);
  }
  Status RevokeForUserClient(store::Tx&, std::string_view user_id, std::string_view client_id,
                             int64_t now) override {
    return Revoke(
        [&](const RefreshToken& t) { return t.user_id == user_id && t.client_id == client_id; },
        now);
  }

  Status RevokeForUserSid(store::Tx&, std::string_view user_id, std::string_view sid,
                          int64_t now) override {
    return Revoke(
        [&](const RefreshToken& t) { return !sid.empty() && t.sid == sid && t.user_id == user_id; },
        now);
  }
  Status RevokeForUserSessions(store::Tx&, std::string_view user_id, int64_t now) override {
    return Revoke([&](const RefreshToken& t) { return t.user_id == user_id && !t.sid.empty(); },
                  now);
  }

  Result<std::vector<RefreshToken>> Family(store::Tx&, std::string_view family_id) override {
    std::lock_guard lock(mu_);
    std::vector<RefreshToken> out;
    for (const auto& [hash, t] : rows_) {
      if (t.family_id == family_id) out.push_back(t);
    }
    return out;
  }

  Result<int64_t> DeleteFamily(store::Tx& tx, std::string_view family_id) override {
    int64_t n = 0;
    {
      std::lock_guard lock(mu_);
      n = static_cast<int64_t>(
          std::erase_if(rows_, [&](const auto& kv) { return kv.second.family_id == family_id; }));
    }
    if (auto s = tx.Notify("refresh_token", family_id); !s) return Fail(std::move(s.error()));
    return n;
  }

  Status DeleteForUser(store::Tx&, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.user_id == user_id; });
    return {};
  }
  Status DeleteForClient(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.client_id == client_id; });
    return {};
  }

  Result<std::vector<RefreshToken>> ListActive(const RefreshTokenFilter& filter, int64_t now,
                                               int64_t offset, int64_t limit) override {
    std::vector<RefreshToken> all = Matching(filter, now);
    std::sort(all.begin(), all.end(), [](const RefreshToken& a, const RefreshToken& b) {
      return std::tie(a.user_id, a.created_at, a.token_hash) <
             std::tie(b.user_id, b.created_at, b.token_hash);
    });
    std::vector<RefreshToken> out;
    for (int64_t i = std::max<int64_t>(offset, 0);
         i < static_cast<int64_t>(all.size()) && static_cast<int64_t>(out.size()) < limit; ++i) {
      out.push_back(std::move(all[i]));
    }
    return out;
  }

  Result<int64_t> CountActive(const RefreshTokenFilter& filter, int64_t now) override {
    return static_cast<int64_t>(Matching(filter, now).size());
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
  std::vector<RefreshToken> Matching(const RefreshTokenFilter& filter, int64_t now) {
    std::vector<RefreshToken> out;
    std::lock_guard lock(mu_);
    for (const auto& [hash, t] : rows_) {
      if (t.state == "active" && t.expires_at > now &&
          t.user_id.starts_with(filter.user_id_prefix) &&
          (filter.client_id.empty() || t.client_id == filter.client_id)) {
        out.push_back(t);
      }
    }
    return out;
  }

  template <typename Pred>
  Status Revoke(Pred match, std::optional<int64_t> at) {
    std::lock_guard lock(mu_);
    for (auto& [hash, t] : rows_) {
      if (!match(t) || t.state == "revoked") continue;
      t.state = "revoked";
      if (at && !t.rotated_at) t.rotated_at = *at;
    }
    return {};
  }

  mutable std::mutex mu_;
  std::map<std::string, RefreshToken, std::less<>> rows_;
};

}  // namespace portcullis::oauth
