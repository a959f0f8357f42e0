#pragma once
// Persistence of the local users (table users). The SQL implementation is
// store::SqlUserStore (store/sql/user_store.h), for SQLite and PostgreSQL; unit tests use
// MemoryUserStore (memory_user_store.h). Only domain types cross this interface.
//
// Transactions: a method that takes `store::Tx&` runs inside the caller's transaction, so the
// write commits together with what the caller does in it (audit row, grant revocation) and the
// caller decides the boundaries; the store never commits it. Methods without a Tx stand alone
// (one statement, or a transaction of their own). Writes that change a user (Insert, Update,
// Delete, SetPasswordHash) send the store notification ("user", id) inside `tx`; a hash upgrade
// and the import do not (nothing a reader caches changes).
//
// Errors: the shapes below (UserNotFound, UserExists, EmailInUse), so callers need not know the
// backend; any other failure is the driver's (Unavailable, Internal).
//
// Thread-safety: implementations are safe to call from many threads at once. Calls block
// (store I/O): never on an I/O thread. The store borrows nothing from the caller beyond the call.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/user/user.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

struct UserPage {
  std::vector<User> users;
  int64_t total = 0;  // users matching the filter
};

// Error shapes every implementation uses (light-oauth2's codes, reference §9). Inline, so the
// login module can use the interface without linking the user module.
inline Error UserNotFound(std::string_view user_id) {  // ERR12013
  return Error::Status("ERR12013", "User " + std::string(user_id) + " is not found.");
}
inline Error UserExists(std::string_view user_id) {  // ERR12020
  return Error::Status("ERR12020", "User " + std::string(user_id) + " already exists.");
}
inline Error EmailInUse(std::string_view email) {  // ERR12021
  return Error::Status("ERR12021", "Email " + std::string(email) + " already exists.");
}

class UserStore {
 public:
  virtual ~UserStore() = default;

  // The user, or nullopt, read inside `tx` (e.g. the refresh grant's transaction).
  virtual Result<std::optional<User>> Find(store::Tx& tx, std::string_view user_id) = 0;
  // The same outside any transaction (one read).
  virtual Result<std::optional<User>> Find(std::string_view user_id) = 0;
  // The same, and the row stays locked against other writers until `tx` ends (read-modify-
  // write of one user).
  virtual Result<std::optional<User>> FindForUpdate(store::Tx& tx, std::string_view user_id) = 0;
  // True when a user other than `except_user_id` has `email`, ignoring ASCII case.
  virtual Result<bool> EmailTaken(store::Tx& tx, std::string_view email,
                                  std::string_view except_user_id) = 0;

  // Adds `user` (every field, the password hash included). EmailInUse when the e-mail address is
  // stored exactly so already, else UserExists when the id is.
  virtual Status Insert(store::Tx& tx, const User& user) = 0;
  // Adds `user` unless its id or e-mail address exists (the light-oauth2 import keeps existing
  // rows): true when added. No notification.
  virtual Result<bool> InsertIfAbsent(store::Tx& tx, const User& user) = 0;
  // Writes the profile of `user` (type, names, e-mail, roles, locked, updated_at), never the
  // password hash or created_at. UserNotFound when the id is unknown; EmailInUse on a conflict.
  virtual Status Update(store::Tx& tx, const User& user) = 0;
  // Deletes the user together with what the user holds in the store: refresh tokens,
  // authorization codes, SSO sessions and consents. UserNotFound when the id is unknown.
  virtual Status Delete(store::Tx& tx, std::string_view user_id) = 0;

  // Sets a new password hash and updated_at = `now`; when `expected_hash` is given, only if the
  // stored hash is still that one (a concurrent change then loses cleanly). False when nothing
  // changed: the id is unknown, or the hash was not the expected one.
  virtual Result<bool> SetPasswordHash(store::Tx& tx, std::string_view user_id,
                                       std::string_view new_hash, int64_t now,
                                       std::optional<std::string_view> expected_hash) = 0;
  // Replaces `old_hash` by `new_hash`, the same password hashed better (a legacy PBKDF2 or weak
  // argon2id upgraded); updated_at stays. False when the stored hash is no longer `old_hash`.
  virtual Result<bool> UpgradePasswordHash(store::Tx& tx, std::string_view user_id,
                                           std::string_view old_hash,
                                           std::string_view new_hash) = 0;

  // Marks the user as having to choose a new password at the next sign-in (an administrator's
  // reset: UserService::ResetPassword), after SetPasswordHash in the same `tx`; sends the
  // notification. False when the id is unknown.
  virtual Result<bool> RequirePasswordChange(store::Tx& tx, std::string_view user_id) = 0;

  // Users whose id starts with `user_id_prefix`, sorted by id (bytewise), from `offset`, at most
  // `limit`, with the number matching. Reads in one transaction of its own.
  virtual Result<UserPage> List(std::string_view user_id_prefix, int64_t offset, int64_t limit) = 0;
};

}  // namespace portcullis::oauth
