#include "jose/verifier.h"

#include <algorithm>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"
#include "jose/ossl.h"

namespace portcullis::jose {
namespace {

using Outcome = std::expected<Verified, VerifyError>;

std::unexpected<VerifyError> Reject(VerifyReason reason, std::string detail) {
  return std::unexpected<VerifyError>(VerifyError{reason, std::move(detail)});
}

std::string_view Str(const boost::json::string& s) { return std::string_view(s.data(), s.size()); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

std::optional<boost::json::object> ParseObject(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// nullopt when absent; error when present but not a number (RFC 7519 §2 NumericDate).
std::expected<std::optional<double>, VerifyError> NumericClaim(const boost::json::object& claims,
                                                               std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return Reject(VerifyReason::kMalformed, std::string(name) + " is not a number");
}

bool AudienceMatches(const boost::json::value& aud, std::string_view expected) {
  if (aud.is_string()) return Str(aud.get_string()) == expected;
  if (!aud.is_array()) return false;
  for (const auto& a : aud.get_array()) {
    if (a.is_string() && Str(a.get_string()) == expected) return true;
  }
  return false;
}

}  // namespace

std::string_view ReasonName(VerifyReason reason) {
  switch (reason) {
    case VerifyReason::kMalformed:
      return "malformed";
    case VerifyReason::kBadBase64:
      return "bad_base64";
    case VerifyReason::kAlgNone:
      return "alg_none";
    case VerifyReason::kAlgNotAllowed:
      return "alg_not_allowed";
    case VerifyReason::kUnknownKid:
      return "unknown_kid";
    case VerifyReason::kKeyAlgMismatch:
      return "key_alg_mismatch";
    case VerifyReason::kBadSignature:
      return "bad_signature";
    case VerifyReason::kExpired:
      return "expired";
    case VerifyReason::kNotYetValid:
      return "not_yet_valid";
    case VerifyReason::kIssuedInFuture:
      return "issued_in_future";
    case VerifyReason::kWrongIssuer:
      return "wrong_issuer";
    case VerifyReason::kWrongAudience:
      return "wrong_audience";
    case VerifyReason::kWrongType:
      return "wrong_type";
  }
  return "unknown";
}

Error ToError(const VerifyError& error) {
  std::string detail = "jwt " + std::string(ReasonName(error.reason)) + ": " + error.detail;
  if (error.reason == VerifyReason::kExpired) return Error::Status("ERR10001", {}, detail);
  return Error::Status(
      "ERR10000", "Invalid JWT token (" + std::string(ReasonName(error.reason)) + ").", detail);
}

struct Verifier::Prepared {
  const KeyEntry* entry;
  // Indexed by Alg; null where the alg does not apply or no template could be made.
  std::array<internal::MdCtxPtr, 4> templates;
};

Verifier::Verifier(KeySet keys, VerifyOptions options, const Clock& clock)
    : Verifier(std::make_shared<const KeySet>(std::move(keys)), std::move(options), clock) {}

Verifier::Verifier(std::shared_ptr<const KeySet> keys, VerifyOptions options, const Clock& clock)
    : keys_(keys ? std::move(keys) : std::make_shared<const KeySet>()),
      options_(std::move(options)),
      clock_(clock) {
  for (const auto& [kid, entry] : keys_->entries()) {
    auto prepared = std::make_unique<Prepared>();
    prepared->entry = &entry;
    for (Alg alg : options_.algorithms) {
      if (!entry.key.Supports(alg) || (entry.alg && *entry.alg != alg)) continue;
      prepared->templates[static_cast<size_t>(alg)] =
          internal::NewTemplate(entry.key.get(), alg, false);
    }
    prepared_.emplace(kid, std::move(prepared));
  }
}

Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;

Outcome Verifier::Verify(std::string_view token) const {
  // RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)
  if (token.size() > kMaxTokenBytes) return Reject(VerifyReason::kMalformed, "token too large");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject(VerifyReason::kMalformed, "not three parts");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);
  // An empty signature is looked at after "alg", so that an unsigned token reports kAlgNone.
  if (header_b64.empty() || payload_b64.empty()) {
    return Reject(VerifyReason::kMalformed, "empty part");
  }
  auto header_json = Base64UrlDecode(header_b64);
  auto payload_json = Base64UrlDecode(payload_b64);
  auto signature = Base64UrlDecode(signature_b64);
  if (!header_json) return Reject(VerifyReason::kBadBase64, "header");
  if (!payload_json) return Reject(VerifyReason::kBadBase64, "payload");
  if (!signature) return Reject(VerifyReason::kBadBase64, "signature");

  Verified out;
  auto header = ParseObject(*header_json);
  if (!header) return Reject(VerifyReason::kMalformed, "header is not a JSON object");
  out.header = std::move(*header);

  const auto* alg_value = out.header.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) {
    return Reject(VerifyReason::kMalformed, "alg missing or not a string");
  }
  std::string_view alg_name = Str(alg_value->get_string());
  if (EqualsIgnoreCase(alg_name, "none")) return Reject(VerifyReason::kAlgNone, "alg none");
  auto alg = ParseAlg(alg_name);
  if (!alg || std::ranges::find(options_.algorithms, *alg) == options_.algorithms.end()) {
    return Reject(VerifyReason::kAlgNotAllowed, "alg " + std::string(alg_name.substr(0, 32)));
  }
  out.alg = *alg;
  // RFC 7515 §4.1.11: we implement no extension, so any "crit" must be refused.
  if (out.header.contains("crit")) return Reject(VerifyReason::kMalformed, "crit not supported");

  if (!options_.typ.empty()) {
    const auto* typ = out.header.if_contains("typ");
    std::string_view t = typ != nullptr && typ->is_string() ? Str(typ->get_string()) : "";
    constexpr std::string_view kPrefix = "application/";
    if (t.size() > kPrefix.size() && EqualsIgnoreCase(t.substr(0, kPrefix.size()), kPrefix)) {
      t.remove_prefix(kPrefix.size());
    }
    if (!EqualsIgnoreCase(t, options_.typ)) return Reject(VerifyReason::kWrongType, "typ");
  }

  const auto* kid_value = out.header.if_contains("kid");
  if (kid_value == nullptr || !kid_value->is_string()) {
    return Reject(VerifyReason::kUnknownKid, "no kid");
  }
  out.kid = Str(kid_value->get_string());
  auto it = prepared_.find(out.kid);
  if (it == prepared_.end()) {
    return Reject(VerifyReason::kUnknownKid, "kid " + out.kid.substr(0, 64));
  }
  const Prepared& prepared = *it->second;
  const KeyEntry& entry = *prepared.entry;
  if (!entry.key.Supports(*alg) || (entry.alg && *entry.alg != *alg)) {
    return Reject(VerifyReason::kKeyAlgMismatch,
                  "kid " + out.kid + " cannot verify " + std::string(alg_name));
  }

  if (signature->empty()) return Reject(VerifyReason::kMalformed, "empty signature");
  std::string_view signing_input = token.substr(0, dot2);
  if (!internal::VerifyWith(prepared.templates[static_cast<size_t>(*alg)].get(), entry.key.get(),
                            *alg, signing_input, *signature)) {
    return Reject(VerifyReason::kBadSignature, "kid " + out.kid);
  }

  // Claims are only looked at once they are known to come from the key holder.
  auto payload = ParseObject(*payload_json);
  if (!payload) return Reject(VerifyReason::kMalformed, "payload is not a JSON object");
  out.payload = std::move(*payload);

  auto exp = NumericClaim(out.payload, "exp");
  auto nbf = NumericClaim(out.payload, "nbf");
  auto iat = NumericClaim(out.payload, "iat");
  if (!exp) return std::unexpected(std::move(exp.error()));
  if (!nbf) return std::unexpected(std::move(nbf.error()));
  if (!iat) return std::unexpected(std::move(iat.error()));
  const double now = static_cast<double>(clock_.Now());
  const double leeway = static_cast<double>(options_.leeway_seconds);
  // RFC 7519 §4.1.4: not accepted on or after exp.
  if (!*exp && options_.require_exp) return Reject(VerifyReason::kMalformed, "no exp");
  if (*exp && now >= **exp + leeway) return Reject(VerifyReason::kExpired, "exp");
  if (*nbf && now + leeway < **nbf) return Reject(VerifyReason::kNotYetValid, "nbf");
  if (*iat && **iat > now + leeway) return Reject(VerifyReason::kIssuedInFuture, "iat");

  if (!options_.issuer.empty()) {
    const auto* iss = out.payload.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || Str(iss->get_string()) != options_.issuer) {
      return Reject(VerifyReason::kWrongIssuer, "iss");
    }
  }
  if (!options_.audience.empty()) {
    const auto* aud = out.payload.if_contains("aud");
    if (aud == nullptr || !AudienceMatches(*aud, options_.audience)) {
      return Reject(VerifyReason::kWrongAudience, "aud");
    }
  }
  return out;
}

}  // namespace portcullis::jose
