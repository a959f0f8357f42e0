#pragma once
// Persistence of the second factor (tables user_totp and user_recovery_codes, migration
// 0014_totp): one TOTP enrolment per local user, its secret sealed with the master key
// (SecondFactor seals it; the store never sees it in clear), the last time step a code was
// accepted for, and the user's recovery codes as keyed digests. Rows go with the user (ON
// DELETE CASCADE). SQL: store::SqlTotpStore (store/sql/totp_store.h); tests: MemoryTotpStore.
//
// Single-use rules are single-winner conditional updates, so several instances sharing one
// database accept a code or a recovery code at most once.
//
// Thread-safety: implementations are safe from many threads at once. Calls block (store I/O).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::oauth {

struct TotpEnrolment {
  std::string user_id;        // the enrolment key: TotpSubject() (second_factor.h)
  std::string secret_sealed;  // SealKey() of the raw secret, kid "totp:<user_id>"
  bool active = false;        // false: pending until a first valid code confirms it
  int64_t last_step = -1;     // the last time step a code was accepted for; -1: none yet
  int64_t created_at = 0;
  // A built-in user store's user (the row goes with the user); false for another
  // authenticator's (LDAP) user, whose key names the realm.
  bool local = true;
};

class TotpStore {
 public:
  virtual ~TotpStore() = default;

  // Stores a pending enrolment with its recovery code digests, replacing a pending one (and its
  // codes). False, and nothing changes, when the user has an active enrolment.
  virtual Result<bool> Begin(const TotpEnrolment& enrolment,
                             const std::vector<std::string>& recovery_digests) = 0;
  virtual Result<std::optional<TotpEnrolment>> Find(std::string_view user_id) = 0;
  // Pending -> active, with `step` as the last used step, if the pending row still holds
  // `secret_sealed` (a newer Begin replaced it otherwise). True for the one caller that did it.
  virtual Result<bool> Activate(std::string_view user_id, std::string_view secret_sealed,
                                int64_t step) = 0;
  // Records `step` as used if the enrolment is active and `step` is later than the last used
  // one: true for the one caller that wins it; false for a replay or an older step.
  virtual Result<bool> UseStep(std::string_view user_id, int64_t step) = 0;
  // Marks the recovery code with `digest` used at `now`, if it is unused and the enrolment is
  // active. True for the one caller that wins it.
  virtual Result<bool> UseRecoveryCode(std::string_view user_id, std::string_view digest,
                                       int64_t now) = 0;
  virtual Result<int64_t> RecoveryCodesLeft(std::string_view user_id) = 0;
  // Replaces every recovery code (used or not) with `recovery_digests`, if the enrolment is
  // active. False, and nothing changes, otherwise.
  virtual Result<bool> ReplaceRecoveryCodes(std::string_view user_id,
                                            const std::vector<std::string>& recovery_digests) = 0;
  // Removes the enrolment (pending or active) and every recovery code. False when none existed.
  virtual Result<bool> Delete(std::string_view user_id) = 0;
};

}  // namespace portcullis::oauth
