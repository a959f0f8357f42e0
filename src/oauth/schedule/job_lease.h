#pragma once
// A named lease that lets exactly one instance among those sharing a store run a scheduled
// job (key rotation ticks, purging expired rows). The holder renews it on every scheduler tick;
// another instance takes it over only after it has lapsed, so a stopped instance's jobs move
// elsewhere within one lease period.
//
// Implementations: store::SqlJobLease (table job_locks, both backends), MemoryJobLease (unit
// tests). Thread-safety: implementations may be called from any thread; each call stands alone
// (its own transaction).

#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace portcullis::oauth {

class JobLease {
 public:
  virtual ~JobLease() = default;

  // Takes or renews the lease `name` for `holder` until `expires_at` (unix seconds). True when
  // `holder` holds it afterwards: it was free, already ours, or lapsed (its expires_at < now).
  // False when another holder's lease is still running. A single conditional write, so two
  // instances racing for a lapsed lease never both win.
  virtual Result<bool> Hold(std::string_view name, std::string_view holder, int64_t now,
                            int64_t expires_at) = 0;
};

}  // namespace portcullis::oauth
