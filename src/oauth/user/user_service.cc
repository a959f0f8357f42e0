#include "oauth/user/user_service.h"

#include <boost/json/object.hpp>

#include "common/log.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/login/throttle.h"
#include "oauth/refresh/grant_revocation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Text;

constexpr const char* kColumns =
    "user_id, user_type, first_name, last_name, email, password_hash, roles, created_at, "
    "updated_at, locked";

store::Param OptText(const std::string& s) { return s.empty() ? store::Null() : Text(s); }

User RowToUser(const store::Row& r) {
  return User{r.Str(0), r.Str(1), r.Str(2),      r.Str(3), r.Str(4),
              r.Str(5), r.Str(6), r.Int(9) != 0, r.Int(7), r.Int(8)};
}

Error NotFound(std::string_view id) {
  return Error::Status("ERR12013", "User " + std::string(id) + " is not found.");
}

Error EmailExists(std::string_view email) {
  return Error::Status("ERR12021", "Email " + std::string(email) + " already exists.");
}

// Another user with this e-mail address (case-insensitive: mail domains are, and in practice
// local parts too).
Result<bool> EmailTaken(store::Tx& tx, std::string_view email, std::string_view except_user) {
  auto row = tx.QueryRow(
      "SELECT user_id FROM users WHERE lower(email) = lower(CAST($1 AS TEXT)) AND user_id <> $2",
      {Text(email), Text(except_user)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

// A hash of a throw-away password, verified against when the user does not exist, so a failed
// sign-in costs the same either way.
const std::string& DummyHash() {
  static const std::string hash = HashPassword("portcullis-dummy-password").value_or("");
  return hash;
}

}  // namespace

UserService::UserService(store::Database& db, const Clock& clock, LoginThrottle* throttle)
    : db_(db), clock_(clock), throttle_(throttle) {}

Result<std::optional<User>> UserService::Find(std::string_view user_id) {
  auto row = db_.QueryRow(std::string("SELECT ") + kColumns + " FROM users WHERE user_id = $1",
                          {Text(user_id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<User>();
  return std::optional<User>(RowToUser(**row));
}

Result<User> UserService::Create(const UserPatch& p, std::string_view actor, const Authority& by) {
  if (!p.user_id || p.user_id->empty()) return Fail(FieldError("userId", "is required"));
  if (!p.user_type || p.user_type->empty()) return Fail(FieldError("userType", "is required"));
  if (!p.email || p.email->empty()) return Fail(FieldError("email", "is required"));
  User u;
  u.user_id = *p.user_id;
  ApplyPatch(p, u);
  if (auto st = ValidateUser(u); !st) return Fail(std::move(st.error()));
  if (auto st = CheckUserWrite(by, u.user_id, nullptr, &u.roles); !st) {
    return Fail(std::move(st.error()));
  }

  // Cheap checks first, in light-oauth2's order; the hash only once they pass.
  auto taken = db_.TransactValue<bool>("user.check",
                                       [&](store::Tx& tx) { return EmailTaken(tx, u.email, ""); });
  if (!taken) return Fail(std::move(taken.error()));
  if (*taken) return Fail(EmailExists(u.email));
  if (!p.password || p.password->empty() || !p.password_confirm || p.password_confirm->empty()) {
    return Fail(Error::Status("ERR12011"));
  }
  if (!p.password->Equals(p.password_confirm->Reveal())) return Fail(Error::Status("ERR12012"));
  if (auto st = CheckPasswordPolicy("password", *p.password); !st) {
    return Fail(std::move(st.error()));
  }
  auto existing = Find(u.user_id);
  if (!existing) return Fail(std::move(existing.error()));
  if (*existing) {
    return Fail(Error::Status("ERR12020", "User " + u.user_id + " already exists."));
  }

  auto hash = HashPassword(p.password->Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  u.password_hash = std::move(*hash);
  u.created_at = u.updated_at = clock_.Now();
  auto st = db_.Transact("user.create", [&](store::Tx& tx) -> Status {
    // Re-checked inside the transaction: another request may have taken the address meanwhile.
    auto again = EmailTaken(tx, u.email, "");
    if (!again) return Fail(std::move(again.error()));
    if (*again) return Fail(EmailExists(u.email));
    auto r = tx.Exec(std::string("INSERT INTO users (") + kColumns +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     {Text(u.user_id), Text(u.user_type), OptText(u.first_name),
                      OptText(u.last_name), Text(u.email), Text(u.password_hash), OptText(u.roles),
                      Int(u.created_at), Int(u.updated_at), Int(u.locked ? 1 : 0)});
    if (!r) {
      if (store::IsUniqueViolation(r.error())) {
        if (store::ViolatedKey(r.error()).find("email") != std::string::npos) {
          return Fail(EmailExists(u.email));
        }
        return Fail(Error::Status("ERR12020", "User " + u.user_id + " already exists."));
      }
      return Fail(std::move(r.error()));
    }
    if (auto n = tx.Notify("user", u.user_id); !n) return n;
    return audit::Record(tx, u.created_at,
                         {std::string(actor), "user.create", "user", u.user_id, std::nullopt,
                          json::value(UserToJson(u))});
  });
  if (!st) return Fail(std::move(st.error()));
  return u;
}

Result<User> UserService::Update(std::string_view user_id, const UserPatch& p,
                                 std::string_view actor, const Authority& by) {
  return db_.TransactValue<User>("user.update", [&](store::Tx& tx) -> Result<User> {
    auto row = tx.QueryRow(std::string("SELECT ") + kColumns + " FROM users WHERE user_id = $1" +
                               std::string(client_store::ForUpdate(tx.dialect())),
                           {Text(user_id)});
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(NotFound(user_id));
    User before = RowToUser(**row);
    User u = before;
    ApplyPatch(p, u);
    if (auto st = ValidateUser(u); !st) return Fail(std::move(st.error()));
    if (auto st = CheckUserWrite(by, before.user_id, &before.roles, &u.roles); !st) {
      return Fail(std::move(st.error()));
    }
    if (u.email != before.email) {
      auto taken = EmailTaken(tx, u.email, u.user_id);
      if (!taken) return Fail(std::move(taken.error()));
      if (*taken) return Fail(EmailExists(u.email));
    }
    u.updated_at = clock_.Now();
    auto r = tx.Exec(
        "UPDATE users SET user_type = $2, first_name = $3, last_name = $4, email = $5, "
        "roles = $6, updated_at = $7, locked = $8 WHERE user_id = $1",
        {Text(u.user_id), Text(u.user_type), OptText(u.first_name), OptText(u.last_name),
         Text(u.email), OptText(u.roles), Int(u.updated_at), Int(u.locked ? 1 : 0)});
    if (!r) {
      if (store::IsUniqueViolation(r.error())) return Fail(EmailExists(u.email));
      return Fail(std::move(r.error()));
    }
    // Locking ends what the account holds, in this transaction. (A role or type change needs
    // nothing here: a refresh reads them again from this table.)
    if (u.locked && !before.locked) {
      if (auto st = RevokeUserGrants(tx, u.user_id, u.updated_at); !st) {
        return Fail(std::move(st.error()));
      }
    }
    if (auto n = tx.Notify("user", u.user_id); !n) return Fail(std::move(n.error()));
    if (auto a = audit::Record(tx, u.updated_at,
                               {std::string(actor), "user.update", "user", u.user_id,
                                json::value(UserToJson(before)), json::value(UserToJson(u))});
        !a) {
      return Fail(std::move(a.error()));
    }
    return u;
  });
}

Result<User> UserService::Get(std::string_view user_id) {
  auto u = Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return Fail(NotFound(user_id));
  return std::move(**u);
}

Result<UserPage> UserService::List(std::string_view prefix, int64_t offset, int64_t limit) {
  return db_.TransactValue<UserPage>("user.list", [&](store::Tx& tx) -> Result<UserPage> {
    UserPage page;
    auto count = tx.QueryRow(
        "SELECT count(*) FROM users WHERE substr(user_id, 1, length(CAST($1 AS TEXT))) = "
        "CAST($1 AS TEXT)",
        {Text(prefix)});
    if (!count) return Fail(std::move(count.error()));
    page.total = *count ? (**count).Int(0) : 0;
    auto rows =
        tx.Query(std::string("SELECT ") + kColumns +
                     " FROM users WHERE substr(user_id, 1, length(CAST($1 AS TEXT))) = "
                     "CAST($1 AS TEXT) ORDER BY user_id" +
                     std::string(client_store::ByteOrder(tx.dialect())) + " LIMIT $2 OFFSET $3",
                 {Text(prefix), Int(limit), Int(offset)});
    if (!rows) return Fail(std::move(rows.error()));
    for (const auto& r : *rows) page.users.push_back(RowToUser(r));
    return page;
  });
}

Result<User> UserService::Delete(std::string_view user_id, std::string_view actor,
                                 const Authority& by) {
  return db_.TransactValue<User>("user.delete", [&](store::Tx& tx) -> Result<User> {
    auto row = tx.QueryRow(std::string("SELECT ") + kColumns + " FROM users WHERE user_id = $1" +
                               std::string(client_store::ForUpdate(tx.dialect())),
                           {Text(user_id)});
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(NotFound(user_id));
    User before = RowToUser(**row);
    if (auto st = CheckUserWrite(by, before.user_id, &before.roles, nullptr); !st) {
      return Fail(std::move(st.error()));
    }
    // What the user holds goes with them: refresh tokens, codes, sessions, consents.
    for (const char* sql :
         {"DELETE FROM refresh_tokens WHERE user_id = $1",
          "DELETE FROM auth_codes WHERE user_id = $1",
          "DELETE FROM sso_sessions WHERE user_id = $1", "DELETE FROM consents WHERE user_id = $1",
          "DELETE FROM users WHERE user_id = $1"}) {
      auto r = tx.Exec(sql, {Text(user_id)});
      if (!r) return Fail(std::move(r.error()));
    }
    if (auto n = tx.Notify("user", user_id); !n) return Fail(std::move(n.error()));
    if (auto a = audit::Record(tx, clock_.Now(),
                               {std::string(actor), "user.delete", "user", std::string(user_id),
                                json::value(UserToJson(before)), std::nullopt});
        !a) {
      return Fail(std::move(a.error()));
    }
    return before;
  });
}

Status UserService::ChangePassword(std::string_view user_id, const PasswordChange& change,
                                   std::string_view actor, const Authority& by) {
  auto u = Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return Fail(NotFound(user_id));
  if (auto st = CheckUserWrite(by, user_id, &(*u)->roles, &(*u)->roles); !st) return st;
  // The current-password check answers guesses like a sign-in does, so it has a token bucket
  // like a sign-in's (login/throttle.h), per user: the caller is an admin client, not an address.
  // Acquire checks and counts in one step, so parallel guesses cannot pass a stale check.
  const std::string throttle_key = LoginThrottle::AccountKey(user_id, "");
  if (throttle_ != nullptr) {
    if (auto a = throttle_->Acquire(throttle_key); !a.allowed) {
      Error e = Error::OAuth(429, "slow_down", "Too many failed attempts. Try again later.");
      e.retry_after = a.retry_after;
      return Fail(std::move(e));
    }
  }
  if (!VerifyPassword(change.password.Reveal(), (*u)->password_hash)) {
    return Fail(Error::Status("ERR12016", "The current password is incorrect."));
  }
  if (throttle_ != nullptr) throttle_->Success(throttle_key);
  if (change.new_password.empty() || change.new_password_confirm.empty()) {
    return Fail(Error::Status("ERR12011"));
  }
  if (!change.new_password.Equals(change.new_password_confirm.Reveal())) {
    return Fail(Error::Status("ERR12012"));
  }
  if (auto st = CheckPasswordPolicy("newPassword", change.new_password); !st) return st;
  auto hash = HashPassword(change.new_password.Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  const std::string old_hash = (*u)->password_hash;
  return db_.Transact("user.password", [&](store::Tx& tx) -> Status {
    int64_t now = clock_.Now();
    // Conditional on the hash checked above: a concurrent change makes this one fail cleanly.
    auto r = tx.Exec(
        "UPDATE users SET password_hash = $3, updated_at = $4 WHERE user_id = $1 AND "
        "password_hash = $2",
        {Text(user_id), Text(old_hash), Text(*hash), Int(now)});
    if (!r) return Fail(std::move(r.error()));
    if (*r == 0) {
      return Fail(Error::Status("ERR12016", "The password was changed meanwhile; try again."));
    }
    // Whoever knew the old password may hold sessions and refresh tokens: end them with it.
    if (auto st = RevokeUserGrants(tx, user_id, now); !st) return st;
    if (auto n = tx.Notify("user", user_id); !n) return n;
    json::object after;
    after["userId"] = user_id;
    after["passwordChangedAt"] = now;
    return audit::Record(tx, now,
                         {std::string(actor), "user.password", "user", std::string(user_id),
                          std::nullopt, json::value(std::move(after))});
  });
}

Status UserService::SetPassword(std::string_view user_id, const Secret& password,
                                std::string_view actor) {
  if (password.empty()) return Fail(Error::Status("ERR12011"));
  if (auto st = CheckPasswordPolicy("password", password); !st) return st;
  auto hash = HashPassword(password.Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  return db_.Transact("user.set_password", [&](store::Tx& tx) -> Status {
    int64_t now = clock_.Now();
    auto r = tx.Exec("UPDATE users SET password_hash = $2, updated_at = $3 WHERE user_id = $1",
                     {Text(user_id), Text(*hash), Int(now)});
    if (!r) return Fail(std::move(r.error()));
    if (*r == 0) return Fail(NotFound(user_id));
    // A reset is what an administrator does for a compromised account: end its grants too.
    if (auto st = RevokeUserGrants(tx, user_id, now); !st) return st;
    if (auto n = tx.Notify("user", user_id); !n) return n;
    json::object after;
    after["userId"] = user_id;
    after["passwordResetAt"] = now;
    return audit::Record(tx, now,
                         {std::string(actor), "user.set_password", "user", std::string(user_id),
                          std::nullopt, json::value(std::move(after))});
  });
}

Result<User> UserService::Authenticate(std::string_view user_id, const Secret& password) {
  auto u = Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) {
    (void)VerifyPassword(password.Reveal(), DummyHash());
    return Fail(NotFound(user_id));
  }
  User user = std::move(**u);
  if (!VerifyPassword(password.Reveal(), user.password_hash)) {
    return Fail(Error::Status("ERR12016"));
  }
  // Checked after the hash, so a locked account answers like a wrong password, in the same time.
  if (user.locked) return Fail(Error::Status("ERR12016"));
  if (PasswordNeedsRehash(user.password_hash)) {
    auto hash = HashPassword(password.Reveal());
    if (hash) {
      auto st = db_.Transact("user.rehash", [&](store::Tx& tx) -> Status {
        auto r =
            tx.Exec("UPDATE users SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2",
                    {Text(user.user_id), Text(user.password_hash), Text(*hash)});
        if (!r) return Fail(std::move(r.error()));
        if (*r == 0) return {};
        json::object after;
        after["userId"] = user.user_id;
        after["passwordFormat"] = "argon2id";
        return audit::Record(tx, clock_.Now(),
                             {"system", "user.upgrade_password", "user", user.user_id, std::nullopt,
                              json::value(std::move(after))});
      });
      if (st) {
        user.password_hash = std::move(*hash);
      } else {
        log::Warn("user.rehash_failed", {{"user_id", user.user_id}, {"detail", st.error().detail}});
      }
    }
  }
  return user;
}

}  // namespace portcullis::oauth
