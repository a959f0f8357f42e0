#pragma once
// TotpStore over the store driver (tables user_totp, user_recovery_codes), for SQLite and
// PostgreSQL. Thread-safe; borrows `db`, which must outlive it.

#include "oauth/totp/totp_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlTotpStore final : public oauth::TotpStore {
 public:
  explicit SqlTotpStore(Database& db) : db_(db) {}

  Result<bool> Begin(const oauth::TotpEnrolment& enrolment,
                     const std::vector<std::string>& recovery_digests) override;
  Result<std::optional<oauth::TotpEnrolment>> Find(std::string_view user_id) override;
  Result<bool> Activate(std::string_view user_id, std::string_view secret_sealed,
                        int64_t step) override;
  Result<bool> UseStep(std::string_view user_id, int64_t step) override;
  Result<bool> UseRecoveryCode(std::string_view user_id, std::string_view digest,
                               int64_t now) override;
  Result<int64_t> RecoveryCodesLeft(std::string_view user_id) override;
  Result<bool> ReplaceRecoveryCodes(std::string_view user_id,
                                    const std::vector<std::string>& recovery_digests) override;
  Result<bool> Delete(std::string_view user_id) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
