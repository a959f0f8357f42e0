#include "jose/dpop.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/ossl.h"
#include "jose/signature.h"

namespace portcullis::jose::dpop {
namespace {

namespace json = boost::json;

std::string_view Str(const json::string& s) { return {s.data(), s.size()}; }

std::string Sha256B64(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

const json::string* StringMember(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
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
    std::string_view name = seg.substr(1);  // seg starts with '/'
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

std::unexpected<ProofFault> Refuse(Fault fault, std::string description) {
  return std::unexpected(ProofFault{fault, std::move(description)});
}

// Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
// RFC 8037 §2).
constexpr std::string_view kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

// RFC 7638 §3.2's canonical JSON of the required members: the thumbprint's input, and every
// member Key::FromJwk reads (kty and the key's own members).
std::optional<std::string> CanonicalJwk(const json::object& jwk) {
  const json::string* kty = StringMember(jwk, "kty");
  if (kty == nullptr) return std::nullopt;
  std::vector<std::string_view> members;
  if (Str(*kty) == "RSA") {
    members = {"e", "kty", "n"};
  } else if (Str(*kty) == "EC") {
    members = {"crv", "kty", "x", "y"};
  } else if (Str(*kty) == "OKP") {
    members = {"crv", "kty", "x"};
  } else {
    return std::nullopt;
  }
  // RFC 7638 §3.2: no whitespace, members in lexicographic order, values as JSON strings.
  std::string canonical = "{";
  for (std::string_view name : members) {
    const json::string* v = StringMember(jwk, name);
    if (v == nullptr) return std::nullopt;
    if (canonical.size() > 1) canonical += ',';
    canonical += '"';
    canonical += name;
    canonical += "\":";
    canonical += json::serialize(*v);
  }
  canonical += '}';
  return canonical;
}

// The public keys of recent proofs. A client puts its key in every proof (RFC 9449 §4.2), so
// the same JWK comes again and again, and importing it (EC point decoding and checks, RSA
// parameters) plus setting up a verification context cost more than the signature check
// itself. An entry is found by the key's thumbprint but used only when its canonical members
// (the thumbprint's input, which is everything Key::FromJwk reads) are the request's own, byte
// for byte: even a thumbprint collision could not hand out another key. Invalid keys are not
// cached. Bounded: the least recently used entry goes when it is full.
//
// Thread-safe (one mutex around a hash map and a recency list). Entries are immutable and
// shared: one that is evicted while a verification uses it lives until that ends.
class ProofKeyCache {
 public:
  struct Entry {
    std::string canonical;
    Key key;
    Alg alg;  // what `verify` was set up for
    // A verification context for (key, alg), copied per use (jose/ossl.h); null when OpenSSL
    // cannot copy one (then each verification sets one up). Declared after `key`, so it is
    // released before the key it refers to.
    internal::MdCtxPtr verify;
  };

  static constexpr size_t kCapacity = 4096;

  static ProofKeyCache& Instance() {
    static ProofKeyCache* cache = new ProofKeyCache();  // never destroyed: used at exit too
    return *cache;
  }

  std::shared_ptr<const Entry> Find(const std::string& jkt, std::string_view canonical) {
    std::lock_guard lock(mu_);
    auto it = map_.find(jkt);
    if (it == map_.end() || it->second.entry->canonical != canonical) return nullptr;
    recency_.splice(recency_.begin(), recency_, it->second.position);
    return it->second.entry;
  }

  void Insert(const std::string& jkt, std::shared_ptr<const Entry> entry) {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(jkt); it != map_.end()) {
      it->second.entry = std::move(entry);
      recency_.splice(recency_.begin(), recency_, it->second.position);
      return;
    }
    if (map_.size() >= kCapacity) {
      map_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(jkt);
    map_.emplace(jkt, Slot{std::move(entry), recency_.begin()});
  }

 private:
  struct Slot {
    std::shared_ptr<const Entry> entry;
    std::list<std::string>::iterator position;  // in recency_
  };
  std::mutex mu_;
  std::list<std::string> recency_;  // thumbprints, most recently used first
  std::unordered_map<std::string, Slot> map_;
};

// The proof's public key (imported, or from the cache) and whether `signature` is its
// signature with `alg` over `signing_input`. kJwkInvalid or kBadSignature otherwise.
std::optional<Fault> VerifyWithJwk(const json::object& jwk, std::string_view canonical,
                                   const std::string& jkt, Alg alg, std::string_view signing_input,
                                   std::string_view signature) {
  ProofKeyCache& cache = ProofKeyCache::Instance();
  std::shared_ptr<const ProofKeyCache::Entry> entry = cache.Find(jkt, canonical);
  if (!entry) {
    auto key = Key::FromJwk(jwk);
    if (!key || !key->Supports(alg)) return Fault::kJwkInvalid;
    internal::MdCtxPtr verify = internal::NewTemplate(key->get(), alg, /*sign=*/false);
    auto fresh = std::make_shared<const ProofKeyCache::Entry>(
        ProofKeyCache::Entry{std::string(canonical), std::move(*key), alg, std::move(verify)});
    entry = fresh;
    cache.Insert(jkt, std::move(fresh));
  }
  if (!entry->key.Supports(alg)) return Fault::kJwkInvalid;
  if (signature.empty()) return Fault::kBadSignature;
  const bool ok = entry->alg == alg && entry->verify
                      ? internal::VerifyWith(entry->verify.get(), entry->key.get(), alg,
                                             signing_input, signature)
                      : VerifySignature(entry->key, alg, signing_input, signature);
  if (!ok) return Fault::kBadSignature;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> JwkThumbprint(const json::object& jwk) {
  auto canonical = CanonicalJwk(jwk);
  if (!canonical) return std::nullopt;
  return Sha256B64(*canonical);
}

std::string AccessTokenHash(std::string_view access_token) { return Sha256B64(access_token); }

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

std::string_view FaultReason(Fault fault) {
  switch (fault) {
    case Fault::kMalformed:
      return "dpop_proof_malformed";
    case Fault::kWrongType:
      return "dpop_wrong_type";
    case Fault::kAlgNotAllowed:
      return "dpop_alg_not_allowed";
    case Fault::kJwkMissing:
      return "dpop_jwk_missing";
    case Fault::kJwkPrivate:
      return "dpop_jwk_private";
    case Fault::kJwkInvalid:
      return "dpop_jwk_invalid";
    case Fault::kBadSignature:
      return "dpop_bad_signature";
    case Fault::kHtmMismatch:
      return "dpop_htm_mismatch";
    case Fault::kHtuUnknown:
      return "dpop_htu_unknown";
    case Fault::kHtuMismatch:
      return "dpop_htu_mismatch";
    case Fault::kStale:
      return "dpop_stale";
    case Fault::kAthMismatch:
      return "dpop_ath_mismatch";
    case Fault::kAthUnexpected:
      return "dpop_ath_unexpected";
  }
  return "dpop_proof_malformed";
}

std::expected<CheckedProof, ProofFault> CheckProof(std::string_view proof,
                                                   const ProofCheck& check) {
  // §4.3 (2): one well-formed JWS compact JWT.
  if (proof.size() > kMaxProofBytes) return Refuse(Fault::kMalformed, "The proof is too large.");
  size_t d1 = proof.find('.');
  size_t d2 = d1 == proof.npos ? proof.npos : proof.find('.', d1 + 1);
  if (d2 == proof.npos || proof.find('.', d2 + 1) != proof.npos) {
    return Refuse(Fault::kMalformed, "The proof is not a compact JWS.");
  }
  auto header_text = Base64UrlDecode(proof.substr(0, d1));
  auto payload_text = Base64UrlDecode(proof.substr(d1 + 1, d2 - d1 - 1));
  auto signature = Base64UrlDecode(proof.substr(d2 + 1));
  if (!header_text || !payload_text || !signature) {
    return Refuse(Fault::kMalformed, "The proof is not base64url.");
  }
  auto header = ParseObject(*header_text);
  if (!header) return Refuse(Fault::kMalformed, "The proof header is not a JSON object.");

  // (4) typ; (5) an allowed asymmetric alg.
  const json::string* typ = StringMember(*header, "typ");
  if (typ == nullptr || typ->size() != 8 || strncasecmp(typ->data(), "dpop+jwt", 8) != 0) {
    return Refuse(Fault::kWrongType, "The proof typ must be dpop+jwt.");
  }
  const json::string* alg_name = StringMember(*header, "alg");
  std::optional<Alg> alg = alg_name ? ParseAlg(Str(*alg_name)) : std::nullopt;
  if (!alg ||
      std::find(check.algorithms.begin(), check.algorithms.end(), *alg) == check.algorithms.end()) {
    return Refuse(Fault::kAlgNotAllowed, "The proof alg is not allowed.");
  }
  // RFC 7515 §4.1.11: no extension is understood here.
  if (header->contains("crit")) return Refuse(Fault::kMalformed, "crit is not supported.");

  // (7) a public key only; (6) the signature is that key's.
  const json::value* jwk_value = header->if_contains("jwk");
  if (jwk_value == nullptr || !jwk_value->is_object()) {
    return Refuse(Fault::kJwkMissing, "The proof header has no jwk.");
  }
  const json::object& jwk = jwk_value->get_object();
  for (std::string_view m : kPrivateMembers) {
    if (jwk.contains(m)) return Refuse(Fault::kJwkPrivate, "The proof jwk holds a private key.");
  }
  auto canonical = CanonicalJwk(jwk);
  if (!canonical) return Refuse(Fault::kJwkInvalid, "The proof jwk lacks a required member.");
  std::string jkt = Sha256B64(*canonical);
  if (auto fault = VerifyWithJwk(jwk, *canonical, jkt, *alg, proof.substr(0, d2), *signature)) {
    return *fault == Fault::kJwkInvalid
               ? Refuse(*fault, "The proof jwk is not a usable key for its alg.")
               : Refuse(*fault, "The proof signature does not verify.");
  }

  // (3) the claims, now known to come from the key holder; (8) htm, (9) htu.
  auto claims = ParseObject(*payload_text);
  if (!claims) return Refuse(Fault::kMalformed, "The proof body is not a JSON object.");
  const json::string* htm = StringMember(*claims, "htm");
  if (htm == nullptr || Str(*htm) != check.method) {
    return Refuse(Fault::kHtmMismatch, "The proof htm does not match the request method.");
  }
  auto want = NormalizeHtu(check.uri);
  if (!want) return Refuse(Fault::kHtuUnknown, "The request URI is not known to the verifier.");
  const json::string* htu = StringMember(*claims, "htu");
  auto got = htu ? NormalizeHtu(Str(*htu)) : std::nullopt;
  auto alias = check.alias_uri.empty() ? std::nullopt : NormalizeHtu(check.alias_uri);
  if (!got || (*got != *want && (!alias || *got != *alias))) {
    return Refuse(Fault::kHtuMismatch, "The proof htu does not match the request URI.");
  }
  // (11) iat within the window, both ways.
  const json::value* iat = claims->if_contains("iat");
  if (iat == nullptr || !iat->is_number()) {
    return Refuse(Fault::kMalformed, "The proof has no numeric iat.");
  }
  const double iat_value = iat->to_number<double>();
  if (!std::isfinite(iat_value) || std::fabs(iat_value - static_cast<double>(check.now)) >
                                       static_cast<double>(check.window_seconds)) {
    return Refuse(Fault::kStale, "The proof iat is outside the accepted window.");
  }
  const json::string* jti = StringMember(*claims, "jti");
  if (jti == nullptr || jti->empty() || jti->size() > kMaxJtiBytes) {
    return Refuse(Fault::kMalformed, "The proof needs a jti (at most 256 bytes).");
  }
  // (12) ath: bound to the access token presented with it, and absent where none is.
  const json::string* ath = StringMember(*claims, "ath");
  if (check.access_token) {
    // Constant-time: the hash is public, but this is cheap to do right.
    std::string want_ath = AccessTokenHash(*check.access_token);
    if (ath == nullptr || ath->size() != want_ath.size() ||
        CRYPTO_memcmp(ath->data(), want_ath.data(), want_ath.size()) != 0) {
      return Refuse(Fault::kAthMismatch, "The proof ath does not match the access token.");
    }
  } else if (claims->contains("ath")) {
    return Refuse(Fault::kAthUnexpected,
                  "The proof carries ath where no access token is presented.");
  }
  CheckedProof out;
  out.jkt = std::move(jkt);
  out.jti = std::string(Str(*jti));
  out.iat = static_cast<int64_t>(iat_value);
  out.alg = *alg;
  if (const json::string* nonce = StringMember(*claims, "nonce"))
    out.nonce = std::string(Str(*nonce));
  return out;
}

}  // namespace portcullis::jose::dpop
