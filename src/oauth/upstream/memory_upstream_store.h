#pragma once
// An in-memory UpstreamStore for unit tests and the contract test. Thread-safe (one mutex).
// It does not know users: links are not removed with them.

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "oauth/upstream/upstream_store.h"

namespace portcullis::oauth::upstream {

class MemoryUpstreamStore final : public UpstreamStore {
 public:
  Status SaveFlow(const PendingFlow& flow) override {
    std::lock_guard lock(mu_);
    if (!flows_.emplace(flow.state_hash, flow).second) {
      return Fail(Error::Internal("duplicate upstream state"));
    }
    order_[flow.state_hash] = ++seq_;
    return {};
  }
  Status CapFlows(std::string_view binding_hash, int64_t keep, int64_t now) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<int64_t, std::string>> open;  // (seq, state hash), newest first
    std::vector<std::string> drop;
    for (const auto& [hash, f] : flows_) {
      if (f.binding_hash != binding_hash) continue;
      if (f.expires_at <= now) {
        drop.push_back(hash);
      } else {
        open.emplace_back(order_[hash], hash);
      }
    }
    std::sort(open.rbegin(), open.rend());
    for (size_t i = static_cast<size_t>(std::max<int64_t>(keep, 0)); i < open.size(); ++i) {
      drop.push_back(open[i].second);
    }
    for (const auto& hash : drop) {
      flows_.erase(hash);
      order_.erase(hash);
    }
    return {};
  }
  Result<std::optional<PendingFlow>> TakeFlow(std::string_view state_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = flows_.find(std::string(state_hash));
    if (it == flows_.end() || it->second.expires_at <= now) return std::optional<PendingFlow>();
    PendingFlow f = std::move(it->second);
    flows_.erase(it);
    order_.erase(f.state_hash);
    return std::optional<PendingFlow>(std::move(f));
  }
  Status PurgeFlows(int64_t now) override {
    std::lock_guard lock(mu_);
    std::erase_if(flows_, [&](const auto& kv) {
      if (kv.second.expires_at > now) return false;
      order_.erase(kv.first);
      return true;
    });
    return {};
  }
  Result<std::optional<Link>> FindLink(store::Tx&, std::string_view authenticator,
                                       std::string_view subject) override {
    std::lock_guard lock(mu_);
    auto it = links_.find({std::string(authenticator), std::string(subject)});
    if (it == links_.end()) return std::optional<Link>();
    return std::optional<Link>(it->second);
  }
  Result<bool> InsertLink(store::Tx&, const Link& link) override {
    std::lock_guard lock(mu_);
    return links_.emplace(std::make_pair(link.authenticator, link.subject), link).second;
  }
  Result<std::vector<std::string>> UsersWithEmail(store::Tx&, std::string_view email) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [user_id, e] : emails_) {
      if (e.size() == email.size() &&
          std::equal(e.begin(), e.end(), email.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        out.push_back(user_id);
      }
    }
    return out;
  }
  // The fake knows no users table: tests tell it the e-mail addresses.
  void SetEmail(std::string user_id, std::string email) {
    std::lock_guard lock(mu_);
    emails_[std::move(user_id)] = std::move(email);
  }

 private:
  std::map<std::string, std::string> emails_;
  std::mutex mu_;
  std::map<std::string, PendingFlow> flows_;
  std::map<std::string, int64_t> order_;  // state hash -> order of saving
  int64_t seq_ = 0;
  std::map<std::pair<std::string, std::string>, Link> links_;
};

}  // namespace portcullis::oauth::upstream
