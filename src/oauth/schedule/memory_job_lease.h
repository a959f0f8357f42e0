#pragma once
// JobLease in memory, for unit tests: the same rules as the SQL lease (job_lease.h).

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "oauth/schedule/job_lease.h"

namespace portcullis::oauth {

class MemoryJobLease final : public JobLease {
 public:
  Result<bool> Hold(std::string_view name, std::string_view holder, int64_t now,
                    int64_t expires_at) override {
    std::lock_guard lock(mu_);
    ++holds_;
    auto it = leases_.find(std::string(name));
    if (it == leases_.end()) {
      leases_.emplace(std::string(name), std::pair{std::string(holder), expires_at});
      return true;
    }
    auto& [current, until] = it->second;
    if (until < now || current == holder) {
      current = std::string(holder);
      until = expires_at;
      return true;
    }
    return false;
  }

  // How many times Hold was called (each is a store write in the SQL lease).
  int holds() {
    std::lock_guard lock(mu_);
    return holds_;
  }

 private:
  std::mutex mu_;
  int holds_ = 0;
  std::map<std::string, std::pair<std::string, int64_t>, std::less<>> leases_;  // holder, until
};

}  // namespace portcullis::oauth
