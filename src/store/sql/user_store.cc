#include "store/sql/user_store.h"
#include "store/sql/dialect_sql.h"

#include <string>

namespace portcullis::store {

using oauth::EmailInUse;
using oauth::User;
using oauth::UserExists;
using oauth::UserNotFound;
using oauth::UserPage;

namespace {

// The column list, in RowToUser's order, and the matching INSERT.
constexpr const char* kColumns =
    "user_id, user_type, first_name, last_name, email, password_hash, roles, created_at, "
    "updated_at, locked, email_verified, phone_number, phone_number_verified, address, "
    "password_change_required";
constexpr const char* kInsert =
    "INSERT INTO users (user_id, user_type, first_name, last_name, email, password_hash, roles, "
    "created_at, updated_at, locked, email_verified, phone_number, phone_number_verified, "
    "address, password_change_required) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "$12, $13, $14, $15)";

const std::string kSelectById =
    std::string("SELECT ") + kColumns + " FROM users WHERE user_id = $1";

Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

User RowToUser(const Row& r) {
  User u{r.Str(0), r.Str(1), r.Str(2),      r.Str(3), r.Str(4),
         r.Str(5), r.Str(6), r.Int(9) != 0, r.Int(7), r.Int(8)};
  u.email_verified = r.Int(10) != 0;
  u.phone_number = r.Str(11);
  u.phone_number_verified = r.Int(12) != 0;
  u.address = r.Str(13);
  u.password_change_required = r.Int(14) != 0;
  return u;
}

std::vector<Param> InsertParams(const User& u) {
  return {Text(u.user_id),
          Text(u.user_type),
          OptText(u.first_name),
          OptText(u.last_name),
          Text(u.email),
          Text(u.password_hash),
          OptText(u.roles),
          Int(u.created_at),
          Int(u.updated_at),
          Int(u.locked ? 1 : 0),
          Int(u.email_verified ? 1 : 0),
          OptText(u.phone_number),
          Int(u.phone_number_verified ? 1 : 0),
          OptText(u.address),
          Int(u.password_change_required ? 1 : 0)};
}

Result<std::optional<User>> One(Result<std::optional<Row>> row) {
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<User>();
  return std::optional<User>(RowToUser(**row));
}

}  // namespace

Result<std::optional<User>> SqlUserStore::Find(Tx& tx, std::string_view user_id) {
  return One(tx.QueryRow(kSelectById, {Text(user_id)}));
}

Result<std::optional<User>> SqlUserStore::Find(std::string_view user_id) {
  return One(db_.QueryRow(kSelectById, {Text(user_id)}));
}

Result<std::optional<User>> SqlUserStore::FindForUpdate(Tx& tx, std::string_view user_id) {
  // SQLite has no row locks: its write transactions exclude each other as a whole.
  return One(tx.QueryRow(kSelectById + ForUpdate(tx.dialect()), {Text(user_id)}));
}

Result<bool> SqlUserStore::EmailTaken(Tx& tx, std::string_view email,
                                      std::string_view except_user_id) {
  // Case-insensitive: mail domains are, and in practice local parts too.
  auto row = tx.QueryRow(
      "SELECT user_id FROM users WHERE lower(email) = lower(CAST($1 AS TEXT)) AND user_id <> $2",
      {Text(email), Text(except_user_id)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

Status SqlUserStore::Insert(Tx& tx, const User& u) {
  auto r = tx.Exec(kInsert, InsertParams(u));
  if (!r) {
    if (IsUniqueViolation(r.error())) {
      if (ViolatedKey(r.error()).find("email") != std::string::npos) {
        return Fail(EmailInUse(u.email));
      }
      return Fail(UserExists(u.user_id));
    }
    return Fail(std::move(r.error()));
  }
  return tx.Notify("user", u.user_id);
}

Result<bool> SqlUserStore::InsertIfAbsent(Tx& tx, const User& u) {
  auto r = tx.Exec(std::string(kInsert) + " ON CONFLICT DO NOTHING", InsertParams(u));
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Status SqlUserStore::Update(Tx& tx, const User& u) {
  auto r = tx.Exec(
      "UPDATE users SET user_type = $2, first_name = $3, last_name = $4, email = $5, "
      "roles = $6, updated_at = $7, locked = $8, email_verified = $9, phone_number = $10, "
      "phone_number_verified = $11, address = $12 WHERE user_id = $1",
      {Text(u.user_id), Text(u.user_type), OptText(u.first_name), OptText(u.last_name),
       Text(u.email), OptText(u.roles), Int(u.updated_at), Int(u.locked ? 1 : 0),
       Int(u.email_verified ? 1 : 0), OptText(u.phone_number), Int(u.phone_number_verified ? 1 : 0),
       OptText(u.address)});
  if (!r) {
    if (IsUniqueViolation(r.error())) return Fail(EmailInUse(u.email));
    return Fail(std::move(r.error()));
  }
  if (*r == 0) return Fail(UserNotFound(u.user_id));
  return tx.Notify("user", u.user_id);
}

Status SqlUserStore::Delete(Tx& tx, std::string_view user_id) {
  // What the user holds goes with them: refresh tokens, codes, sessions, consents (only the
  // user store's: a directory user of the same name is someone else, consents.realm).
  for (const char* sql :
       {"DELETE FROM refresh_tokens WHERE user_id = $1",
        "DELETE FROM auth_codes WHERE user_id = $1", "DELETE FROM sso_sessions WHERE user_id = $1",
        "DELETE FROM consents WHERE user_id = $1 AND realm = ''"}) {
    auto r = tx.Exec(sql, {Text(user_id)});
    if (!r) return Fail(std::move(r.error()));
  }
  auto r = tx.Exec("DELETE FROM users WHERE user_id = $1", {Text(user_id)});
  if (!r) return Fail(std::move(r.error()));
  if (*r == 0) return Fail(UserNotFound(user_id));
  return tx.Notify("user", user_id);
}

Result<bool> SqlUserStore::SetPasswordHash(Tx& tx, std::string_view user_id,
                                           std::string_view new_hash, int64_t now,
                                           std::optional<std::string_view> expected_hash) {
  auto r = expected_hash ? tx.Exec(
                               "UPDATE users SET password_hash = $3, updated_at = $4, "
                               "password_change_required = 0 "
                               "WHERE user_id = $1 AND "
                               "password_hash = $2",
                               {Text(user_id), Text(*expected_hash), Text(new_hash), Int(now)})
                         : tx.Exec(
                               "UPDATE users SET password_hash = $2, updated_at = $3, "
                               "password_change_required = 0 WHERE user_id = $1",
                               {Text(user_id), Text(new_hash), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  if (*r == 0) return false;
  if (auto n = tx.Notify("user", user_id); !n) return Fail(std::move(n.error()));
  return true;
}

Result<bool> SqlUserStore::RequirePasswordChange(Tx& tx, std::string_view user_id) {
  auto r =
      tx.Exec("UPDATE users SET password_change_required = 1 WHERE user_id = $1", {Text(user_id)});
  if (!r) return Fail(std::move(r.error()));
  if (*r == 0) return false;
  if (auto n = tx.Notify("user", user_id); !n) return Fail(std::move(n.error()));
  return true;
}

Result<bool> SqlUserStore::UpgradePasswordHash(Tx& tx, std::string_view user_id,
                                               std::string_view old_hash,
                                               std::string_view new_hash) {
  auto r = tx.Exec("UPDATE users SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2",
                   {Text(user_id), Text(old_hash), Text(new_hash)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<UserPage> SqlUserStore::List(std::string_view prefix, int64_t offset, int64_t limit) {
  return db_.TransactValue<UserPage>("user.list", [&](Tx& tx) -> Result<UserPage> {
    UserPage page;
    auto count = tx.QueryRow(
        "SELECT count(*) FROM users WHERE substr(user_id, 1, length(CAST($1 AS TEXT))) = "
        "CAST($1 AS TEXT)",
        {Text(prefix)});
    if (!count) return Fail(std::move(count.error()));
    page.total = *count ? (**count).Int(0) : 0;
    auto rows = tx.Query(std::string("SELECT ") + kColumns +
                             " FROM users WHERE substr(user_id, 1, length(CAST($1 AS TEXT))) = "
                             "CAST($1 AS TEXT) ORDER BY user_id" +
                             ByteOrder(tx.dialect()) + " LIMIT $2 OFFSET $3",
                         {Text(prefix), Int(limit), Int(offset)});
    if (!rows) return Fail(std::move(rows.error()));
    for (const auto& r : *rows) page.users.push_back(RowToUser(r));
    return page;
  });
}

}  // namespace portcullis::store
