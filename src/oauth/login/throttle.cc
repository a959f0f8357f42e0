#include "oauth/login/throttle.h"

namespace portcullis::oauth {

bool LoginThrottle::Locked(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return false;
  if (clock_.Now() - it->second.first >= window_) return false;
  int limit = key.starts_with("ip:") ? max_ip_failures_ : max_failures_;
  return it->second.failures >= limit;
}

void LoginThrottle::Failure(std::string_view key) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.Now();
  if (entries_.size() > 100000) {
    // Bounded memory under a spray of keys: drop what has aged out.
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.first >= window_; });
  }
  auto& e = entries_[std::string(key)];
  if (e.failures == 0 || now - e.first >= window_) {
    e.failures = 0;
    e.first = now;
  }
  ++e.failures;
}

void LoginThrottle::Success(std::string_view key) {
  std::lock_guard lock(mu_);
  entries_.erase(std::string(key));
}

}  // namespace portcullis::oauth
