#pragma once
// In-memory ConsentStore for unit tests. Ignores the transaction handle (no rollback) and knows
// no clients (no foreign key). Thread-safe.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "oauth/code/consent_store.h"

namespace portcullis::oauth {

class MemoryConsentStore final : public ConsentStore {
 public:
  Result<std::optional<Consent>> Find(std::string_view realm, std::string_view user_id,
                                      std::string_view client_id) override {
    std::lock_guard lock(mu_);
    auto it = consents_.find(KeyOf(realm, user_id, client_id));
    if (it == consents_.end()) return std::optional<Consent>();
    return std::optional<Consent>(it->second);
  }
  Result<std::optional<Consent>> Find(store::Tx&, std::string_view realm, std::string_view user_id,
                                      std::string_view client_id) override {
    return Find(realm, user_id, client_id);
  }
  Status Widen(std::string_view realm, std::string_view user_id, std::string_view client_id,
               const std::vector<std::string>& scope, int64_t now) override {
    std::lock_guard lock(mu_);
    Consent& c = consents_[KeyOf(realm, user_id, client_id)];
    c.client_id = client_id;
    for (const auto& s : scope) {
      if (std::find(c.scope.begin(), c.scope.end(), s) == c.scope.end()) c.scope.push_back(s);
    }
    c.created_at = now;
    return {};
  }
  Result<bool> Delete(store::Tx&, std::string_view realm, std::string_view user_id,
                      std::string_view client_id) override {
    std::lock_guard lock(mu_);
    return consents_.erase(KeyOf(realm, user_id, client_id)) > 0;
  }
  Result<std::vector<Consent>> List(std::string_view realm, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    std::vector<Consent> out;
    // Keys order by realm, user, then client id, bytewise.
    for (const auto& [key, c] : consents_) {
      if (std::get<0>(key) == realm && std::get<1>(key) == user_id) out.push_back(c);
    }
    return out;
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  static Key KeyOf(std::string_view realm, std::string_view user_id, std::string_view client_id) {
    return {std::string(realm), std::string(user_id), std::string(client_id)};
  }

  std::mutex mu_;
  std::map<Key, Consent> consents_;
};

}  // namespace portcullis::oauth
