#include "oauth/dpop/dpop_proof.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/encoding.h"

namespace portcullis::oauth::dpop {
namespace {

Error Invalid(std::string description) {
  return Error::OAuth(400, std::string(kInvalidProof), std::move(description));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

ProofValidator::ProofValidator(Settings settings, const Clock& clock)
    : settings_(std::move(settings)), clock_(clock) {}

std::vector<std::string> ProofValidator::AlgNames() const {
  std::vector<std::string> out;
  for (auto a : settings_.algs) out.emplace_back(jose::AlgName(a));
  return out;
}

std::string ProofValidator::NonceFor(int64_t slot) const {
  std::string mac =
      HmacSha256(settings_.nonce_key.Reveal(), "portcullis dpop nonce v1:" + std::to_string(slot));
  // 128 bits of MAC are plenty for a value that is only good for minutes.
  return std::to_string(slot) + "." + Base64UrlEncode(std::string_view(mac).substr(0, 16));
}

std::string ProofValidator::CurrentNonce() const {
  if (settings_.nonce_key.empty() || settings_.nonce_slot_s <= 0) return {};
  return NonceFor(clock_.Now() / settings_.nonce_slot_s);
}

bool ProofValidator::NonceValid(std::string_view nonce) const {
  if (settings_.nonce_key.empty() || settings_.nonce_slot_s <= 0) return false;
  const int64_t slot = clock_.Now() / settings_.nonce_slot_s;
  // The current slot's nonce and the previous one's: a nonce handed out just before a slot
  // boundary still works for one more slot.
  for (int64_t s : {slot, slot - 1}) {
    std::string expected = NonceFor(s);
    if (expected.size() == nonce.size() &&
        CRYPTO_memcmp(expected.data(), nonce.data(), nonce.size()) == 0) {
      return true;
    }
  }
  return false;
}

Result<Proof> ProofValidator::Validate(std::span<const std::string_view> headers,
                                       const Expected& expected) const {
  // §4.3 (1): exactly one DPoP header field; (2)-(9), (11), (12) in jose::dpop::CheckProof.
  if (headers.empty()) return Fail(Invalid("A DPoP proof is required."));
  if (headers.size() != 1) return Fail(Invalid("More than one DPoP header."));
  jose::dpop::ProofCheck check;
  check.method = expected.method;
  check.uri = expected.uri;
  check.alias_uri = expected.alias_uri;
  check.access_token = expected.access_token;
  check.algorithms = settings_.algs;
  check.window_seconds = settings_.iat_window_s;
  check.now = clock_.Now();
  auto checked = jose::dpop::CheckProof(headers.front(), check);
  if (!checked) return Fail(Invalid(std::move(checked.error().description)));
  // (10) the server's nonce, when required. Checked last: a client that gets use_dpop_nonce
  // retries with the same key, so every other problem is reported first.
  if (settings_.require_nonce && (!checked->nonce || !NonceValid(*checked->nonce))) {
    return Fail(Error::OAuth(400, std::string(kUseNonce),
                             checked->nonce ? "The DPoP nonce is stale or unknown."
                                            : "The authorization server requires a DPoP nonce."));
  }
  Proof out;
  out.jkt = std::move(checked->jkt);
  out.jti = std::move(checked->jti);
  out.iat = checked->iat;
  out.alg = checked->alg;
  return out;
}

}  // namespace portcullis::oauth::dpop
