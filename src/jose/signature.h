#pragma once
// One JWS signature check against one given key, for tokens that carry their own key (DPoP
// proofs, RFC 9449 §4.2: the public key is the header's "jwk", there is no kid to look up).
// Everything else about such a token (alg allow-list, typ, claims) is the caller's to check.
//
// Thread-safe: the key is only read.

#include <string_view>

#include "jose/alg.h"
#include "jose/key.h"

namespace portcullis::jose {

// Whether `signature` (raw JWS bytes: R || S for ES256) is `key`'s signature with `alg` over
// `signing_input` (BASE64URL(header) '.' BASE64URL(payload)). False when the key cannot be
// used with `alg`.
bool VerifySignature(const Key& key, Alg alg, std::string_view signing_input,
                     std::string_view signature);

}  // namespace portcullis::jose
