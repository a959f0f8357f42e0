#include "oauth/credentials/token_hash.h"

#include <sodium.h>

#include "common/encoding.h"

namespace portcullis::oauth {

std::string TokenHash(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace portcullis::oauth
