#pragma once
// Encryption of signing keys at rest. Private keys are stored sealed with AES-256-GCM under a
// 32-byte master key that comes from configuration (or a file) and never from the database.
//
// Sealed format: "v1." + base64url(nonce[12] || ciphertext || tag[16]), with a fresh random
// nonce per seal and the kid as additional authenticated data, so a sealed key cannot be moved
// to another kid's row. The version prefix leaves room for another scheme or key id later.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"

namespace portcullis::oauth {

class MasterKey {
 public:
  static constexpr size_t kSize = 32;

  // Accepts "hex:<64 hex digits>", "base64:<standard or url-safe base64>", or either form bare
  // (64 hex digits are taken as hex). Surrounding whitespace is ignored. The error says what is
  // wrong without echoing the value.
  static Result<MasterKey> Parse(std::string_view text);
  // Reads the file and parses its content as above.
  static Result<MasterKey> FromFile(const std::string& path);
  static MasterKey Generate(Random& random);

  const Secret& bytes() const { return key_; }

 private:
  explicit MasterKey(Secret key) : key_(std::move(key)) {}
  Secret key_;
};

Result<std::string> SealKey(const Secret& plaintext, std::string_view kid, const MasterKey& master,
                            Random& random);
// Fails (without saying more to the caller) on a wrong master key, wrong kid, tampering or an
// unknown version.
Result<Secret> OpenKey(std::string_view sealed, std::string_view kid, const MasterKey& master);

}  // namespace portcullis::oauth
