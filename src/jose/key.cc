#include "jose/key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>

#include "common/encoding.h"
#include "jose/ossl.h"

namespace portcullis::jose {
namespace {

using internal::BioContents;
using internal::BioPtr;
using internal::BnPtr;
using internal::OpenSslError;
using internal::ParamBldPtr;
using internal::ParamsPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::X509Ptr;

constexpr size_t kMaxPemBytes = 64 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bounds the cost of a hostile JWKS
constexpr size_t kCoordinateBytes = 32;

Error KeyError(std::string detail) {
  return Error::OAuth(400, "invalid_request", "Invalid key.", std::move(detail));
}

// Never prompt on a terminal for an encrypted PEM: fail instead.
int NoPassword(char*, int, int, void*) { return 0; }

std::optional<std::string> MemberB64(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const auto& s = v->get_string();
  return Base64UrlDecode(std::string_view(s.data(), s.size()));
}

std::string_view MemberString(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  const auto& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

std::string_view StripLeadingZeros(std::string_view bytes) {
  while (!bytes.empty() && bytes.front() == '\0') bytes.remove_prefix(1);
  return bytes;
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Result<std::string> BnParam(EVP_PKEY* pkey, const char* name, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    return Fail(Error::Internal(OpenSslError(std::string("EVP_PKEY_get_bn_param ") + name)));
  }
  BnPtr bn(raw);
  int len = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  int written = pad_to > 0 ? BN_bn2binpad(bn.get(), p, len) : BN_bn2bin(bn.get(), p);
  if (written != len) return Fail(Error::Internal("BN_bn2bin: unexpected length"));
  return out;
}

Result<PkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Fail(KeyError(OpenSslError(std::string(type) + " JWK import")));
  }
  return PkeyPtr(pkey);
}

// RFC 7518 §6.3.1
Result<PkeyPtr> RsaFromJwk(const boost::json::object& jwk) {
  auto n = MemberB64(jwk, "n");
  auto e = MemberB64(jwk, "e");
  if (!n || !e) return Fail(KeyError("RSA JWK: n and e must be base64url strings"));
  std::string_view nb = StripLeadingZeros(*n), eb = StripLeadingZeros(*e);
  size_t nbits = nb.size() * 8;
  if (nbits < kMinRsaBits || nbits > kMaxRsaBits) {
    return Fail(KeyError("RSA JWK: modulus size out of range"));
  }
  // e must be odd and > 1; 8 bytes is far beyond anything in use.
  if (eb.empty() || eb.size() > 8 || (eb.back() & 1) == 0 || (eb.size() == 1 && eb[0] == 1)) {
    return Fail(KeyError("RSA JWK: bad public exponent"));
  }
  BnPtr bn_n(BN_bin2bn(U8(nb), static_cast<int>(nb.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(U8(eb), static_cast<int>(eb.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Fail(Error::Internal(OpenSslError("RSA JWK params")));
  }
  return FromData("RSA", bld.get());
}

// RFC 7518 §6.2.1: coordinates are exactly the field size, 32 bytes for P-256.
Result<PkeyPtr> EcFromJwk(const boost::json::object& jwk) {
  if (MemberString(jwk, "crv") != "P-256") return Fail(KeyError("EC JWK: unsupported crv"));
  auto x = MemberB64(jwk, "x");
  auto y = MemberB64(jwk, "y");
  if (!x || !y || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
    return Fail(KeyError("EC JWK: x and y must be 32-byte base64url strings"));
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Fail(Error::Internal(OpenSslError("EC JWK params")));
  }
  auto pkey = FromData("EC", bld.get());
  if (!pkey) return pkey;
  // Import already rejects points off the curve; the explicit check also covers the point at
  // infinity and documents the intent (invalid-curve attacks). The quick check is SP 800-56A
  // partial validation (range, on the curve, not infinity); the full one adds n*Q = O, a
  // scalar multiplication that tells nothing more on P-256 (cofactor 1) and cost about 70 µs per
  // DPoP proof, whose key comes with every request (bench/README.md, DPoP).
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return Fail(KeyError(OpenSslError("EC JWK: invalid public point")));
  }
  return pkey;
}

// RFC 8037 §2
Result<PkeyPtr> OkpFromJwk(const boost::json::object& jwk) {
  if (MemberString(jwk, "crv") != "Ed25519") return Fail(KeyError("OKP JWK: unsupported crv"));
  auto x = MemberB64(jwk, "x");
  if (!x || x->size() != 32) return Fail(KeyError("OKP JWK: x must be 32 bytes"));
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, U8(*x), x->size());
  if (pkey == nullptr) return Fail(KeyError(OpenSslError("OKP JWK import")));
  return PkeyPtr(pkey);
}

}  // namespace

Result<Key> Key::Adopt(EVP_PKEY* raw, bool has_private) {
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  KeyType type;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    int bits = EVP_PKEY_get_bits(raw);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Fail(KeyError("RSA key size " + std::to_string(bits) + " out of range"));
    }
    type = KeyType::kRsa;
  } else if (EVP_PKEY_is_a(raw, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      return Fail(KeyError("EC key is not on P-256"));
    }
    type = KeyType::kEcP256;
  } else if (EVP_PKEY_is_a(raw, "ED25519")) {
    type = KeyType::kEd25519;
  } else {
    return Fail(KeyError("unsupported key type"));
  }
  return Key(std::move(pkey), type, has_private);
}

Result<Key> Key::Generate(Alg alg) {
  EVP_PKEY* pkey = nullptr;
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case Alg::kES256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Alg::kEdDSA:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (pkey == nullptr) return Fail(Error::Internal(OpenSslError("EVP_PKEY_Q_keygen")));
  return Adopt(pkey, true);
}

Result<Key> Key::FromPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemBytes) return Fail(KeyError("PEM empty or too large"));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Fail(Error::Internal(OpenSslError("BIO_new_mem_buf")));
  ERR_clear_error();
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
    if (!cert) return Fail(KeyError(OpenSslError("PEM certificate")));
    EVP_PKEY* pkey = X509_get_pubkey(cert.get());
    if (pkey == nullptr) return Fail(KeyError(OpenSslError("certificate public key")));
    return Adopt(pkey, false);
  }
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
    if (pkey == nullptr) return Fail(KeyError(OpenSslError("PEM private key")));
    return Adopt(pkey, true);
  }
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr);
  if (pkey == nullptr) return Fail(KeyError(OpenSslError("PEM public key")));
  return Adopt(pkey, false);
}

Result<Key> Key::FromJwk(const boost::json::object& jwk) {
  std::string_view kty = MemberString(jwk, "kty");
  Result<PkeyPtr> pkey = kty == "RSA"   ? RsaFromJwk(jwk)
                         : kty == "EC"  ? EcFromJwk(jwk)
                         : kty == "OKP" ? OkpFromJwk(jwk)
                                        : Fail(KeyError("unsupported kty"));
  if (!pkey) return Fail(std::move(pkey.error()));
  return Adopt(pkey->release(), false);
}

int Key::bits() const { return type_ == KeyType::kRsa ? EVP_PKEY_get_bits(pkey_.get()) : 256; }

bool Key::Supports(Alg alg) const {
  switch (type_) {
    case KeyType::kRsa:
      return alg == Alg::kRS256 || alg == Alg::kPS256;
    case KeyType::kEcP256:
      return alg == Alg::kES256;
    case KeyType::kEd25519:
      return alg == Alg::kEdDSA;
  }
  return false;
}

bool Key::SamePublicKey(const Key& other) const {
  return EVP_PKEY_eq(pkey_.get(), other.pkey_.get()) == 1;
}

Result<Secret> Key::PrivatePem() const {
  if (!has_private_) return Fail(Error::Internal("PrivatePem on a public key"));
  // Secure-heap BIO: its buffer is cleared when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return Fail(Error::Internal(OpenSslError("PEM_write_bio_PKCS8PrivateKey")));
  }
  return Secret(BioContents(bio.get()));
}

Result<std::string> Key::PublicPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return Fail(Error::Internal(OpenSslError("PEM_write_bio_PUBKEY")));
  }
  return BioContents(bio.get());
}

Result<boost::json::object> Key::ToPublicJwk(std::string_view kid, Alg alg) const {
  if (!Supports(alg)) return Fail(Error::Internal("ToPublicJwk: alg does not fit the key"));
  boost::json::object jwk;
  auto put_common = [&](std::string_view kty) {
    jwk["kty"] = kty;
    if (!kid.empty()) jwk["kid"] = kid;
    jwk["use"] = "sig";
    jwk["alg"] = AlgName(alg);
  };
  switch (type_) {
    case KeyType::kRsa: {
      auto n = BnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_N, 0);
      auto e = BnParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_E, 0);
      if (!n) return Fail(std::move(n.error()));
      if (!e) return Fail(std::move(e.error()));
      put_common("RSA");
      jwk["n"] = Base64UrlEncode(*n);
      jwk["e"] = Base64UrlEncode(*e);
      break;
    }
    case KeyType::kEcP256: {
      auto x = BnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X, kCoordinateBytes);
      auto y = BnParam(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, kCoordinateBytes);
      if (!x) return Fail(std::move(x.error()));
      if (!y) return Fail(std::move(y.error()));
      put_common("EC");
      jwk["crv"] = "P-256";
      jwk["x"] = Base64UrlEncode(*x);
      jwk["y"] = Base64UrlEncode(*y);
      break;
    }
    case KeyType::kEd25519: {
      unsigned char raw[32];
      size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(pkey_.get(), raw, &len) != 1 || len != sizeof raw) {
        return Fail(Error::Internal(OpenSslError("EVP_PKEY_get_raw_public_key")));
      }
      put_common("OKP");
      jwk["crv"] = "Ed25519";
      jwk["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), len));
      break;
    }
  }
  return jwk;
}

Result<std::string> Key::SelfSignedCertificatePem(std::string_view common_name, int64_t not_before,
                                                  int64_t not_after, Random& random) const {
  if (!has_private_) return Fail(Error::Internal("certificate needs a private key"));
  if (not_after < not_before) return Fail(Error::Internal("certificate validity inverted"));
  X509Ptr cert(X509_new());
  if (!cert) return Fail(Error::Internal(OpenSslError("X509_new")));
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit cleared.
  unsigned char serial[16];
  random.Fill(serial, sizeof serial);
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x01);
  BnPtr serial_bn(BN_bin2bn(serial, sizeof serial, nullptr));
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = serial_bn && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(not_before)) &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(not_after)) &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, U8(common_name),
                                       static_cast<int>(common_name.size()), -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 &&
            X509_set_pubkey(cert.get(), pkey_.get()) == 1;
  if (!ok) return Fail(Error::Internal(OpenSslError("building certificate")));
  // Ed25519 signs the message itself (RFC 8410 §6): no digest.
  const EVP_MD* md = type_ == KeyType::kEd25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), pkey_.get(), md) <= 0) {
    return Fail(Error::Internal(OpenSslError("X509_sign")));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    return Fail(Error::Internal(OpenSslError("PEM_write_bio_X509")));
  }
  return BioContents(bio.get());
}

}  // namespace portcullis::jose
