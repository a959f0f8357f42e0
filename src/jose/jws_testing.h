#pragma once
// Test helpers: tokens with arbitrary headers, including ones the Signer would never produce.
// Test-only; header-only so that pc_jose does not ship it.

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/ossl.h"

namespace portcullis::jose::testing {

// base64url(header_json) '.' base64url(payload_json) '.' base64url(signature by key/alg).
inline std::string SignRaw(const Key& key, Alg alg, std::string_view header_json,
                           std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  auto sig = internal::SignWith(nullptr, key.get(), alg, input);
  return input + "." + Base64UrlEncode(sig.value_or(""));
}

// HS256 with `secret` as the HMAC key (for the HS/RS confusion vector).
inline std::string SignHs256(std::string_view secret, std::string_view header_json,
                             std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
            &len);
  return input + "." + Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len));
}

}  // namespace portcullis::jose::testing
