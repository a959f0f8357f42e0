#include "oauth/key/master_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kVersion = "v1.";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherFree>;

const EVP_CIPHER* Aes256Gcm() {
  static CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  return cipher.get();
}

Error ConfigError(std::string what) { return Error::Internal("master key: " + std::move(what)); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::string> DecodeBase64Any(std::string_view text) {
  if (auto url = Base64UrlDecode(text)) return url;
  if (auto std_b64 = Base64Decode(text)) return std_b64;
  // Url-safe alphabet with padding.
  while (text.ends_with('=')) text.remove_suffix(1);
  return Base64UrlDecode(text);
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<MasterKey> MasterKey::Parse(std::string_view text) {
  text = Trim(text);
  std::optional<std::string> bytes;
  if (text.starts_with("hex:")) {
    bytes = HexDecode(text.substr(4));
    if (!bytes) return Fail(ConfigError("not valid hex after \"hex:\""));
  } else if (text.starts_with("base64:")) {
    bytes = DecodeBase64Any(text.substr(7));
    if (!bytes) return Fail(ConfigError("not valid base64 after \"base64:\""));
  } else if (text.size() == 2 * kSize && HexDecode(text)) {
    bytes = HexDecode(text);
  } else {
    bytes = DecodeBase64Any(text);
    if (!bytes) return Fail(ConfigError("neither 64 hex digits nor base64"));
  }
  if (bytes->size() != kSize) {
    size_t got = bytes->size();
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return Fail(ConfigError("must be 32 bytes, got " + std::to_string(got)));
  }
  MasterKey key{Secret(std::move(*bytes))};
  return key;
}

Result<MasterKey> MasterKey::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ConfigError("cannot read file " + path));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Secret wiped(std::move(content));  // wipes the file content on return
  auto key = Parse(wiped.Reveal());
  if (!key) return Fail(ConfigError("file " + path + ": " + key.error().detail));
  return key;
}

MasterKey MasterKey::Generate(Random& random) {
  std::string bytes(kSize, '\0');
  random.Fill(bytes.data(), bytes.size());
  return MasterKey(Secret(std::move(bytes)));
}

Result<std::string> SealKey(const Secret& plaintext, std::string_view kid, const MasterKey& master,
                            Random& random) {
  std::string_view pt = plaintext.Reveal();
  std::string out(kNonceSize + pt.size() + kTagSize, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random.Fill(nonce, kNonceSize);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  bool ok =
      ctx && Aes256Gcm() &&
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), U8(master.bytes().Reveal()), nonce, nullptr) ==
          1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(kid), static_cast<int>(kid.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nonce + kNonceSize, &len, U8(pt), static_cast<int>(pt.size())) ==
          1 &&
      EVP_EncryptFinal_ex(ctx.get(), nonce + kNonceSize + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize,
                          nonce + kNonceSize + pt.size()) == 1;
  if (!ok) {
    ERR_clear_error();
    return Fail(Error::Internal("AES-256-GCM seal failed"));
  }
  return std::string(kVersion) + Base64UrlEncode(out);
}

Result<Secret> OpenKey(std::string_view sealed, std::string_view kid, const MasterKey& master) {
  auto fail = [](std::string detail) { return Fail(Error::Internal("open key: " + detail)); };
  if (!sealed.starts_with(kVersion)) return fail("unknown format version");
  auto raw = Base64UrlDecode(sealed.substr(kVersion.size()));
  if (!raw || raw->size() < kNonceSize + kTagSize) return fail("bad encoding");
  const auto* nonce = U8(*raw);
  size_t ct_len = raw->size() - kNonceSize - kTagSize;
  std::string pt(ct_len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(pt.data());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, final_len = 0;
  bool ok =
      ctx && Aes256Gcm() &&
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), U8(master.bytes().Reveal()), nonce, nullptr) ==
          1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U8(kid), static_cast<int>(kid.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &len, nonce + kNonceSize, static_cast<int>(ct_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize,
                          const_cast<unsigned char*>(nonce + kNonceSize + ct_len)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) == 1;
  Secret result(std::move(pt));  // wiped on every path
  if (!ok) {
    ERR_clear_error();
    return fail("authentication failed (wrong master key or kid, or tampered)");
  }
  return result;
}

}  // namespace portcullis::oauth
