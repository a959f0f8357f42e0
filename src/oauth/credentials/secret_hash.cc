#include "oauth/credentials/secret_hash.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
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

SecretHasher::SecretHasher(Secret pepper) : pepper_(std::move(pepper)) { InitSodium(); }

std::string SecretHasher::Digest(std::string_view secret) const {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state,
                              reinterpret_cast<const unsigned char*>(pepper_.Reveal().data()),
                              pepper_.Reveal().size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                                secret.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof state);
  std::string out(kDigestPrefix);
  out += Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
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
