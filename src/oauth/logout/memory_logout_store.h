#pragma once
// In-memory LogoutStore for unit tests. Ignores the transaction handle (no rollback).
// Thread-safe.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "oauth/logout/logout_store.h"

namespace portcullis::oauth {

class MemoryLogoutStore final : public LogoutStore {
 public:
  Status AddParticipant(const LogoutParticipant& p) override {
    std::lock_guard lock(mu_);
    auto [it, added] = participants_.try_emplace({p.sid, p.client_id}, p);
    if (!added) it->second.expires_at = std::max(it->second.expires_at, p.expires_at);
    return {};
  }
  Result<std::vector<LogoutParticipant>> TakeParticipants(store::Tx&, std::string_view sid,
                                                          int64_t now) override {
    return Take([&](const LogoutParticipant& p) { return p.sid == sid; }, now);
  }
  Result<std::vector<LogoutParticipant>> TakeParticipantsOfUser(store::Tx&,
                                                                std::string_view user_id,
                                                                int64_t now) override {
    return Take([&](const LogoutParticipant& p) { return p.user_id == user_id; }, now);
  }
  Status Enqueue(store::Tx&, const LogoutDelivery& d) override {
    std::lock_guard lock(mu_);
    if (!outbox_.try_emplace(d.id, d).second) return Fail(Error::Internal("duplicate outbox id"));
    return {};
  }
  Result<std::optional<LogoutDelivery>> Claim(int64_t now, int64_t lease_s) override {
    std::lock_guard lock(mu_);
    LogoutDelivery* best = nullptr;
    for (auto& [id, d] : outbox_) {
      if (d.next_attempt_at <= now && d.expires_at > now &&
          (!best || d.next_attempt_at < best->next_attempt_at)) {
        best = &d;
      }
    }
    if (!best) return std::optional<LogoutDelivery>();
    best->attempts += 1;
    best->next_attempt_at = now + lease_s;
    return std::optional<LogoutDelivery>(*best);
  }
  Status Remove(std::string_view id) override {
    std::lock_guard lock(mu_);
    if (auto it = outbox_.find(id); it != outbox_.end()) outbox_.erase(it);
    return {};
  }
  Status Reschedule(std::string_view id, int64_t next_attempt_at) override {
    std::lock_guard lock(mu_);
    if (auto it = outbox_.find(id); it != outbox_.end())
      it->second.next_attempt_at = next_attempt_at;
    return {};
  }
  Result<int64_t> Purge(int64_t now) override {
    std::lock_guard lock(mu_);
    std::erase_if(participants_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    return static_cast<int64_t>(
        std::erase_if(outbox_, [&](const auto& kv) { return kv.second.expires_at <= now; }));
  }

  // For tests.
  size_t outbox_size() const {
    std::lock_guard lock(mu_);
    return outbox_.size();
  }

 private:
  template <typename Pred>
  std::vector<LogoutParticipant> Take(Pred pred, int64_t now) {
    std::lock_guard lock(mu_);
    std::vector<LogoutParticipant> out;
    for (auto it = participants_.begin(); it != participants_.end();) {
      if (pred(it->second)) {
        if (it->second.expires_at > now) out.push_back(it->second);
        it = participants_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, LogoutParticipant> participants_;
  std::map<std::string, LogoutDelivery, std::less<>> outbox_;
};

}  // namespace portcullis::oauth
