#include "jose/signature.h"

#include "jose/ossl.h"

namespace portcullis::jose {

bool VerifySignature(const Key& key, Alg alg, std::string_view signing_input,
                     std::string_view signature) {
  if (!key.Supports(alg) || signature.empty()) return false;
  // No template: a one-off key gains nothing from one.
  return internal::VerifyWith(nullptr, key.get(), alg, signing_input, signature);
}

}  // namespace portcullis::jose
