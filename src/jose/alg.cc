#include "jose/alg.h"

namespace portcullis::jose {

std::optional<Alg> ParseAlg(std::string_view name) {
  if (name == "RS256") return Alg::kRS256;
  if (name == "PS256") return Alg::kPS256;
  if (name == "ES256") return Alg::kES256;
  if (name == "EdDSA") return Alg::kEdDSA;
  return std::nullopt;
}

std::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
      return "RS256";
    case Alg::kPS256:
      return "PS256";
    case Alg::kES256:
      return "ES256";
    case Alg::kEdDSA:
      return "EdDSA";
  }
  return "?";
}

}  // namespace portcullis::jose
