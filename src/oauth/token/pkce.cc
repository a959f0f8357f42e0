#include "oauth/token/pkce.h"

#include <openssl/sha.h>

#include "common/encoding.h"
#include "common/secret.h"

namespace portcullis::oauth {
namespace {

// RFC 7636 §4.1: unreserved characters only.
bool Unreserved(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string S256Challenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

Status CheckCodeChallenge(std::string_view challenge, std::string_view method, bool allow_plain) {
  if (method != "S256" && !(method == "plain" && allow_plain)) {
    return Fail(Error::Status("ERR12033", "code_challenge_method must be S256."));
  }
  if (challenge.size() < 43) return Fail(Error::Status("ERR12034"));
  if (challenge.size() > 128) return Fail(Error::Status("ERR12035"));
  if (!Unreserved(challenge)) return Fail(Error::Status("ERR12036"));
  return {};
}

Status CheckCodeVerifier(std::string_view verifier, std::string_view challenge,
                         std::string_view method) {
  if (verifier.empty()) return Fail(Error::Status("ERR12040"));
  if (verifier.size() < 43) return Fail(Error::Status("ERR12038"));
  if (verifier.size() > 128) return Fail(Error::Status("ERR12039"));
  if (!Unreserved(verifier)) return Fail(Error::Status("ERR12037"));
  if (method == "S256") {
    if (!ConstantTimeEquals(S256Challenge(verifier), challenge)) {
      return Fail(Error::Status("ERR12041"));
    }
    return {};
  }
  if (method == "plain") {
    if (!ConstantTimeEquals(verifier, challenge)) return Fail(Error::Status("ERR12041"));
    return {};
  }
  return Fail(Error::Status("ERR12033"));
}

}  // namespace portcullis::oauth
