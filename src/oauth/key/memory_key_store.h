#pragma once
// In-memory KeyStore for tests (and a single-process development mode). Thread-safe.
// fail_next_calls() lets tests inject store outages.

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "oauth/key/key_store.h"

namespace portcullis::oauth {

class MemoryKeyStore final : public KeyStore {
 public:
  Status Create(const SigningKeyRecord& record) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    for (const auto& r : records_) {
      if (r.kid == record.kid) return Fail(KeyConflict("kid exists: " + record.kid));
    }
    records_.push_back(record);
    return {};
  }

  Result<std::vector<SigningKeyRecord>> List() override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    return records_;
  }

  Status UpdateState(std::string_view kid, const KeyStateChange& change) override {
    std::lock_guard lock(mu_);
    if (auto e = InjectedFailure()) return Fail(*e);
    for (auto& r : records_) {
      if (r.kid != kid) continue;
      if (r.state != change.from) {
        return Fail(KeyConflict(r.kid + " is " + std::string(KeyStateName(r.state))));
      }
      r.state = change.to;
      if (change.retired_at) r.retired_at = *change.retired_at;
      if (change.expires_at) r.expires_at = *change.expires_at;
      return {};
    }
    return Fail(KeyNotFound(kid));
  }

  // The next `n` calls fail with an Unavailable error.
  void fail_next_calls(int n) { failures_ = n; }

 private:
  std::optional<Error> InjectedFailure() {
    if (failures_ <= 0) return std::nullopt;
    --failures_;
    return Error::Unavailable("injected key store failure");
  }

  std::mutex mu_;
  std::vector<SigningKeyRecord> records_;
  std::atomic<int> failures_{0};
};

}  // namespace portcullis::oauth
