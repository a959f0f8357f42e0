#pragma once
// A token-signing key as stored: the domain model of the key ring (no SQL, no HTTP).
//
// Lifecycle (light-oauth2 reference §4.1, §10; see key_manager.h for the rules):
//   next -> current -> previous -> retired, and any state -> revoked.
// next, current and previous keys are published (JWKS, /oauth2/key/{kid}); only current signs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jose/alg.h"

namespace portcullis::oauth {

enum class KeyState { kNext, kCurrent, kPrevious, kRetired, kRevoked };

std::string_view KeyStateName(KeyState state);  // "next", "current", ...
std::optional<KeyState> ParseKeyState(std::string_view name);
// next, current and previous keys are in the JWKS.
bool IsPublished(KeyState state);

struct SigningKeyRecord {
  std::string kid;  // provider id prefix + sequence number, e.g. "05100" (key_manager.h)
  jose::Alg alg = jose::Alg::kRS256;
  KeyState state = KeyState::kNext;
  std::string private_key_encrypted;  // SealKey() of the PKCS#8 PEM; never leaves the server
  std::string public_jwk;             // JSON text, with kid, use and alg
  std::string certificate_pem;        // self-signed X.509 for /oauth2/key/{kid}
  int64_t created_at = 0;
  int64_t publish_at = 0;   // enters the JWKS (= created_at)
  int64_t activate_at = 0;  // earliest time it may sign: publish_at + publish_ahead
  int64_t retired_at = 0;   // stopped signing (0: has not)
  int64_t expires_at = 0;   // leaves the JWKS: retired_at + max token lifetime + leeway (0: n/a)
};

}  // namespace portcullis::oauth
