#include "oauth/credentials/secret_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kDigestPrefix = "hs256$";
constexpr std::string_view kArgonPrefix = "$argon2id$";

// OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1 (libsodium's p is 1).
constexpr unsigned long long kArgonOps = 2;
constexpr size_t kArgonMem = 19u * 1024u * 1024u;

// Bounds for legacy rows, so a hostile or corrupt stored value cannot make a check unbounded.
constexpr long kMaxPbkdf2Iterations = 1'000'000;
constexpr size_t kMaxPbkdf2HashBytes = 1024;

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable crypto: nothing safe can run
  });
}

struct Pbkdf2Parts {
  int iterations = 0;
  std::string salt;
  std::string hash;
};

std::optional<Pbkdf2Parts> ParsePbkdf2(std::string_view stored) {
  size_t c1 = stored.find(':');
  if (c1 == std::string_view::npos || c1 == 0 || c1 > 7) return std::nullopt;
  size_t c2 = stored.find(':', c1 + 1);
  if (c2 == std::string_view::npos || stored.find(':', c2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  long iterations = 0;
  auto iter_text = stored.substr(0, c1);
  auto [p, ec] = std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), iterations);
  if (ec != std::errc() || p != iter_text.data() + iter_text.size() || iterations < 1 ||
      iterations > kMaxPbkdf2Iterations) {
    return std::nullopt;
  }
  // light-4j writes lower-case hex; accept either case.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  auto salt = HexDecode(lower(stored.substr(c1 + 1, c2 - c1 - 1)));
  auto hash = HexDecode(lower(stored.substr(c2 + 1)));
  if (!salt || !hash || salt->empty() || hash->empty() || hash->size() > kMaxPbkdf2HashBytes) {
    return std::nullopt;
  }
  return Pbkdf2Parts{static_cast<int>(iterations), std::move(*salt), std::move(*hash)};
}

std::optional<std::string> Pbkdf2Sha1(std::string_view secret, std::string_view salt,
                                      int iterations, size_t length) {
  std::string out(length, '\0');
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha1(),
                        static_cast<int>(length),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

// HMAC-SHA-256 (RFC 2104) over OpenSSL's SHA-256, which uses the CPU's SHA extensions where
// there are any (libsodium's is portable C, several times slower: this runs on every token
// request). The key's two padded blocks are absorbed once, here; each Digest copies the two
// states and hashes only the secret and the inner hash.
struct SecretHasher::Keyed {
  EVP_MD_CTX* inner = nullptr;  // after SHA-256 absorbed key ^ ipad
  EVP_MD_CTX* outer = nullptr;  // after key ^ opad
  ~Keyed() {
    EVP_MD_CTX_free(inner);  // cleanses the state
    EVP_MD_CTX_free(outer);
  }
};

namespace {

constexpr size_t kShaBlock = 64;

const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once
  return md;
}

EVP_MD_CTX* Absorbed(const unsigned char* key, unsigned char pad) {
  unsigned char block[kShaBlock];
  for (size_t i = 0; i < kShaBlock; ++i) block[i] = key[i] ^ pad;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, block, sizeof block) == 1;
  OPENSSL_cleanse(block, sizeof block);
  if (!ok) std::abort();  // no usable SHA-256: nothing safe can run
  return ctx;
}

}  // namespace

SecretHasher::SecretHasher(Secret pepper) : pepper_(std::move(pepper)) {
  InitSodium();
  // RFC 2104 §2: a key longer than the block is hashed first; a shorter one is zero-padded.
  unsigned char key[kShaBlock] = {};
  std::string_view k = pepper_.Reveal();
  if (k.size() > kShaBlock) {
    unsigned int n = 0;
    if (Sha256Md() == nullptr ||
        EVP_Digest(k.data(), k.size(), key, &n, Sha256Md(), nullptr) != 1) {
      std::abort();
    }
  } else {
    std::memcpy(key, k.data(), k.size());
  }
  auto keyed = std::make_shared<Keyed>();
  keyed->inner = Absorbed(key, 0x36);
  keyed->outer = Absorbed(key, 0x5c);
  OPENSSL_cleanse(key, sizeof key);
  keyed_ = std::move(keyed);
}

std::string SecretHasher::Digest(std::string_view secret) const {
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> scratch(EVP_MD_CTX_new());
  EVP_MD_CTX* ctx = scratch.get();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  bool ok = ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, keyed_->inner) == 1 &&
            EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, mac, &n) == 1 && EVP_MD_CTX_copy_ex(ctx, keyed_->outer) == 1 &&
            EVP_DigestUpdate(ctx, mac, n) == 1 && EVP_DigestFinal_ex(ctx, mac, &n) == 1;
  if (!ok) std::abort();  // no usable SHA-256: nothing safe can run
  std::string out(kDigestPrefix);
  out += Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), n));
  OPENSSL_cleanse(mac, sizeof mac);
  return out;
}

bool SecretHasher::Verify(std::string_view secret, std::string_view stored) const {
  if (stored.starts_with(kDigestPrefix)) return ConstantTimeEquals(Digest(secret), stored);
  if (IsLegacyPbkdf2(stored)) return VerifyPbkdf2(secret, stored);
  return false;
}

bool IsLegacyPbkdf2(std::string_view stored) { return ParsePbkdf2(stored).has_value(); }

bool VerifyPbkdf2(std::string_view secret, std::string_view stored) {
  auto parts = ParsePbkdf2(stored);
  if (!parts) return false;
  auto derived = Pbkdf2Sha1(secret, parts->salt, parts->iterations, parts->hash.size());
  return derived && ConstantTimeEquals(*derived, parts->hash);
}

std::string HashPbkdf2ForTest(std::string_view secret, std::string_view salt, int iterations) {
  auto derived = Pbkdf2Sha1(secret, salt, iterations, 64);
  return std::to_string(iterations) + ":" + HexEncode(salt) + ":" + HexEncode(derived.value());
}

Result<std::string> HashPassword(std::string_view password) {
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kArgonOps, kArgonMem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(Error::Internal("argon2id: crypto_pwhash_str_alg failed (out of memory?)"));
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view stored) {
  InitSodium();
  if (stored.starts_with(kArgonPrefix)) {
    if (stored.size() >= crypto_pwhash_STRBYTES) return false;
    std::string text(stored);  // libsodium wants a NUL-terminated string
    return crypto_pwhash_str_verify(text.c_str(), password.data(), password.size()) == 0;
  }
  if (IsLegacyPbkdf2(stored)) return VerifyPbkdf2(password, stored);
  return false;
}

bool PasswordNeedsRehash(std::string_view stored) {
  InitSodium();
  if (!stored.starts_with(kArgonPrefix) || stored.size() >= crypto_pwhash_STRBYTES) return true;
  std::string text(stored);
  return crypto_pwhash_str_needs_rehash(text.c_str(), kArgonOps, kArgonMem) != 0;
}

}  // namespace portcullis::oauth
