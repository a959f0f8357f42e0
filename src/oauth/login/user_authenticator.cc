#include "oauth/login/user_authenticator.h"

#include "common/log.h"
#include "oauth/credentials/secret_hash.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

// One message for every failure, so it reveals nothing about which users exist.
Error BadCredentials() {
  return Error::Status("ERR12016", "The user name or password is incorrect.");
}

// A valid argon2id string to verify against when the user does not exist, so that the answer
// takes as long as for a real user.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto h = HashPassword("portcullis-dummy-password");
    return h ? *h : std::string();
  }();
  return hash;
}

Error Throttled(std::string_view remote_ip, const LoginThrottle::Admission& a) {
  log::Warn("login.throttled", {{"remote", remote_ip}, {"retry_after", a.retry_after}});
  Error e = Error::OAuth(429, "slow_down", "Too many failed attempts. Try again later.");
  e.retry_after = a.retry_after;
  return e;
}

}  // namespace

Result<User> LocalUserAuthenticator::Verify(std::string_view user_id, std::string_view password,
                                            std::string_view remote_ip) {
  // Both counts are taken before the slow hash, in one step each (LoginThrottle::Acquire):
  // parallel guesses cannot all slip past a check made before any of them had failed.
  const std::string ip_key = LoginThrottle::IpKey(remote_ip);
  const std::string account_key = LoginThrottle::AccountKey(user_id, remote_ip);
  if (!ip_key.empty()) {
    if (auto a = throttle_.Acquire(ip_key); !a.allowed) return Fail(Throttled(remote_ip, a));
  }
  if (auto a = throttle_.Acquire(account_key); !a.allowed) {
    if (!ip_key.empty()) throttle_.Refund(ip_key);  // nothing was tried
    return Fail(Throttled(remote_ip, a));
  }
  auto refund = [&] {
    throttle_.Refund(account_key);
    if (!ip_key.empty()) throttle_.Refund(ip_key);
  };
  auto found = users_.Find(user_id);
  if (!found) {
    refund();  // the store failed, not the guess
    return Fail(found.error());
  }
  bool ok = *found ? VerifyPassword(password, (*found)->password_hash)
                   : (VerifyPassword(password, DummyHash()), false);
  // A failure keeps both tokens taken.
  if (!ok) return Fail(BadCredentials());
  const User& u = **found;
  // A locked account answers like a wrong password, after the same work.
  if (u.locked) {
    log::Info("login.locked", {{"user_id", std::string(user_id)}});
    return Fail(BadCredentials());
  }
  throttle_.Success(account_key);
  if (!ip_key.empty()) throttle_.Refund(ip_key);
  return std::move(**found);
}

Result<AuthenticatedUser> LocalUserAuthenticator::AuthenticateFrom(std::string_view user_id,
                                                                   std::string_view password,
                                                                   std::string_view remote_ip) {
  auto found = Verify(user_id, password, remote_ip);
  if (!found) return Fail(std::move(found.error()));
  const User& u = *found;
  if (u.password_change_required) {
    log::Info("login.password_change_required", {{"user_id", std::string(user_id)}});
    return Fail(PasswordChangeRequired());
  }
  if (PasswordNeedsRehash(u.password_hash)) {
    // Upgrade a legacy light-oauth2 hash now that the clear password is at hand.
    if (auto fresh = HashPassword(password)) {
      auto n = db_.TransactValue<bool>("user.rehash", [&](store::Tx& tx) {
        return users_.UpgradePasswordHash(tx, u.user_id, u.password_hash, *fresh);
      });
      if (n && *n) log::Info("login.password_upgraded", {{"user_id", std::string(user_id)}});
    }
  }
  return AuthenticatedUser{u.user_id, u.user_type, u.roles, true};
}

Result<AuthenticatedUser> LocalUserAuthenticator::ReplaceRequiredPassword(
    std::string_view user_id, std::string_view password, std::string_view new_password,
    std::string_view new_password_confirm, std::string_view remote_ip) {
  auto found = Verify(user_id, password, remote_ip);
  if (!found) return Fail(std::move(found.error()));
  const User& u = *found;
  if (!u.password_change_required) {
    return Fail(Error::OAuth(400, "invalid_request",
                             "The password was changed already: sign in with the new one."));
  }
  // The policy of oauth::CheckPasswordPolicy (user.h: 8 to 256 characters), which lives in the
  // user module, itself built on this one.
  size_t chars = 0;
  for (unsigned char c : new_password) chars += (c & 0xC0) != 0x80;
  if (chars < 8) return Fail(Error::Status("ERR11004", "newPassword: at least 8 characters"));
  if (chars > 256) return Fail(Error::Status("ERR11004", "newPassword: at most 256 characters"));
  if (new_password != new_password_confirm) return Fail(Error::Status("ERR12012"));
  if (new_password == password) {
    return Fail(Error::Status("ERR11004", "The new password must differ from the current one."));
  }
  auto hash = HashPassword(new_password);
  if (!hash) return Fail(std::move(hash.error()));
  auto changed =
      db_.TransactValue<bool>("user.password_replace", [&](store::Tx& tx) -> Result<bool> {
        const int64_t now = clock_.Now();
        auto set = users_.SetPasswordHash(tx, u.user_id, *hash, now, u.password_hash);
        if (!set || !*set) return set;
        // The same action and shape as UserService::ChangePassword, so the audit page finds every
        // password change under one name; the actor is the user itself.
        boost::json::object after;
        after["userId"] = u.user_id;
        after["passwordChangedAt"] = now;
        after["passwordChangeRequired"] = false;
        if (auto st = audit_.Record(tx, now,
                                    {"user:" + u.user_id, "user.password", "user", u.user_id,
                                     std::nullopt, boost::json::value(std::move(after))});
            !st) {
          return Fail(std::move(st.error()));
        }
        return true;
      });
  if (!changed) return Fail(std::move(changed.error()));
  // Another change won: this form's current password is no longer the stored one.
  if (!*changed) return Fail(BadCredentials());
  log::Info("login.password_replaced", {{"user_id", u.user_id}});
  return AuthenticatedUser{u.user_id, u.user_type, u.roles, true};
}

Result<AuthenticatedUser> LocalUserAuthenticator::Find(std::string_view user_id) {
  auto found = users_.Find(user_id);
  if (!found) return Fail(found.error());
  // A locked account is treated as gone: its sessions sign in again, and fail.
  if (!*found || (*found)->locked || (*found)->password_change_required) {
    return Fail(Error::Status("ERR12013"));
  }
  return AuthenticatedUser{(*found)->user_id, (*found)->user_type, (*found)->roles, true};
}

}  // namespace portcullis::oauth
