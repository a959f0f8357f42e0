#pragma once
// In-memory UserStore for unit tests over store::FakeDatabase. Ignores the transaction handle:
// nothing rolls back, nothing is notified, and Delete removes only the user (this fake holds no
// tokens, codes, sessions or consents). Thread-safe. fail_next_calls() injects store outages.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <string>

#include "oauth/user/user_store.h"

namespace portcullis::oauth {

class MemoryUserStore final : public UserStore {
 public:
  Result<std::optional<User>> Find(store::Tx&, std::string_view user_id) override {
    return Find(user_id);
  }
  Result<std::optional<User>> Find(std::string_view user_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return std::optional<User>();
    return std::optional<User>(it->second);
  }
  Result<std::optional<User>> FindForUpdate(store::Tx&, std::string_view user_id) override {
    return Find(user_id);
  }
  Result<bool> EmailTaken(store::Tx&, std::string_view email,
                          std::string_view except_user_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    for (const auto& [id, u] : users_) {
      if (id != except_user_id && Lower(u.email) == Lower(email)) return true;
    }
    return false;
  }

  Status Insert(store::Tx&, const User& user) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    if (HasEmail(user.email, "")) return Fail(EmailInUse(user.email));
    if (users_.contains(user.user_id)) return Fail(UserExists(user.user_id));
    users_.emplace(user.user_id, user);
    return {};
  }
  Result<bool> InsertIfAbsent(store::Tx&, const User& user) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    if (HasEmail(user.email, "") || users_.contains(user.user_id)) return false;
    users_.emplace(user.user_id, user);
    return true;
  }
  Status Update(store::Tx&, const User& user) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = users_.find(user.user_id);
    if (it == users_.end()) return Fail(UserNotFound(user.user_id));
    if (HasEmail(user.email, user.user_id)) return Fail(EmailInUse(user.email));
    User& u = it->second;
    u.user_type = user.user_type;
    u.first_name = user.first_name;
    u.last_name = user.last_name;
    u.email = user.email;
    u.roles = user.roles;
    u.locked = user.locked;
    u.updated_at = user.updated_at;
    u.email_verified = user.email_verified;
    u.phone_number = user.phone_number;
    u.phone_number_verified = user.phone_number_verified;
    u.address = user.address;
    return {};
  }
  Status Delete(store::Tx&, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    if (users_.erase(std::string(user_id)) == 0) return Fail(UserNotFound(user_id));
    return {};
  }

  Result<bool> SetPasswordHash(store::Tx&, std::string_view user_id, std::string_view new_hash,
                               int64_t now,
                               std::optional<std::string_view> expected_hash) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return false;
    if (expected_hash && it->second.password_hash != *expected_hash) return false;
    it->second.password_hash = new_hash;
    it->second.updated_at = now;
    it->second.password_change_required = false;
    return true;
  }
  Result<bool> UpgradePasswordHash(store::Tx&, std::string_view user_id, std::string_view old_hash,
                                   std::string_view new_hash) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.password_hash != old_hash) return false;
    it->second.password_hash = new_hash;
    return true;
  }

  Result<bool> RequirePasswordChange(store::Tx&, std::string_view user_id) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return false;
    it->second.password_change_required = true;
    return true;
  }

  Result<UserPage> List(std::string_view prefix, int64_t offset, int64_t limit) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    UserPage page;
    int64_t index = 0;
    // std::map orders std::string keys bytewise, as the SQL store does.
    for (const auto& [id, u] : users_) {
      if (!id.starts_with(prefix)) continue;
      if (index >= offset && static_cast<int64_t>(page.users.size()) < limit) {
        page.users.push_back(u);
      }
      ++index;
    }
    page.total = index;
    return page;
  }

  // The next `n` calls fail with an Unavailable error.
  void fail_next_calls(int n) { failures_ = n; }

 private:
  static std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  }
  // The UNIQUE constraint on email is exact (EmailTaken is the case-insensitive check).
  bool HasEmail(std::string_view email, std::string_view except_user_id) const {
    for (const auto& [id, u] : users_) {
      if (id != except_user_id && u.email == email) return true;
    }
    return false;
  }
  std::optional<Error> InjectedFailure() {
    if (failures_ <= 0) return std::nullopt;
    --failures_;
    return Error::Unavailable("injected user store failure");
  }

  std::mutex mu_;
  std::map<std::string, User, std::less<>> users_;
  std::atomic<int> failures_{0};
};

}  // namespace portcullis::oauth
