#include "oauth/totp/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "common/encoding.h"

namespace portcullis::oauth::totp {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

uint32_t Hotp(std::string_view key, uint64_t counter, int digits) {
  std::array<unsigned char, 8> msg{};
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac, &len);
  // Dynamic truncation (RFC 4226 §5.3).
  const int offset = mac[len - 1] & 0x0f;
  const uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                       (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                       (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                       static_cast<uint32_t>(mac[offset + 3]);
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  return bin % mod;
}

int64_t StepAt(int64_t unix_time, int64_t period) {
  return unix_time >= 0 ? unix_time / period : -1;
}

std::string CodeAt(std::string_view key, int64_t step, int digits) {
  std::string s = std::to_string(Hotp(key, static_cast<uint64_t>(step), digits));
  if (s.size() < static_cast<size_t>(digits)) s.insert(0, digits - s.size(), '0');
  return s;
}

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == ' ' || ch == '=') continue;
    char c = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view base32_secret) {
  std::string label = PercentEncode(issuer) + ":" + PercentEncode(account);
  return "otpauth://totp/" + label + "?secret=" + std::string(base32_secret) +
         "&issuer=" + PercentEncode(issuer) + "&algorithm=SHA1&digits=" + std::to_string(kDigits) +
         "&period=" + std::to_string(kPeriod);
}

bool LooksLikeTotp(std::string_view code) {
  size_t digits = 0;
  for (char c : code) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return false;
    ++digits;
  }
  return digits == static_cast<size_t>(kDigits);
}

}  // namespace portcullis::oauth::totp
