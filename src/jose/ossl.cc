#include "jose/ossl.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <cstring>

namespace portcullis::jose::internal {

std::string OpenSslError(std::string_view what) {
  std::string out(what);
  unsigned long code;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += first ? ": " : "; ";
    out += buf;
    first = false;
  }
  return out;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace portcullis::jose::internal

namespace portcullis::jose::internal {
namespace {

constexpr size_t kEcCoordinate = 32;

const EVP_MD* Sha256() {
  // Fetched once: EVP_sha256() would make every init fetch implicitly.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

bool InitCtx(EVP_MD_CTX* ctx, EVP_PKEY* pkey, Alg alg, bool sign) {
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == Alg::kEdDSA ? nullptr : Sha256();  // RFC 8037 §3.1: no pre-hash
  int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey)
                : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey);
  if (ok != 1) return false;
  if (alg == Alg::kPS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
      return false;
    }
  } else if (alg == Alg::kRS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return true;
}

// Scratch context for this thread, prepared for one operation from `tmpl` or from scratch.
EVP_MD_CTX* Prepare(const EVP_MD_CTX* tmpl, EVP_PKEY* pkey, Alg alg, bool sign) {
  thread_local MdCtxPtr scratch(EVP_MD_CTX_new());
  if (!scratch) return nullptr;
  if (tmpl != nullptr && EVP_MD_CTX_copy_ex(scratch.get(), tmpl) == 1) return scratch.get();
  EVP_MD_CTX_reset(scratch.get());
  return InitCtx(scratch.get(), pkey, alg, sign) ? scratch.get() : nullptr;
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

MdCtxPtr NewTemplate(EVP_PKEY* pkey, Alg alg, bool sign) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !InitCtx(ctx.get(), pkey, alg, sign)) {
    ERR_clear_error();
    return nullptr;
  }
  // Some (provider, key type) pairs cannot be duplicated; then every call initialises afresh.
  MdCtxPtr probe(EVP_MD_CTX_new());
  if (!probe || EVP_MD_CTX_copy_ex(probe.get(), ctx.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

namespace {

// The DER ECDSA-Sig-Value OpenSSL just produced (SEQUENCE of two positive INTEGERs, short-form
// lengths for P-256) as JWS R || S, without d2i_ECDSA_SIG's allocations. False on anything else:
// the caller then takes the general path.
bool FastDerToRaw(const unsigned char* der, size_t len, unsigned char* raw) {
  if (len < 8 || der[0] != 0x30 || der[1] != len - 2) return false;
  size_t pos = 2;
  for (int part = 0; part < 2; ++part) {
    if (pos + 2 > len || der[pos] != 0x02) return false;
    size_t n = der[pos + 1];
    pos += 2;
    if (n == 0 || n > kEcCoordinate + 1 || pos + n > len) return false;
    const unsigned char* v = der + pos;
    pos += n;
    if (n == kEcCoordinate + 1) {
      if (v[0] != 0) return false;
      ++v;
      --n;
    }
    unsigned char* out = raw + part * kEcCoordinate;
    std::memset(out, 0, kEcCoordinate - n);
    std::memcpy(out + kEcCoordinate - n, v, n);
  }
  return pos == len;
}

}  // namespace

std::optional<std::string> SignWith(const EVP_MD_CTX* tmpl, EVP_PKEY* pkey, Alg alg,
                                    std::string_view data) {
  EVP_MD_CTX* ctx = Prepare(tmpl, pkey, alg, true);
  if (ctx == nullptr) return std::nullopt;
  // One call into a buffer of the key's maximum signature size (no size query first), on a
  // context that may be finalised in place: without the flag EVP_DigestSignFinal duplicates the
  // whole signing context to keep this one reusable, which we never do (it is reset below).
  EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
  int max = EVP_PKEY_get_size(pkey);
  std::string sig;
  bool ok = max > 0;
  if (ok) {
    size_t len = static_cast<size_t>(max);
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, U8(data),
                        data.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_reset(ctx);  // drop the key reference held by the scratch context
  if (!ok) return std::nullopt;
  if (alg == Alg::kES256) {
    std::string raw(2 * kEcCoordinate, '\0');
    if (FastDerToRaw(U8(sig), sig.size(), reinterpret_cast<unsigned char*>(raw.data()))) {
      return raw;
    }
    return EcdsaDerToRaw(sig);
  }
  return sig;
}

bool VerifyWith(const EVP_MD_CTX* tmpl, EVP_PKEY* pkey, Alg alg, std::string_view data,
                std::string_view signature) {
  std::optional<std::string> der;
  if (alg == Alg::kES256) {
    der = EcdsaRawToDer(signature);
    if (!der) return false;
    signature = *der;
  }
  EVP_MD_CTX* ctx = Prepare(tmpl, pkey, alg, false);
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerify(ctx, U8(signature), signature.size(), U8(data), data.size()) == 1;
  EVP_MD_CTX_reset(ctx);
  ERR_clear_error();  // a failed verification leaves entries on this thread's queue
  return ok;
}

std::optional<std::string> EcdsaDerToRaw(std::string_view der) {
  const unsigned char* p = U8(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEcCoordinate, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEcCoordinate) != kEcCoordinate ||
      BN_bn2binpad(s, out + kEcCoordinate, kEcCoordinate) != kEcCoordinate) {
    return std::nullopt;
  }
  return raw;
}

std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 2 * kEcCoordinate) return std::nullopt;
  BnPtr r(BN_bin2bn(U8(raw), kEcCoordinate, nullptr));
  BnPtr s(BN_bin2bn(U8(raw) + kEcCoordinate, kEcCoordinate, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace portcullis::jose::internal
