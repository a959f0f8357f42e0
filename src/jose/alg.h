#pragma once
// JWS signature algorithms this product signs and verifies (RFC 7518 §3, RFC 8037 §3.1).
// HMAC (HS*) is deliberately absent: an authorization server that publishes its verification
// keys must never accept a token whose "signature" is keyed with public material.

#include <optional>
#include <string_view>

namespace portcullis::jose {

enum class Alg { kRS256, kPS256, kES256, kEdDSA };

// Exact, case-sensitive match of the JWS "alg" value (RFC 7515 §4.1.1). nullopt for anything
// else, including "none" and "HS256".
std::optional<Alg> ParseAlg(std::string_view name);
std::string_view AlgName(Alg alg);

}  // namespace portcullis::jose
