#pragma once
// CSRF tokens for the login, consent and logout forms: a synchronizer token that needs no
// server-side state. A token is
//     <issued-at>.<base64url(HMAC-SHA-256(key, purpose 0x00 binding 0x00 issued-at))>
// where `binding` is a value only the user's browser holds in an HttpOnly cookie (the pre-login
// nonce, or the SSO session cookie) and `purpose` names the form, so a token for one form or
// one browser is worthless for another. The key is derived from the installation's master key,
// so every instance issues and accepts the same tokens.
//
// Thread-safety: immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/secret.h"

namespace portcullis::oauth {

class CsrfGuard {
 public:
  // `root`: the master key (or any 32-byte secret shared by the instances); the CSRF key is
  // HMAC-SHA-256(root, "portcullis csrf v1"). `max_age`: how long a rendered form stays valid.
  CsrfGuard(const Secret& root, const Clock& clock, int64_t max_age = 2 * 3600);

  // An empty binding gives an empty token, which Verify refuses.
  std::string Issue(std::string_view purpose, std::string_view binding) const;
  // Constant-time in the MAC; false for a missing, malformed, expired or foreign token.
  bool Verify(std::string_view token, std::string_view purpose, std::string_view binding) const;

 private:
  std::string Mac(std::string_view purpose, std::string_view binding, int64_t issued_at) const;

  Secret key_;
  const Clock& clock_;
  int64_t max_age_;
};

}  // namespace portcullis::oauth
