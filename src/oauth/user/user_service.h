#pragma once
// The local user store (reference §9): CRUD, password change, and the password check used by
// sign-in and the password grant.
//
// Passwords are argon2id (OWASP parameters). Create, ChangePassword and Authenticate hash or
// verify one password each (tens of milliseconds): call them from the hash pool, never from an
// I/O thread; they also touch the store, which is fine there (the hash pool is for exactly this
// kind of slow, blocking work). light-oauth2's PBKDF2 hashes (imported rows) are accepted and
// replaced by argon2id on the first successful check.
//
// Error order for Create follows light-oauth2 (reference §9): field checks (ERR11004), email
// in use (ERR12021), password or confirmation empty (ERR12011), mismatch (ERR12012), password
// policy (ERR11004), user id in use (ERR12020).
//
// Storage goes through UserStore (user_store.h) and audit entries through audit::AuditLog; the
// service opens the transactions (store::Database::Transact) and passes them to both, so a
// change, its audit row and the grants it ends commit together. It sends no SQL itself.
//
// Ownership: borrows `db`, `users`, `audit`, `clock` and `throttle`; they must outlive it.
// Thread-safety: safe from any thread; blocking.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/secret.h"
#include "oauth/audit/audit.h"
#include "oauth/client/authority.h"
#include "oauth/login/throttle.h"
#include "oauth/user/user.h"
#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::oauth {

class UserService {
 public:
  // Ends what a user holds (refresh tokens, unredeemed codes, SSO sessions) inside the given
  // transaction, at `now`: GrantRevocation::ForUser() (refresh/grant_revocation.h) in production.
  // Without one, every write that must end grants fails (Internal) rather than leave them.
  using RevokeGrants = std::function<Status(store::Tx& tx, std::string_view user_id, int64_t now)>;

  // `throttle`, when given, is the sign-in throttle: wrong current passwords in ChangePassword
  // count as failed sign-ins of that user, and a locked user gets 429 there too.
  UserService(store::Database& db, UserStore& users, audit::AuditLog& audit, const Clock& clock,
              LoginThrottle* throttle = nullptr, RevokeGrants revoke_grants = {});

  // The argon2id hash of a new password (HashPassword, credentials/secret_hash.h). Replaceable
  // for tests that count the hashes; set before the first call (not synchronised).
  using PasswordHasher = std::function<Result<std::string>(std::string_view password)>;
  void SetPasswordHasher(PasswordHasher hasher) { hash_password_ = std::move(hasher); }

  // Writes check `by` (authority.h): giving or taking the admin role needs a trusted caller; a
  // caller acting for a non-admin user may change only its own record. Default: the CLI.
  Result<User> Create(const UserPatch& patch, std::string_view actor,
                      const Authority& by = Authority::Full());
  // Profile fields only; the password is not changed here (ERR12013 unknown user).
  Result<User> Update(std::string_view user_id, const UserPatch& patch, std::string_view actor,
                      const Authority& by = Authority::Full());
  Result<User> Get(std::string_view user_id);
  // Sorted by userId; `user_id_prefix` filters.
  Result<UserPage> List(std::string_view user_id_prefix, int64_t offset, int64_t limit);
  // Deletes the user with their refresh tokens, sessions and consents.
  Result<User> Delete(std::string_view user_id, std::string_view actor,
                      const Authority& by = Authority::Full());
  // ERR12013 unknown user, ERR12016 wrong current password, ERR12011 empty, ERR12012 mismatch;
  // 429 slow_down while the user is locked by the throttle (the check is a password oracle).
  Status ChangePassword(std::string_view user_id, const PasswordChange& change,
                        std::string_view actor, const Authority& by = Authority::Full());
  // An administrator's reset (CLI): no current password needed; policy checked (ERR11004); the
  // user's grants end. ResetPassword with the CLI's full authority and no change required.
  Status SetPassword(std::string_view user_id, const Secret& password, std::string_view actor);
  // An administrator's reset through the admin API (POST /oauth2/user/{id}/password): no
  // current password; policy checked (ERR11004); the user must choose a new password at the
  // next sign-in (password_change_required), and their grants end. Refused (403) to a caller
  // acting for a non-admin user (a user changes its own password with ChangePassword), and, for
  // a target with the admin role, to a caller that is neither an admin user nor a trusted
  // client: resetting an admin's password hands over that account (authority.h rule 2).
  // ERR12013 unknown user. Every refusal comes before the hash, so a refused caller cannot spend
  // the hash pool's time; the checks are repeated in the write's transaction. Hashes: the hash
  // pool.
  Status ResetPassword(std::string_view user_id, const Secret& password, std::string_view actor,
                       const Authority& by);
  // The user when `password` is theirs: ERR12013 unknown (after a dummy hash, so timing does not
  // tell which ids exist), ERR12016 wrong password. Upgrades a legacy or weaker hash.
  Result<User> Authenticate(std::string_view user_id, const Secret& password);

 private:
  // SetPassword and ResetPassword: one administrator's reset, with or without a change required
  // at the next sign-in (each with its own audit action).
  Status WritePassword(std::string_view user_id, const Secret& password, std::string_view actor,
                       const Authority& by, bool require_change);
  store::Database& db_;
  UserStore& users_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  LoginThrottle* throttle_;
  RevokeGrants revoke_grants_;
  PasswordHasher hash_password_;
};

}  // namespace portcullis::oauth
