#pragma once
// Brute-force defence for logins: failures are counted per key (a user id, an IP) in a sliding
// window; past the key's limit it is locked until the window passes. IP keys ("ip:...") get a
// higher limit than user keys: many users may share one address behind NAT, while a single
// account needs only a few tries. In memory, per
// instance: an attacker spreading guesses over N instances gets N times the budget, which the
// window still bounds. Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace portcullis::oauth {

class LoginThrottle {
 public:
  LoginThrottle(const Clock& clock, int max_failures = 5, int64_t window_seconds = 300,
                int max_ip_failures = 50)
      : clock_(clock),
        max_failures_(max_failures),
        max_ip_failures_(max_ip_failures),
        window_(window_seconds) {}

  bool Locked(std::string_view key) const;
  void Failure(std::string_view key);
  void Success(std::string_view key);

 private:
  struct Entry {
    int failures = 0;
    int64_t first = 0;
  };
  const Clock& clock_;
  const int max_failures_;
  const int max_ip_failures_;
  const int64_t window_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace portcullis::oauth
