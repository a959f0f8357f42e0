#include "verify/sender.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <strings.h>

#include <algorithm>

#include <boost/json/value.hpp>

#include "common/encoding.h"
#include "jose/ossl.h"

namespace portcullis::verify {
namespace {

namespace json = boost::json;

constexpr size_t kMaxCertificateBytes = 16 * 1024;

std::string_view Str(const json::string& s) { return {s.data(), s.size()}; }

std::string Sha256B64(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

// Constant-time comparison of two thumbprints (public values, but cheap to do right).
bool SameString(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

SenderRefusal Proof(std::string reason, std::string description) {
  return {true, "invalid_dpop_proof", std::move(reason), std::move(description)};
}

SenderRefusal DpopToken(std::string reason, std::string description) {
  return {true, "invalid_token", std::move(reason), std::move(description)};
}

SenderRefusal BearerToken(std::string reason, std::string description) {
  return {false, "invalid_token", std::move(reason), std::move(description)};
}

std::optional<SenderRefusal> CheckProof(std::string_view jkt, std::string_view token,
                                        const Presented& p, const DpopPolicy& policy, int64_t now,
                                        ReplayCache& replay) {
  if (!p.proof || p.proof->empty()) {
    return Proof("dpop_proof_missing", "A DPoP proof is required for this token.");
  }
  // Several DPoP header fields arrive joined with "," (never part of a compact JWS).
  if (p.proof->find(',') != std::string_view::npos) {
    return Proof("dpop_proof_multiple", "Exactly one DPoP header is allowed.");
  }
  // RFC 9449 §4.3 checks 2-9, 11, 12 (ath).
  jose::dpop::ProofCheck check;
  check.method = p.method;
  check.uri = p.htu;
  check.alias_uri = p.htu_alias;
  check.access_token = token;
  check.algorithms = policy.algorithms;
  check.window_seconds = policy.window_seconds;
  check.now = now;
  auto checked = jose::dpop::CheckProof(*p.proof, check);
  if (!checked) {
    return Proof(std::string(jose::dpop::FaultReason(checked.error().fault)),
                 std::move(checked.error().description));
  }
  // §7.1: the token is bound to this key.
  if (!SameString(checked->jkt, jkt)) {
    return DpopToken("dpop_key_mismatch", "The token is bound to another key.");
  }
  // Last, so that only proofs that passed everything occupy the cache.
  // Scoped by key: one client's jtis cannot collide with another's.
  switch (replay.Insert(checked->jkt, checked->jti, checked->iat + policy.window_seconds, now)) {
    case ReplayCache::Outcome::kFresh:
      return std::nullopt;
    case ReplayCache::Outcome::kReplay:
      return Proof("dpop_replay", "The proof was already used.");
    case ReplayCache::Outcome::kFull:
      return Proof("dpop_replay_cache_full", "Too many proofs in flight; retry shortly.");
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CertificateThumbprint(std::string_view certificate) {
  while (!certificate.empty() && (certificate.front() == ' ' || certificate.front() == '\t')) {
    certificate.remove_prefix(1);
  }
  while (!certificate.empty() && (certificate.back() == ' ' || certificate.back() == '\t')) {
    certificate.remove_suffix(1);
  }
  if (certificate.empty() || certificate.size() > kMaxCertificateBytes) return std::nullopt;
  std::string der;
  if (certificate.size() > 2 && certificate.front() == ':' && certificate.back() == ':') {
    // RFC 9440 §2.2: a structured-field byte sequence, standard base64 of the DER.
    std::string b64(certificate.substr(1, certificate.size() - 2));
    std::string out((b64.size() / 4 + 1) * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    if (n < 0 || b64.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    if (!b64.empty() && b64.back() == '=') pad++;
    if (b64.size() > 1 && b64[b64.size() - 2] == '=') pad++;
    out.resize(static_cast<size_t>(n) - pad);
    der = std::move(out);
  } else if (certificate.starts_with("-----BEGIN")) {
    std::string pem;
    if (certificate.find('%') != certificate.npos) {
      // nginx $ssl_client_escaped_cert: the PEM, percent-encoded.
      for (size_t i = 0; i < certificate.size(); ++i) {
        if (certificate[i] == '%' && i + 2 < certificate.size() &&
            HexVal(certificate[i + 1]) >= 0 && HexVal(certificate[i + 2]) >= 0) {
          pem += char(HexVal(certificate[i + 1]) * 16 + HexVal(certificate[i + 2]));
          i += 2;
        } else {
          pem += certificate[i];
        }
      }
    } else {
      pem = std::string(certificate);
    }
    jose::internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return std::nullopt;
    jose::internal::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x509) return std::nullopt;
    unsigned char* buf = nullptr;
    int len = i2d_X509(x509.get(), &buf);
    if (len <= 0) return std::nullopt;
    der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return Sha256B64(der);
  } else {
    der = std::string(certificate);
  }
  // DER: it must be exactly one certificate.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  jose::internal::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509 || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return std::nullopt;
  }
  return Sha256B64(der);
}

ReplayCache::Outcome ReplayCache::Insert(std::string_view group, std::string_view jti,
                                         int64_t expires_at, int64_t now) {
  std::lock_guard lock(mu_);
  // Each live entry has exactly one heap element, so this pops each entry once: amortised
  // O(log n) per insert.
  while (!expiry_.empty() && expiry_.top().first < now) {
    if (auto it = seen_.find(expiry_.top().second); it != seen_.end()) {
      if (auto g = groups_.find(it->second.group); g != groups_.end() && --g->second == 0) {
        groups_.erase(g);
      }
      seen_.erase(it);
    }
    expiry_.pop();
  }
  std::string key;
  key.reserve(group.size() + 1 + jti.size());
  key.append(group).append(1, '\n').append(jti);
  if (seen_.contains(key)) return Outcome::kReplay;
  if (seen_.size() >= capacity_) return Outcome::kFull;
  if (!group.empty()) {  // the ungrouped overload has no share
    size_t& in_group = groups_[std::string(group)];
    if (in_group >= per_group_) return Outcome::kFull;
    ++in_group;
  }
  seen_.emplace(key, Entry{expires_at, std::string(group)});
  expiry_.emplace(expires_at, std::move(key));
  return Outcome::kFresh;
}

size_t ReplayCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

std::string AlgList(const std::vector<jose::Alg>& algorithms) {
  std::string out;
  for (jose::Alg a : algorithms) {
    if (!out.empty()) out += ' ';
    out += jose::AlgName(a);
  }
  return out;
}

std::optional<SenderRefusal> CheckSenderConstraint(const json::object& claims,
                                                   std::string_view token, const Presented& p,
                                                   const DpopPolicy& policy, int64_t now,
                                                   ReplayCache& replay) {
  const json::value* cnf_value = claims.if_contains("cnf");
  if (cnf_value == nullptr) {
    if (!p.dpop_scheme) return std::nullopt;  // the plain bearer fast path
    return DpopToken("dpop_unbound_token",
                     "The token is not DPoP-bound; send it with the Bearer scheme.");
  }
  if (!cnf_value->is_object()) {
    return BearerToken("unsupported_cnf", "The token's confirmation claim cannot be checked.");
  }
  const json::object& cnf = cnf_value->get_object();
  const json::value* jkt = cnf.if_contains("jkt");
  const json::value* x5t = cnf.if_contains("x5t#S256");
  if (jkt == nullptr && x5t == nullptr) {
    return BearerToken("unsupported_cnf", "The token's confirmation method is not supported.");
  }
  if (jkt != nullptr) {
    if (!jkt->is_string() || jkt->get_string().empty()) {
      return DpopToken("unsupported_cnf", "The token's cnf.jkt is not a thumbprint.");
    }
    // RFC 9449 §7.2: a DPoP-bound token must not be accepted as a bearer token.
    if (!p.dpop_scheme) {
      return DpopToken("dpop_bound_as_bearer",
                       "The token is DPoP-bound; send it with the DPoP scheme and a proof.");
    }
    if (auto r = CheckProof(Str(jkt->get_string()), token, p, policy, now, replay)) return r;
  } else if (p.dpop_scheme) {
    return DpopToken("dpop_unbound_token",
                     "The token is not DPoP-bound; send it with the Bearer scheme.");
  }
  if (x5t != nullptr) {
    if (!x5t->is_string() || x5t->get_string().empty()) {
      return BearerToken("unsupported_cnf", "The token's cnf x5t#S256 is not a thumbprint.");
    }
    if (!p.certificate || p.certificate->empty()) {
      return BearerToken("mtls_certificate_missing",
                         "The token is certificate-bound; no client certificate was presented.");
    }
    auto thumbprint = CertificateThumbprint(*p.certificate);
    if (!thumbprint) {
      return BearerToken("mtls_certificate_invalid", "The client certificate does not parse.");
    }
    if (!SameString(*thumbprint, Str(x5t->get_string()))) {
      return BearerToken("mtls_certificate_mismatch",
                         "The token is bound to another client certificate.");
    }
  }
  return std::nullopt;
}

std::string Challenge(const SenderRefusal& refusal, const DpopPolicy& policy) {
  std::string description;
  for (char c : refusal.description) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
      description += c;
    }
  }
  std::string out = refusal.dpop ? "DPoP algs=\"" + AlgList(policy.algorithms) + "\", " : "Bearer ";
  out += "error=\"" + refusal.error + "\", error_description=\"" + description + "\"";
  return out;
}

std::optional<SchemeToken> ParseAuthorization(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  SchemeToken out;
  if (value.size() > 7 && strncasecmp(value.data(), "bearer ", 7) == 0) {
    value.remove_prefix(7);
  } else if (value.size() > 5 && strncasecmp(value.data(), "dpop ", 5) == 0) {
    out.dpop = true;
    value.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  out.token = value;
  return out;
}

}  // namespace portcullis::verify
