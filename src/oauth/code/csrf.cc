#include "oauth/code/csrf.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

CsrfGuard::CsrfGuard(const Secret& root, const Clock& clock, int64_t max_age)
    : key_(HmacSha256(root.Reveal(), "portcullis csrf v1")), clock_(clock), max_age_(max_age) {}

std::string CsrfGuard::Mac(std::string_view purpose, std::string_view binding,
                           int64_t issued_at) const {
  std::string data;
  data.reserve(purpose.size() + binding.size() + 24);
  data.append(purpose).push_back('\0');
  data.append(binding).push_back('\0');
  data.append(std::to_string(issued_at));
  return Base64UrlEncode(HmacSha256(key_.Reveal(), data));
}

std::string CsrfGuard::Issue(std::string_view purpose, std::string_view binding) const {
  if (binding.empty()) return {};
  const int64_t now = clock_.Now();
  return std::to_string(now) + "." + Mac(purpose, binding, now);
}

bool CsrfGuard::Verify(std::string_view token, std::string_view purpose,
                       std::string_view binding) const {
  if (binding.empty() || token.empty() || token.size() > 128) return false;
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  int64_t issued_at = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, issued_at);
  if (ec != std::errc() || end != token.data() + dot) return false;
  const int64_t now = clock_.Now();
  if (issued_at > now + 60 || now - issued_at > max_age_) return false;
  return ConstantTimeEquals(token.substr(dot + 1), Mac(purpose, binding, issued_at));
}

}  // namespace portcullis::oauth
