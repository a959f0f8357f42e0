#include "verify/sender.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <strings.h>

#include <algorithm>
#include <cctype>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/ossl.h"

namespace portcullis::verify {
namespace {

namespace json = boost::json;

constexpr size_t kMaxProofBytes = 8 * 1024;
constexpr size_t kMaxJtiBytes = 256;
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

std::optional<int64_t> IntOf(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= uint64_t(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_double() && v->get_double() > -9e15 && v->get_double() < 9e15) {
    return static_cast<int64_t>(v->get_double());
  }
  return std::nullopt;
}

const json::string* StringMember(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// RFC 3986 §5.2.4.
std::string RemoveDotSegments(std::string_view in) {
  std::vector<std::string_view> out;
  bool trailing = false;
  size_t i = 0;
  while (i < in.size()) {
    size_t j = in.find('/', i + 1);
    std::string_view seg = in.substr(i, j == std::string_view::npos ? in.npos : j - i);
    // seg starts with '/'
    std::string_view name = seg.substr(1);
    trailing = false;
    if (name == ".") {
      trailing = true;
    } else if (name == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else {
      out.push_back(seg);
    }
    if (j == std::string_view::npos) break;
    i = j;
  }
  std::string path;
  for (auto s : out) path += s;
  if (trailing || path.empty()) path += "/";
  return path;
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
  std::string_view proof = *p.proof;
  // Several DPoP header fields (joined with ",") or a value that is no compact JWS.
  if (proof.find(',') != proof.npos) {
    return Proof("dpop_proof_multiple", "Exactly one DPoP header is allowed.");
  }
  if (proof.size() > kMaxProofBytes) return Proof("dpop_proof_malformed", "Proof too large.");
  size_t d1 = proof.find('.');
  size_t d2 = d1 == proof.npos ? proof.npos : proof.find('.', d1 + 1);
  if (d2 == proof.npos || proof.find('.', d2 + 1) != proof.npos) {
    return Proof("dpop_proof_malformed", "The proof is not a compact JWS.");
  }
  auto header_text = Base64UrlDecode(proof.substr(0, d1));
  auto payload_text = Base64UrlDecode(proof.substr(d1 + 1, d2 - d1 - 1));
  auto signature = Base64UrlDecode(proof.substr(d2 + 1));
  if (!header_text || !payload_text || !signature) {
    return Proof("dpop_proof_malformed", "The proof is not base64url.");
  }
  boost::system::error_code ec;
  json::value hv = json::parse(*header_text, ec);
  if (ec || !hv.is_object()) return Proof("dpop_proof_malformed", "The proof header is not JSON.");
  json::value pv = json::parse(*payload_text, ec);
  if (ec || !pv.is_object()) return Proof("dpop_proof_malformed", "The proof body is not JSON.");
  const json::object& header = hv.get_object();
  const json::object& claims = pv.get_object();

  // RFC 9449 §4.3 checks 4-7.
  const json::string* typ = StringMember(header, "typ");
  if (typ == nullptr || typ->size() != 8 || strncasecmp(typ->data(), "dpop+jwt", 8) != 0) {
    return Proof("dpop_wrong_type", "The proof typ must be dpop+jwt.");
  }
  const json::string* alg_name = StringMember(header, "alg");
  std::optional<jose::Alg> alg = alg_name ? jose::ParseAlg(Str(*alg_name)) : std::nullopt;
  if (!alg || std::find(policy.algorithms.begin(), policy.algorithms.end(), *alg) ==
                  policy.algorithms.end()) {
    return Proof("dpop_alg_not_allowed", "The proof alg is not allowed.");
  }
  if (header.contains("crit")) return Proof("dpop_proof_malformed", "crit is not supported.");
  const json::value* jwk_value = header.if_contains("jwk");
  if (jwk_value == nullptr || !jwk_value->is_object()) {
    return Proof("dpop_jwk_missing", "The proof header has no jwk.");
  }
  const json::object& jwk = jwk_value->get_object();
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(priv)) return Proof("dpop_jwk_private", "The proof jwk holds a private key.");
  }
  auto key = jose::Key::FromJwk(jwk);
  if (!key || !key->Supports(*alg)) {
    return Proof("dpop_jwk_invalid", "The proof jwk is not a usable key for its alg.");
  }
  std::string_view input = proof.substr(0, d2);
  if (!jose::internal::VerifyWith(nullptr, key->get(), *alg, input, *signature)) {
    return Proof("dpop_bad_signature", "The proof signature does not verify.");
  }

  // Check 8-11: method, URI, time, the token hash.
  const json::string* htm = StringMember(claims, "htm");
  if (htm == nullptr || Str(*htm) != p.method) {
    return Proof("dpop_htm_mismatch", "The proof htm does not match the request method.");
  }
  const json::string* htu = StringMember(claims, "htu");
  auto want = NormalizeHtu(p.htu);
  if (!want) return Proof("dpop_htu_unknown", "The request URI is not known to the verifier.");
  auto got = htu ? NormalizeHtu(Str(*htu)) : std::nullopt;
  if (!got || *got != *want) {
    return Proof("dpop_htu_mismatch", "The proof htu does not match the request URI.");
  }
  auto iat = IntOf(claims.if_contains("iat"));
  if (!iat) return Proof("dpop_proof_malformed", "The proof has no numeric iat.");
  if (*iat < now - policy.window_seconds || *iat > now + policy.window_seconds) {
    return Proof("dpop_stale", "The proof iat is outside the accepted window.");
  }
  const json::string* jti = StringMember(claims, "jti");
  if (jti == nullptr || jti->empty() || jti->size() > kMaxJtiBytes) {
    return Proof("dpop_proof_malformed", "The proof needs a jti (at most 256 bytes).");
  }
  const json::string* ath = StringMember(claims, "ath");
  if (ath == nullptr || !SameString(Str(*ath), Sha256B64(token))) {
    return Proof("dpop_ath_mismatch", "The proof ath does not match the access token.");
  }
  // Check 12: the token is bound to this key.
  auto thumbprint = JwkThumbprint(jwk);
  if (!thumbprint || !SameString(*thumbprint, jkt)) {
    return DpopToken("dpop_key_mismatch", "The token is bound to another key.");
  }
  // Last, so that only proofs that passed everything occupy the cache.
  // Scoped by key: one client's jtis cannot collide with another's.
  std::string replay_key = *thumbprint + ":";
  replay_key += Str(*jti);
  switch (replay.Insert(replay_key, *iat + policy.window_seconds, now)) {
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

std::optional<std::string> JwkThumbprint(const json::object& jwk) {
  const json::string* kty = StringMember(jwk, "kty");
  if (kty == nullptr) return std::nullopt;
  std::vector<const char*> members;
  if (Str(*kty) == "RSA") {
    members = {"e", "kty", "n"};
  } else if (Str(*kty) == "EC") {
    members = {"crv", "kty", "x", "y"};
  } else if (Str(*kty) == "OKP") {
    members = {"crv", "kty", "x"};
  } else {
    return std::nullopt;
  }
  std::string canonical = "{";
  for (const char* name : members) {
    const json::string* v = StringMember(jwk, name);
    if (v == nullptr) return std::nullopt;
    if (canonical.size() > 1) canonical += ',';
    canonical += '"';
    canonical += name;
    canonical += "\":";
    canonical += json::serialize(*v);
  }
  canonical += '}';
  return Sha256B64(canonical);
}

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

std::optional<std::string> NormalizeHtu(std::string_view uri) {
  if (size_t hash = uri.find('#'); hash != uri.npos) uri = uri.substr(0, hash);
  if (size_t q = uri.find('?'); q != uri.npos) uri = uri.substr(0, q);
  size_t colon = uri.find("://");
  if (colon == uri.npos) return std::nullopt;
  std::string scheme;
  for (char c : uri.substr(0, colon)) scheme += Lower(c);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = uri.substr(colon + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == rest.npos ? std::string_view("/") : rest.substr(slash);
  if (authority.empty() || authority.find('@') != authority.npos) return std::nullopt;
  std::string host;
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == authority.npos) return std::nullopt;
    for (char c : authority.substr(0, close + 1)) host += Lower(c);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    size_t c = authority.rfind(':');
    for (char ch : authority.substr(0, c)) host += Lower(ch);
    if (c != authority.npos) port = authority.substr(c + 1);
  }
  if (host.empty() || host == "[]") return std::nullopt;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port = {};
  // Percent-encodings: unreserved characters decoded, others with upper-case hex.
  std::string p;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || HexVal(path[i + 1]) < 0 || HexVal(path[i + 2]) < 0) {
        return std::nullopt;
      }
      char decoded = char(HexVal(path[i + 1]) * 16 + HexVal(path[i + 2]));
      if (Unreserved(decoded)) {
        p += decoded;
      } else {
        p += '%';
        p += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i + 1])));
        p += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i + 2])));
      }
      i += 2;
    } else if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return std::nullopt;
    } else {
      p += c;
    }
  }
  std::string out = scheme + "://" + host;
  if (!port.empty()) {
    out += ':';
    out += port;
  }
  out += RemoveDotSegments(p);
  return out;
}

ReplayCache::Outcome ReplayCache::Insert(std::string_view jti, int64_t expires_at, int64_t now) {
  std::lock_guard lock(mu_);
  // Amortised: drop what expired at the front of the insertion order.
  while (!order_.empty() && order_.front().first < now) {
    auto it = seen_.find(order_.front().second);
    if (it != seen_.end() && it->second < now) seen_.erase(it);
    order_.pop_front();
  }
  std::string key(jti);
  if (auto it = seen_.find(key); it != seen_.end()) {
    if (it->second >= now) return Outcome::kReplay;
    seen_.erase(it);
  }
  if (seen_.size() >= capacity_) {
    SweepLocked(now);
    if (seen_.size() >= capacity_) return Outcome::kFull;
  }
  seen_.emplace(key, expires_at);
  order_.emplace_back(expires_at, std::move(key));
  return Outcome::kFresh;
}

void ReplayCache::SweepLocked(int64_t now) {
  std::erase_if(seen_, [now](const auto& e) { return e.second < now; });
  std::erase_if(order_, [this](const auto& e) { return !seen_.contains(e.second); });
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
