#pragma once
// An asymmetric key for JWS: RSA (2048..8192 bits), EC P-256 or Ed25519, public or private.
//
// Ownership: Key holds a refcounted EVP_PKEY; copies share it. A Key is immutable after
// construction, so it may be used from any number of threads at once (OpenSSL 3 allows
// concurrent read-only use of one EVP_PKEY).
//
// JWK import (FromJwk) always yields a public key: private members ("d", "p", ...) are accepted
// but ignored, so a JWKS that carelessly includes them still works for verification and never
// turns into a signing key.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"
#include "jose/alg.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace portcullis::jose {

enum class KeyType { kRsa, kEcP256, kEd25519 };

class Key {
 public:
  // Fresh key for `alg`: RSA 2048 (RS256, PS256), P-256 (ES256), Ed25519 (EdDSA).
  static Result<Key> Generate(Alg alg);
  // PKCS#8 / traditional private key PEM, SubjectPublicKeyInfo PEM, or an X.509 certificate PEM
  // (its public key).
  static Result<Key> FromPem(std::string_view pem);
  // RFC 7517 §4 / RFC 7518 §6: RSA (n, e), EC P-256 (crv, x, y; 32-byte coordinates),
  // OKP Ed25519 (RFC 8037 §2: crv, x). Public key only (see above).
  static Result<Key> FromJwk(const boost::json::object& jwk);

  KeyType type() const { return type_; }
  bool has_private() const { return has_private_; }
  // Modulus size for RSA, 256 for P-256 and Ed25519.
  int bits() const;
  // Whether this key can sign or verify with `alg`.
  bool Supports(Alg alg) const;
  // Same public key.
  bool SamePublicKey(const Key& other) const;

  // PKCS#8 PEM; fails on a public key.
  Result<Secret> PrivatePem() const;
  // SubjectPublicKeyInfo PEM.
  Result<std::string> PublicPem() const;
  // {"kty":..,"kid":..,"use":"sig","alg":..,<key members>}.
  Result<boost::json::object> ToPublicJwk(std::string_view kid, Alg alg) const;

  // Self-signed X.509 v3 certificate over this (private) key, SHA-256 (no digest for Ed25519),
  // with a random positive 128-bit serial. Times are seconds since the epoch.
  Result<std::string> SelfSignedCertificatePem(std::string_view common_name, int64_t not_before,
                                               int64_t not_after,
                                               Random& random = Random::System()) const;

  // Borrowed; valid while this Key (or a copy) lives. For pc_jose internals and tests.
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  Key(std::shared_ptr<EVP_PKEY> pkey, KeyType type, bool has_private)
      : pkey_(std::move(pkey)), type_(type), has_private_(has_private) {}
  static Result<Key> Adopt(EVP_PKEY* pkey, bool has_private);

  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  bool has_private_;
};

}  // namespace portcullis::jose
