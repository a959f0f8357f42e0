#pragma once
// Time source. Domain code never reads the wall clock directly: it is handed a Clock, so expiry
// and key rotation can be tested with a ManualClock and no sleeping.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace portcullis {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t Now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& Instance() {
    static const SystemClock clock;
    return clock;
  }
};

// For tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now = 1'700'000'000) : now_(now) {}
  int64_t Now() const override { return now_.load(); }
  void Set(int64_t now) { now_ = now; }
  void Advance(int64_t seconds) { now_ += seconds; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace portcullis
