#pragma once
// Cryptographic randomness (OpenSSL RAND_bytes) behind an interface, so tests can make ids
// deterministic where they need to.

#include <cstddef>
#include <string>

namespace portcullis {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(void* out, size_t n) = 0;

  // `bytes` random bytes as base64url without padding.
  std::string Token(size_t bytes = 32);
  // An RFC 4122 version 4 UUID, e.g. for client ids (light-oauth2 format).
  std::string Uuid();

  static Random& System();
};

}  // namespace portcullis
