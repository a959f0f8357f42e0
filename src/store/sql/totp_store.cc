#include "store/sql/totp_store.h"

namespace portcullis::store {

using oauth::TotpEnrolment;

Result<bool> SqlTotpStore::Begin(const TotpEnrolment& e, const std::vector<std::string>& digests) {
  return db_.TransactValue<bool>("totp.begin", [&](Tx& tx) -> Result<bool> {
    auto gone =
        tx.Exec("DELETE FROM user_totp WHERE user_id = $1 AND active = 0", {Text(e.user_id)});
    if (!gone) return Fail(gone.error());
    // An active row stays: the insert does nothing and the caller hears false. Two racing
    // Begins: one inserts, the other does nothing.
    auto n = tx.Exec(
        "INSERT INTO user_totp (user_id, local_user_id, secret_sealed, active, last_step,"
        " created_at) VALUES ($1, $2, $3, 0, -1, $4) ON CONFLICT (user_id) DO NOTHING",
        {Text(e.user_id), e.local ? Text(e.user_id) : Null(), Text(e.secret_sealed),
         Int(e.created_at)});
    if (!n) return Fail(n.error());
    if (*n == 0) return false;
    auto old = tx.Exec("DELETE FROM user_recovery_codes WHERE user_id = $1", {Text(e.user_id)});
    if (!old) return Fail(old.error());
    for (const auto& d : digests) {
      auto c = tx.Exec("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                       {Text(e.user_id), Text(d)});
      if (!c) return Fail(c.error());
    }
    return true;
  });
}

Result<std::optional<TotpEnrolment>> SqlTotpStore::Find(std::string_view user_id) {
  auto row = db_.QueryRow(
      "SELECT user_id, secret_sealed, active, last_step, created_at, local_user_id FROM user_totp"
      " WHERE user_id = $1",
      {Text(user_id)});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<TotpEnrolment>();
  const auto& r = **row;
  return std::optional<TotpEnrolment>(
      TotpEnrolment{r.Str(0), r.Str(1), r.Int(2) != 0, r.Int(3), r.Int(4), !r.Str(5).empty()});
}

Result<bool> SqlTotpStore::Activate(std::string_view user_id, std::string_view sealed,
                                    int64_t step) {
  auto n = db_.Exec(
      "UPDATE user_totp SET active = 1, last_step = $3"
      " WHERE user_id = $1 AND secret_sealed = $2 AND active = 0",
      {Text(user_id), Text(sealed), Int(step)});
  if (!n) return Fail(n.error());
  return *n == 1;
}

Result<bool> SqlTotpStore::UseStep(std::string_view user_id, int64_t step) {
  auto n = db_.Exec(
      "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND active = 1 AND last_step < $2",
      {Text(user_id), Int(step)});
  if (!n) return Fail(n.error());
  return *n == 1;
}

Result<bool> SqlTotpStore::UseRecoveryCode(std::string_view user_id, std::string_view digest,
                                           int64_t now) {
  auto n = db_.Exec(
      "UPDATE user_recovery_codes SET used_at = $3"
      " WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
      " AND EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = $1 AND t.active = 1)",
      {Text(user_id), Text(digest), Int(now)});
  if (!n) return Fail(n.error());
  return *n == 1;
}

Result<int64_t> SqlTotpStore::RecoveryCodesLeft(std::string_view user_id) {
  auto row = db_.QueryRow(
      "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
      {Text(user_id)});
  if (!row) return Fail(row.error());
  return *row ? (*row)->Int(0) : 0;
}

Result<bool> SqlTotpStore::ReplaceRecoveryCodes(std::string_view user_id,
                                                const std::vector<std::string>& digests) {
  return db_.TransactValue<bool>("totp.replace_codes", [&](Tx& tx) -> Result<bool> {
    // Touching the active row first orders this against a concurrent Delete or Begin.
    auto active = tx.Exec("UPDATE user_totp SET active = 1 WHERE user_id = $1 AND active = 1",
                          {Text(user_id)});
    if (!active) return Fail(active.error());
    if (*active == 0) return false;
    auto old = tx.Exec("DELETE FROM user_recovery_codes WHERE user_id = $1", {Text(user_id)});
    if (!old) return Fail(old.error());
    for (const auto& d : digests) {
      auto c = tx.Exec("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                       {Text(user_id), Text(d)});
      if (!c) return Fail(c.error());
    }
    return true;
  });
}

Result<bool> SqlTotpStore::Delete(std::string_view user_id) {
  return db_.TransactValue<bool>("totp.delete", [&](Tx& tx) -> Result<bool> {
    auto c = tx.Exec("DELETE FROM user_recovery_codes WHERE user_id = $1", {Text(user_id)});
    if (!c) return Fail(c.error());
    auto n = tx.Exec("DELETE FROM user_totp WHERE user_id = $1", {Text(user_id)});
    if (!n) return Fail(n.error());
    return *n > 0;
  });
}

}  // namespace portcullis::store
