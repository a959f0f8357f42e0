// Fuzzes ParseJwks, then exports every accepted key again and re-imports it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jose/key_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::jose;
  auto set = ParseJwks(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!set) return 0;
  for (const auto& [kid, entry] : set->entries()) {
    for (Alg alg : {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA}) {
      if (!entry.key.Supports(alg)) continue;
      auto jwk = entry.key.ToPublicJwk(kid, alg);
      if (!jwk) __builtin_trap();
      auto back = Key::FromJwk(*jwk);
      if (!back || !back->SamePublicKey(entry.key)) __builtin_trap();
    }
  }
  return 0;
}
