#pragma once
// In-memory TotpStore for unit tests (no users table: no cascade). Thread-safe.

#include <map>
#include <mutex>
#include <string>

#include "oauth/totp/totp_store.h"

namespace portcullis::oauth {

class MemoryTotpStore final : public TotpStore {
 public:
  Result<bool> Begin(const TotpEnrolment& e, const std::vector<std::string>& digests) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(e.user_id);
    if (it != rows_.end() && it->second.enrolment.active) return false;
    Row row{e, {}};
    row.enrolment.active = false;
    for (const auto& d : digests) row.codes[d] = false;
    rows_[e.user_id] = std::move(row);
    return true;
  }
  Result<std::optional<TotpEnrolment>> Find(std::string_view user_id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end()) return std::optional<TotpEnrolment>();
    return std::optional<TotpEnrolment>(it->second.enrolment);
  }
  Result<bool> Activate(std::string_view user_id, std::string_view sealed, int64_t step) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end() || it->second.enrolment.active ||
        it->second.enrolment.secret_sealed != sealed) {
      return false;
    }
    it->second.enrolment.active = true;
    it->second.enrolment.last_step = step;
    return true;
  }
  Result<bool> UseStep(std::string_view user_id, int64_t step) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end() || !it->second.enrolment.active ||
        it->second.enrolment.last_step >= step) {
      return false;
    }
    it->second.enrolment.last_step = step;
    return true;
  }
  Result<bool> UseRecoveryCode(std::string_view user_id, std::string_view digest,
                               int64_t) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end() || !it->second.enrolment.active) return false;
    auto c = it->second.codes.find(digest);
    if (c == it->second.codes.end() || c->second) return false;
    c->second = true;
    return true;
  }
  Result<int64_t> RecoveryCodesLeft(std::string_view user_id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end()) return int64_t{0};
    int64_t n = 0;
    for (const auto& [d, used] : it->second.codes) n += used ? 0 : 1;
    return n;
  }
  Result<bool> ReplaceRecoveryCodes(std::string_view user_id,
                                    const std::vector<std::string>& digests) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end() || !it->second.enrolment.active) return false;
    it->second.codes.clear();
    for (const auto& d : digests) it->second.codes[d] = false;
    return true;
  }
  Result<bool> Delete(std::string_view user_id) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(user_id);
    if (it == rows_.end()) return false;
    rows_.erase(it);
    return true;
  }

 private:
  struct Row {
    TotpEnrolment enrolment;
    std::map<std::string, bool, std::less<>> codes;  // digest -> used
  };
  std::mutex mu_;
  std::map<std::string, Row, std::less<>> rows_;
};

}  // namespace portcullis::oauth
