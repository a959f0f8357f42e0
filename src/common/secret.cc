#include "common/secret.h"

#include <openssl/crypto.h>

namespace portcullis {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

bool Secret::Equals(std::string_view other) const { return ConstantTimeEquals(value_, other); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace portcullis
