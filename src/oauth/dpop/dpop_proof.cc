#include "oauth/dpop/dpop_proof.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/signature.h"

namespace portcullis::oauth::dpop {
namespace {

namespace json = boost::json;

Error Invalid(std::string description) {
  return Error::OAuth(400, std::string(kInvalidProof), std::move(description));
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::optional<json::object> ParseObject(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<std::string_view> StringMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string().data(), v->as_string().size());
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
// RFC 8037 §2).
constexpr std::string_view kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

}  // namespace

Result<std::string> JwkThumbprint(const json::object& jwk) {
  auto kty = StringMember(jwk, "kty");
  if (!kty) return Fail(Invalid("The jwk has no kty."));
  std::vector<std::string_view> members;
  if (*kty == "RSA") {
    members = {"e", "kty", "n"};
  } else if (*kty == "EC") {
    members = {"crv", "kty", "x", "y"};
  } else if (*kty == "OKP") {
    members = {"crv", "kty", "x"};
  } else {
    return Fail(Invalid("The jwk's kty is not supported."));
  }
  // RFC 7638 §3.2: no whitespace, members in lexicographic order, values as JSON strings.
  std::string canonical = "{";
  for (auto m : members) {
    auto v = StringMember(jwk, m);
    if (!v) return Fail(Invalid("The jwk lacks " + std::string(m) + "."));
    if (canonical.size() > 1) canonical += ',';
    canonical += json::serialize(json::string(m));
    canonical += ':';
    canonical += json::serialize(json::string(*v));
  }
  canonical += '}';
  return Base64UrlEncode(Sha256(canonical));
}

std::string AccessTokenHash(std::string_view access_token) {
  return Base64UrlEncode(Sha256(access_token));
}

std::string NormalizeHtu(std::string_view uri) {
  uri = uri.substr(0, std::min(uri.find('?'), uri.find('#')));
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  std::string scheme = Lower(uri.substr(0, scheme_end));
  std::string_view rest = uri.substr(scheme_end + 3);
  size_t path_start = std::min(rest.find('/'), rest.size());
  std::string authority = Lower(rest.substr(0, path_start));
  std::string_view path = rest.substr(path_start);
  auto drop_port = [&](std::string_view port) {
    if (authority.size() > port.size() &&
        authority.compare(authority.size() - port.size(), port.size(), port) == 0) {
      authority.resize(authority.size() - port.size());
    }
  };
  if (scheme == "https") drop_port(":443");
  if (scheme == "http") drop_port(":80");
  // RFC 3986 §6.2.3: an empty path is "/".
  return scheme + "://" + authority + (path.empty() ? std::string("/") : std::string(path));
}

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
  // §4.3 (1): exactly one DPoP header field; (2) one well-formed JWS compact JWT.
  if (headers.empty()) return Fail(Invalid("A DPoP proof is required."));
  if (headers.size() != 1) return Fail(Invalid("More than one DPoP header."));
  std::string_view jwt = headers.front();
  if (jwt.size() > kMaxProofBytes) return Fail(Invalid("The DPoP proof is too large."));
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(Invalid("The DPoP proof is not a JWS compact JWT."));
  }
  auto header_json = Base64UrlDecode(jwt.substr(0, dot1));
  auto payload_json = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) {
    return Fail(Invalid("The DPoP proof is not base64url."));
  }
  auto header = ParseObject(*header_json);
  if (!header) return Fail(Invalid("The DPoP proof header is not a JSON object."));

  // (4) typ; (5) an allowed asymmetric alg.
  auto typ = StringMember(*header, "typ");
  if (!typ || Lower(*typ) != "dpop+jwt")
    return Fail(Invalid("The DPoP proof's typ must be dpop+jwt."));
  auto alg_name = StringMember(*header, "alg");
  if (!alg_name) return Fail(Invalid("The DPoP proof has no alg."));
  auto alg = jose::ParseAlg(*alg_name);
  if (!alg ||
      std::find(settings_.algs.begin(), settings_.algs.end(), *alg) == settings_.algs.end()) {
    return Fail(Invalid("The DPoP proof's alg " + std::string(alg_name->substr(0, 32)) +
                        " is not accepted."));
  }
  // RFC 7515 §4.1.11: no extension is understood here.
  if (header->contains("crit")) return Fail(Invalid("The DPoP proof has crit."));

  // (7) a public key only; (6) the signature is that key's.
  const auto* jwk_value = header->if_contains("jwk");
  if (jwk_value == nullptr || !jwk_value->is_object()) {
    return Fail(Invalid("The DPoP proof has no jwk."));
  }
  const json::object& jwk = jwk_value->as_object();
  for (auto m : kPrivateMembers) {
    if (jwk.contains(json::string_view(m.data(), m.size()))) {
      return Fail(Invalid("The DPoP proof's jwk holds a private key."));
    }
  }
  auto key = jose::Key::FromJwk(jwk);
  if (!key) return Fail(Invalid("The DPoP proof's jwk is not a usable public key."));
  if (!key->Supports(*alg)) return Fail(Invalid("The DPoP proof's jwk does not fit its alg."));
  if (!jose::VerifySignature(*key, *alg, jwt.substr(0, dot2), *signature)) {
    return Fail(Invalid("The DPoP proof's signature does not verify."));
  }
  auto jkt = JwkThumbprint(jwk);
  if (!jkt) return Fail(jkt.error());

  // (3) the claims, now known to come from the key holder.
  auto payload = ParseObject(*payload_json);
  if (!payload) return Fail(Invalid("The DPoP proof's payload is not a JSON object."));
  auto jti = StringMember(*payload, "jti");
  auto htm = StringMember(*payload, "htm");
  auto htu = StringMember(*payload, "htu");
  const auto* iat = payload->if_contains("iat");
  if (!jti || jti->empty() || !htm || !htu || iat == nullptr || !iat->is_number()) {
    return Fail(Invalid("The DPoP proof needs jti, htm, htu and a numeric iat."));
  }
  if (jti->size() > kMaxJtiBytes) return Fail(Invalid("The DPoP proof's jti is too long."));
  // (8), (9)
  if (*htm != expected.method) return Fail(Invalid("The DPoP proof's htm does not match."));
  if (NormalizeHtu(*htu) != NormalizeHtu(expected.uri)) {
    return Fail(Invalid("The DPoP proof's htu does not match."));
  }
  // (11) iat within the window, both ways.
  const double iat_value = iat->to_number<double>();
  const int64_t now = clock_.Now();
  if (!std::isfinite(iat_value) || std::fabs(iat_value - static_cast<double>(now)) >
                                       static_cast<double>(settings_.iat_window_s)) {
    return Fail(Invalid("The DPoP proof's iat is outside the accepted window."));
  }
  // (12) ath: bound to the access token presented with it, and absent where none is.
  auto ath = StringMember(*payload, "ath");
  if (expected.access_token) {
    if (!ath || *ath != AccessTokenHash(*expected.access_token)) {
      return Fail(Invalid("The DPoP proof's ath does not match the access token."));
    }
  } else if (payload->contains("ath")) {
    return Fail(Invalid("The DPoP proof carries ath where no access token is presented."));
  }
  // (10) the server's nonce, when required. Checked last: a client that gets use_dpop_nonce
  // retries with the same key, so every other problem is reported first.
  if (settings_.require_nonce) {
    auto nonce = StringMember(*payload, "nonce");
    if (!nonce || !NonceValid(*nonce)) {
      return Fail(Error::OAuth(400, std::string(kUseNonce),
                               nonce ? "The DPoP nonce is stale or unknown."
                                     : "The authorization server requires a DPoP nonce."));
    }
  }
  Proof out;
  out.jkt = std::move(*jkt);
  out.jti = std::string(*jti);
  out.iat = static_cast<int64_t>(iat_value);
  out.alg = *alg;
  return out;
}

}  // namespace portcullis::oauth::dpop
