#pragma once
// Single sign-on sessions: after one login, a browser carries a cookie whose value is 256
// random bits; the store (SessionStore, session_store.h) keeps only its hash, the user and the
// expiry, so a leaked table opens no session. Sessions live in the shared store, so every
// instance of the code service recognises them.
//
// A session belongs to the authenticator ("realm") that signed the user in: for the built-in
// user store (realm "") the key is TokenHash(cookie); for another realm it is
// TokenHash(realm + "\n" + cookie). A session made by one authenticator is therefore invisible
// to a client that uses another, whose users are a different population.
//
// Ownership: borrows `store`, `clock` and `random`; they must outlive it.
// Thread-safety: all members may be called from any thread; every call blocks on the store.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"
#include "oauth/code/session_store.h"

namespace portcullis::oauth {

struct SessionSettings {
  int64_t ttl = 8 * 3600;             // a session without "remember me"
  int64_t remember_ttl = 30 * 86400;  // with it (light-oauth2's remember=Y)
};

class SsoSessions {
 public:
  SsoSessions(SessionStore& store, const Clock& clock, Random& random,
              SessionSettings settings = {});

  struct Created {
    Secret cookie;  // the cookie value; never stored
    SsoSession session;
    int64_t max_age = 0;  // cookie Max-Age; 0: a browser-session cookie (no remember)
  };
  // A new session with a fresh sid; `amr` records how the user signed in (RFC 8176).
  // `auth_time`: when the user signed in elsewhere (an upstream provider's ID token), recorded
  // as the session's created_at (OIDC auth_time) when earlier than now; else now.
  Result<Created> Create(std::string_view realm, std::string_view user_id, bool remember,
                         std::string_view amr = "pwd",
                         std::optional<int64_t> auth_time = std::nullopt);
  // nullopt when unknown or expired.
  Result<std::optional<SsoSession>> Find(std::string_view realm, std::string_view cookie) const;
  Status Delete(std::string_view realm, std::string_view cookie);
  // Deletes expired sessions. Create also does it now and then.
  Status Purge();

  // The store key of a cookie in a realm.
  static std::string Key(std::string_view realm, std::string_view cookie);

 private:
  SessionStore& store_;
  const Clock& clock_;
  Random& random_;
  SessionSettings settings_;
  std::atomic<uint32_t> creates_{0};
};

}  // namespace portcullis::oauth
