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

Result<AuthenticatedUser> SqlUserAuthenticator::AuthenticateFrom(std::string_view user_id,
                                                                 std::string_view password,
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
  auto row = db_.QueryRow(
      "SELECT user_id, user_type, roles, password_hash, locked FROM users WHERE user_id = $1",
      {store::Text(user_id)});
  if (!row) {
    refund();  // the store failed, not the guess
    return Fail(row.error());
  }
  bool ok = *row ? VerifyPassword(password, (*row)->Str(3))
                 : (VerifyPassword(password, DummyHash()), false);
  // A failure keeps both tokens taken.
  if (!ok) return Fail(BadCredentials());
  // A locked account answers like a wrong password, after the same work.
  if ((*row)->Int(4) != 0) {
    log::Info("login.locked", {{"user_id", std::string(user_id)}});
    return Fail(BadCredentials());
  }
  throttle_.Success(account_key);
  if (!ip_key.empty()) throttle_.Refund(ip_key);
  const auto& r = **row;
  if (PasswordNeedsRehash(r.Str(3))) {
    // Upgrade a legacy light-oauth2 hash now that the clear password is at hand.
    if (auto fresh = HashPassword(password)) {
      auto n =
          db_.Exec("UPDATE users SET password_hash = $2 WHERE user_id = $1 AND password_hash = $3",
                   {store::Text(user_id), store::Text(*fresh), store::Text(r.Str(3))});
      if (n) log::Info("login.password_upgraded", {{"user_id", std::string(user_id)}});
    }
  }
  return AuthenticatedUser{r.Str(0), r.Str(1), r.Str(2)};
}

Result<AuthenticatedUser> SqlUserAuthenticator::Find(std::string_view user_id) {
  auto row = db_.QueryRow("SELECT user_id, user_type, roles, locked FROM users WHERE user_id = $1",
                          {store::Text(user_id)});
  if (!row) return Fail(row.error());
  // A locked account is treated as gone: its sessions sign in again, and fail.
  if (!*row || (*row)->Int(3) != 0) return Fail(Error::Status("ERR12013"));
  return AuthenticatedUser{(*row)->Str(0), (*row)->Str(1), (*row)->Str(2)};
}

}  // namespace portcullis::oauth
