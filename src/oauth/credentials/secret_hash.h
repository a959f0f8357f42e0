#pragma once
// How secrets are stored.
//
// Client secrets are 256-bit random strings, so a slow hash buys nothing: they are stored as a
// keyed digest, HMAC-SHA-256 under a server-side pepper ("hs256$" + base64url). Checking one
// costs about a microsecond, and a leaked database without the pepper gives nothing usable.
//
// User passwords are low-entropy and use argon2id (libsodium, OWASP parameters: 19 MiB, t=2,
// p=1), which costs tens of milliseconds: run it on the hash pool, never on an I/O thread.
//
// light-oauth2's PBKDF2-HMAC-SHA1 strings ("iterations:hexsalt:hexhash", reference §2.4) are
// verified for imported rows, and callers upgrade them on the first successful check.

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/secret.h"

namespace portcullis::oauth {

class SecretHasher {
 public:
  // `pepper` must be at least 32 bytes of secret key material.
  explicit SecretHasher(Secret pepper);

  std::string Digest(std::string_view secret) const;
  // Constant-time. Accepts "hs256$..." digests and legacy PBKDF2 strings.
  bool Verify(std::string_view secret, std::string_view stored) const;

 private:
  // The HMAC-SHA-256 states after absorbing the pepper's padded blocks, computed once: each
  // Digest copies them and hashes only the secret. Immutable, so shared by copies and read by
  // any number of threads (secret_hash.cc).
  struct Keyed;
  Secret pepper_;
  std::shared_ptr<const Keyed> keyed_;
};

bool IsLegacyPbkdf2(std::string_view stored);
// light-4j HashUtil format; constant-time comparison.
bool VerifyPbkdf2(std::string_view secret, std::string_view stored);
// For tests and imports: light-4j's format with the given salt text.
std::string HashPbkdf2ForTest(std::string_view secret, std::string_view salt, int iterations);

// argon2id; returns libsodium's "$argon2id$..." string.
Result<std::string> HashPassword(std::string_view password);
// Accepts argon2id strings and legacy PBKDF2 strings.
bool VerifyPassword(std::string_view password, std::string_view stored);
// True for stored forms that should be replaced by HashPassword after a successful check.
bool PasswordNeedsRehash(std::string_view stored);

}  // namespace portcullis::oauth
