#pragma once
// A set of verification keys by kid, e.g. parsed from a JWKS document (RFC 7517 §5).
//
// A KeySet is a plain value; once built, share it as std::shared_ptr<const KeySet> and read it
// from any thread.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "jose/alg.h"
#include "jose/key.h"

namespace portcullis::jose {

struct KeyEntry {
  std::string kid;
  Key key;
  // The JWK "alg" when given. Without it any alg the key type supports is accepted (light-oauth2's
  // /oauth2/keys publishes RSA keys with no "alg"), still limited by VerifyOptions::algorithms.
  std::optional<Alg> alg;
};

struct JwksLimits {
  size_t max_bytes = 256 * 1024;
  size_t max_keys = 64;
  size_t max_kid_length = 256;
};

class KeySet;

// Parses {"keys":[...]}. Members with an unsupported kty, crv or alg (including every HS* alg),
// with "use" other than "sig", without a string kid, with bad key material, or repeating an
// earlier kid are skipped and counted. Fails on malformed JSON, a missing "keys" array, or
// input beyond `limits`.
Result<KeySet> ParseJwks(std::string_view json, const JwksLimits& limits = {});

class KeySet {
 public:
  // Fails when the kid is already present or `alg` does not fit the key.
  Status Add(std::string kid, Key key, std::optional<Alg> alg = std::nullopt);
  const KeyEntry* Find(std::string_view kid) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::map<std::string, KeyEntry, std::less<>>& entries() const { return entries_; }

  // How many JWKS members ParseJwks left out (unsupported, malformed or duplicate).
  size_t skipped() const { return skipped_; }

 private:
  friend Result<KeySet> ParseJwks(std::string_view, const JwksLimits&);
  std::map<std::string, KeyEntry, std::less<>> entries_;
  size_t skipped_ = 0;
};

}  // namespace portcullis::jose
