#pragma once
// In-memory AuthCodeStore for unit tests over fake stores (store::FakeDatabase). Thread-safe
// (one mutex), with the SQL store's single-winner redemption. It ignores the transaction handle:
// writes are not rolled back when the caller's transaction fails. It knows no clients, so
// Insert never fails with CodeClientNotFound.

#include <map>
#include <mutex>
#include <string>

#include "oauth/code/code_store.h"

namespace portcullis::oauth {

class MemoryAuthCodeStore final : public AuthCodeStore {
 public:
  struct Row {
    AuthCode code;
    std::optional<int64_t> consumed_at;
    std::optional<std::string> access_jti;
    int64_t access_exp = 0;
  };

  Status Insert(const AuthCode& code) override {
    std::lock_guard lock(mu_);
    if (!rows_.emplace(code.code_hash, Row{code, std::nullopt, std::nullopt, 0}).second) {
      return Fail(Error::Internal("duplicate code hash"));
    }
    return {};
  }

  Result<std::optional<AuthCode>> Consume(store::Tx&, std::string_view code_hash,
                                          std::string_view client_id, std::string_view dpop_jkt,
                                          int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(code_hash));
    if (it == rows_.end()) return std::optional<AuthCode>();
    Row& r = it->second;
    if (r.code.client_id != client_id || r.consumed_at || r.code.expires_at <= now ||
        (!r.code.dpop_jkt.empty() && r.code.dpop_jkt != dpop_jkt)) {
      return std::optional<AuthCode>();
    }
    r.consumed_at = now;
    return std::optional<AuthCode>(r.code);
  }

  Result<std::optional<AuthCodeState>> Find(store::Tx&, std::string_view code_hash) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(code_hash));
    if (it == rows_.end()) return std::optional<AuthCodeState>();
    const Row& r = it->second;
    return std::optional<AuthCodeState>(AuthCodeState{r.code.client_id, r.consumed_at,
                                                      r.code.expires_at, r.code.family_id,
                                                      r.access_jti, r.access_exp, r.code.dpop_jkt});
  }

  Status RecordIssued(store::Tx&, std::string_view code_hash, std::string_view access_jti,
                      int64_t access_exp, std::string_view family_id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(code_hash));
    if (it == rows_.end()) return {};
    it->second.access_jti = std::string(access_jti);
    it->second.access_exp = access_exp;
    it->second.code.family_id = std::string(family_id);
    return {};
  }

  Status ExpireForUser(store::Tx&, std::string_view user_id, int64_t now) override {
    return Expire(user_id, nullptr, now);
  }
  Status ExpireForUserClient(store::Tx&, std::string_view user_id, std::string_view client_id,
                             int64_t now) override {
    return Expire(user_id, &client_id, now);
  }

  Status DeleteForUser(store::Tx&, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.code.user_id == user_id; });
    return {};
  }
  Status DeleteForClient(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.code.client_id == client_id; });
    return {};
  }

  Status PurgeExpired(store::Tx&, int64_t cutoff) override {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const auto& kv) { return kv.second.code.expires_at < cutoff; });
    return {};
  }

  // For tests: a copy of the row, if any.
  std::optional<Row> Get(std::string_view code_hash) const {
    std::lock_guard lock(mu_);
    auto it = rows_.find(std::string(code_hash));
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return rows_.size();
  }

 private:
  Status Expire(std::string_view user_id, const std::string_view* client_id, int64_t now) {
    std::lock_guard lock(mu_);
    for (auto& [hash, r] : rows_) {
      if (r.code.user_id != user_id || (client_id && r.code.client_id != *client_id)) continue;
      if (!r.consumed_at && r.code.expires_at > now) r.code.expires_at = now;
    }
    return {};
  }

  mutable std::mutex mu_;
  std::map<std::string, Row, std::less<>> rows_;
};

}  // namespace portcullis::oauth
