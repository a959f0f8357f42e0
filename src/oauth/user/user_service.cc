#include "oauth/user/user_service.h"

#include <boost/json/object.hpp>

#include "common/log.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/login/throttle.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

// A hash of a throw-away password, verified against when the user does not exist, so a failed
// sign-in costs the same either way.
const std::string& DummyHash() {
  static const std::string hash = HashPassword("portcullis-dummy-password").value_or("");
  return hash;
}

}  // namespace

UserService::UserService(store::Database& db, UserStore& users, audit::AuditLog& audit,
                         const Clock& clock, LoginThrottle* throttle, RevokeGrants revoke_grants)
    : db_(db),
      users_(users),
      audit_(audit),
      clock_(clock),
      throttle_(throttle),
      revoke_grants_(revoke_grants ? std::move(revoke_grants)
                                   : [](store::Tx&, std::string_view, int64_t) -> Status {
        return Fail(Error::Internal("no grant revocation wired"));
      }),
      hash_password_([](std::string_view password) { return HashPassword(password); }) {}

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
  auto taken = db_.TransactValue<bool>(
      "user.check", [&](store::Tx& tx) { return users_.EmailTaken(tx, u.email, ""); });
  if (!taken) return Fail(std::move(taken.error()));
  if (*taken) return Fail(EmailInUse(u.email));
  if (!p.password || p.password->empty() || !p.password_confirm || p.password_confirm->empty()) {
    return Fail(Error::Status("ERR12011"));
  }
  if (!p.password->Equals(p.password_confirm->Reveal())) return Fail(Error::Status("ERR12012"));
  if (auto st = CheckPasswordPolicy("password", *p.password); !st) {
    return Fail(std::move(st.error()));
  }
  auto existing = users_.Find(u.user_id);
  if (!existing) return Fail(std::move(existing.error()));
  if (*existing) return Fail(UserExists(u.user_id));

  auto hash = HashPassword(p.password->Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  u.password_hash = std::move(*hash);
  u.password_change_required = p.password_change_required.value_or(false);
  u.created_at = u.updated_at = clock_.Now();
  auto st = db_.Transact("user.create", [&](store::Tx& tx) -> Status {
    // Re-checked inside the transaction: another request may have taken the address meanwhile.
    auto again = users_.EmailTaken(tx, u.email, "");
    if (!again) return Fail(std::move(again.error()));
    if (*again) return Fail(EmailInUse(u.email));
    if (auto r = users_.Insert(tx, u); !r) return r;
    return audit_.Record(tx, u.created_at,
                         {std::string(actor), "user.create", "user", u.user_id, std::nullopt,
                          json::value(UserToJson(u))});
  });
  if (!st) return Fail(std::move(st.error()));
  return u;
}

Result<User> UserService::Update(std::string_view user_id, const UserPatch& p,
                                 std::string_view actor, const Authority& by) {
  return db_.TransactValue<User>("user.update", [&](store::Tx& tx) -> Result<User> {
    auto found = users_.FindForUpdate(tx, user_id);
    if (!found) return Fail(std::move(found.error()));
    if (!*found) return Fail(UserNotFound(user_id));
    User before = std::move(**found);
    User u = before;
    ApplyPatch(p, u);
    if (auto st = ValidateUser(u); !st) return Fail(std::move(st.error()));
    if (auto st = CheckUserWrite(by, before.user_id, &before.roles, &u.roles); !st) {
      return Fail(std::move(st.error()));
    }
    if (u.email != before.email) {
      auto taken = users_.EmailTaken(tx, u.email, u.user_id);
      if (!taken) return Fail(std::move(taken.error()));
      if (*taken) return Fail(EmailInUse(u.email));
    }
    u.updated_at = clock_.Now();
    if (auto st = users_.Update(tx, u); !st) return Fail(std::move(st.error()));
    // Locking ends what the account holds, in this transaction. (A role or type change needs
    // nothing here: a refresh reads them again from the user store.)
    if (u.locked && !before.locked) {
      if (auto st = revoke_grants_(tx, u.user_id, u.updated_at); !st) {
        return Fail(std::move(st.error()));
      }
    }
    if (auto a = audit_.Record(tx, u.updated_at,
                               {std::string(actor), "user.update", "user", u.user_id,
                                json::value(UserToJson(before)), json::value(UserToJson(u))});
        !a) {
      return Fail(std::move(a.error()));
    }
    return u;
  });
}

Result<User> UserService::Get(std::string_view user_id) {
  auto u = users_.Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return Fail(UserNotFound(user_id));
  return std::move(**u);
}

Result<UserPage> UserService::List(std::string_view prefix, int64_t offset, int64_t limit) {
  return users_.List(prefix, offset, limit);
}

Result<User> UserService::Delete(std::string_view user_id, std::string_view actor,
                                 const Authority& by) {
  return db_.TransactValue<User>("user.delete", [&](store::Tx& tx) -> Result<User> {
    auto found = users_.FindForUpdate(tx, user_id);
    if (!found) return Fail(std::move(found.error()));
    if (!*found) return Fail(UserNotFound(user_id));
    User before = std::move(**found);
    if (auto st = CheckUserWrite(by, before.user_id, &before.roles, nullptr); !st) {
      return Fail(std::move(st.error()));
    }
    // Ended first like a lock, so what follows a session's end (back-channel logout) happens;
    // then the store deletes what the user holds with them: refresh tokens, codes, sessions,
    // consents.
    if (auto st = revoke_grants_(tx, user_id, clock_.Now()); !st)
      return Fail(std::move(st.error()));
    if (auto st = users_.Delete(tx, user_id); !st) return Fail(std::move(st.error()));
    if (auto a = audit_.Record(tx, clock_.Now(),
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
  auto u = users_.Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return Fail(UserNotFound(user_id));
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
    auto changed = users_.SetPasswordHash(tx, user_id, *hash, now, old_hash);
    if (!changed) return Fail(std::move(changed.error()));
    if (!*changed) {
      return Fail(Error::Status("ERR12016", "The password was changed meanwhile; try again."));
    }
    // Whoever knew the old password may hold sessions and refresh tokens: end them with it.
    if (auto st = revoke_grants_(tx, user_id, now); !st) return st;
    json::object after;
    after["userId"] = user_id;
    after["passwordChangedAt"] = now;
    return audit_.Record(tx, now,
                         {std::string(actor), "user.password", "user", std::string(user_id),
                          std::nullopt, json::value(std::move(after))});
  });
}

Status UserService::SetPassword(std::string_view user_id, const Secret& password,
                                std::string_view actor) {
  return WritePassword(user_id, password, actor, Authority::Full(), /*require_change=*/false);
}

Status UserService::ResetPassword(std::string_view user_id, const Secret& password,
                                  std::string_view actor, const Authority& by) {
  return WritePassword(user_id, password, actor, by, /*require_change=*/true);
}

// Both administrator resets: the CLI's set-password (the CLI's full authority, no change
// required) and the API's reset (the caller's authority, a change required at next sign-in).
Status UserService::WritePassword(std::string_view user_id, const Secret& password,
                                  std::string_view actor, const Authority& by,
                                  bool require_change) {
  if (by.ActsForNonAdminUser()) {
    return Fail(Error::Status("ERR11620", "Only an admin may reset a password."));
  }
  if (password.empty()) return Fail(Error::Status("ERR12011"));
  if (auto st = CheckPasswordPolicy("password", password); !st) return st;
  // An admin's password needs an admin user or a trusted client (authority.h rule 2).
  auto may_reset = [&](const User& target) -> Status {
    if (HasRole(target.roles, "admin") && !by.full && !by.trusted && !HasRole(by.roles, "admin")) {
      return Fail(Error::Status(
          "ERR11620", "Only an admin user or a trusted client may reset an admin's password."));
    }
    return {};
  };
  // The user and the caller's right first: argon2id only for a reset that may happen.
  auto target = users_.Find(user_id);
  if (!target) return Fail(std::move(target.error()));
  if (!*target) return Fail(UserNotFound(user_id));
  if (auto st = may_reset(**target); !st) return st;
  auto hash = hash_password_(password.Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  const char* action = require_change ? "user.password_reset" : "user.set_password";
  return db_.Transact(action, [&](store::Tx& tx) -> Status {
    int64_t now = clock_.Now();
    // Again under the row lock: the roles may have changed while the hash was computed.
    auto found = users_.FindForUpdate(tx, user_id);
    if (!found) return Fail(std::move(found.error()));
    if (!*found) return Fail(UserNotFound(user_id));
    if (auto st = may_reset(**found); !st) return st;
    // Clears password_change_required (user.h); a reset that requires a change sets it again.
    auto changed = users_.SetPasswordHash(tx, user_id, *hash, now, std::nullopt);
    if (!changed) return Fail(std::move(changed.error()));
    if (!*changed) return Fail(UserNotFound(user_id));
    if (require_change) {
      auto flagged = users_.RequirePasswordChange(tx, user_id);
      if (!flagged) return Fail(std::move(flagged.error()));
    }
    // A reset is what an administrator does for a compromised account: end its grants too.
    if (auto st = revoke_grants_(tx, user_id, now); !st) return st;
    json::object after;
    after["userId"] = user_id;
    after["passwordResetAt"] = now;
    if (require_change) after["passwordChangeRequired"] = true;
    return audit_.Record(tx, now,
                         {std::string(actor), action, "user", std::string(user_id), std::nullopt,
                          json::value(std::move(after))});
  });
}

Result<User> UserService::Authenticate(std::string_view user_id, const Secret& password) {
  auto u = users_.Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) {
    (void)VerifyPassword(password.Reveal(), DummyHash());
    return Fail(UserNotFound(user_id));
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
        auto upgraded = users_.UpgradePasswordHash(tx, user.user_id, user.password_hash, *hash);
        if (!upgraded) return Fail(std::move(upgraded.error()));
        if (!*upgraded) return {};
        json::object after;
        after["userId"] = user.user_id;
        after["passwordFormat"] = "argon2id";
        return audit_.Record(tx, clock_.Now(),
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
