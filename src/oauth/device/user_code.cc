#include "oauth/device/user_code.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string NewUserCode(Random& random) {
  // 240 = 12 * 20: bytes at or above it are dropped, so each letter has probability 1/20.
  std::string out;
  unsigned char buf[32];
  while (out.size() < kUserCodeLength) {
    random.Fill(buf, sizeof buf);
    for (unsigned char b : buf) {
      if (b >= 240 || out.size() == kUserCodeLength) continue;
      out += kUserCodeAlphabet[b % kUserCodeAlphabet.size()];
    }
  }
  return out;
}

std::optional<std::string> NormalizeUserCode(std::string_view input) {
  if (input.size() > 64) return std::nullopt;
  std::string out;
  for (char ch : input) {
    if (ch == '-' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (kUserCodeAlphabet.find(ch) == std::string_view::npos) return std::nullopt;
    out += ch;
    if (out.size() > kUserCodeLength) return std::nullopt;
  }
  if (out.size() != kUserCodeLength) return std::nullopt;
  return out;
}

std::string FormatUserCode(std::string_view normalized) {
  if (normalized.size() != kUserCodeLength) return std::string(normalized);
  return std::string(normalized.substr(0, 4)) + "-" + std::string(normalized.substr(4));
}

UserCodeHasher::UserCodeHasher(const Secret& root)
    : key_(HmacSha256(root.Reveal(), "portcullis user code v1")) {}

std::string UserCodeHasher::Hash(std::string_view normalized) const {
  return Base64UrlEncode(HmacSha256(key_.Reveal(), normalized));
}

}  // namespace portcullis::oauth
