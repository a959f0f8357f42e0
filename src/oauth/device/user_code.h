#pragma once
// User codes of the device flow (RFC 8628 §6.1): what a person reads off a device and types on
// another one, so short, unambiguous and case-insensitive.
//
// A code is 8 characters of the 20 consonants BCDFGHJKLMNPQRSTVWXZ (no vowels: no words; no
// digits: nothing to confuse with letters), shown as XXXX-XXXX. That is 20^8 = 2.56e10 codes,
// log2 = 34.6 bits. Guessing is bounded by the verification page's throttle (README "Device
// flow"): with G wrong codes allowed per window W across all addresses, a code that lives T
// seconds faces at most G * (1 + T / W) guesses, so with N codes pending at once the chance that
// any guess hits one is at most G * (1 + T / W) * N / 2.56e10 (defaults G = 1000, W = 300 s,
// T = 600 s: 3000 guesses; with 1000 pending codes, 1.2e-4; for one given code, 1.2e-7).
//
// Entry is forgiving: case, dashes and white space are ignored (NormalizeUserCode). Lookups use
// a keyed hash of the normalised code (UserCodeHasher): an unkeyed hash of 34.6 bits would be
// reversed by brute force from a leaked table in seconds.
//
// Thread-safety: free functions are pure; a UserCodeHasher is immutable after construction.

#include <optional>
#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"

namespace portcullis::oauth {

inline constexpr std::string_view kUserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";
inline constexpr size_t kUserCodeLength = 8;

// A new code in its normalised form (8 alphabet characters, no dash). Uniform: bytes are drawn
// by rejection sampling, so no character is likelier than another.
std::string NewUserCode(Random& random);
// Upper-cased, without dashes and white space; nullopt unless exactly 8 alphabet characters
// remain. Longer input is refused before it is copied (at most 64 characters are looked at).
std::optional<std::string> NormalizeUserCode(std::string_view input);
// "XXXX-XXXX" for a normalised code.
std::string FormatUserCode(std::string_view normalized);

class UserCodeHasher {
 public:
  // `root`: the installation's master key, shared by every instance; the hashing key is
  // HMAC-SHA-256(root, "portcullis user code v1").
  explicit UserCodeHasher(const Secret& root);
  // base64url(HMAC-SHA-256(key, normalised code)).
  std::string Hash(std::string_view normalized) const;

 private:
  Secret key_;
};

}  // namespace portcullis::oauth
