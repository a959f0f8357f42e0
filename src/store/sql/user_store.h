#pragma once
// UserStore over the store driver (table users), for SQLite and PostgreSQL. Delete also removes
// the user's rows in refresh_tokens, auth_codes, sso_sessions and consents (see
// oauth/user/user_store.h). Thread-safe; borrows `db`, which must outlive it.

#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlUserStore final : public oauth::UserStore {
 public:
  explicit SqlUserStore(Database& db) : db_(db) {}

  Result<std::optional<oauth::User>> Find(Tx& tx, std::string_view user_id) override;
  Result<std::optional<oauth::User>> Find(std::string_view user_id) override;
  Result<std::optional<oauth::User>> FindForUpdate(Tx& tx, std::string_view user_id) override;
  Result<bool> EmailTaken(Tx& tx, std::string_view email, std::string_view except_user_id) override;
  Status Insert(Tx& tx, const oauth::User& user) override;
  Result<bool> InsertIfAbsent(Tx& tx, const oauth::User& user) override;
  Status Update(Tx& tx, const oauth::User& user) override;
  Status Delete(Tx& tx, std::string_view user_id) override;
  Result<bool> SetPasswordHash(Tx& tx, std::string_view user_id, std::string_view new_hash,
                               int64_t now, std::optional<std::string_view> expected_hash) override;
  Result<bool> RequirePasswordChange(Tx& tx, std::string_view user_id) override;
  Result<bool> UpgradePasswordHash(Tx& tx, std::string_view user_id, std::string_view old_hash,
                                   std::string_view new_hash) override;
  Result<oauth::UserPage> List(std::string_view user_id_prefix, int64_t offset,
                               int64_t limit) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
