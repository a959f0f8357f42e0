#pragma once
// Verifies JWS compact tokens (RFC 7515) carrying JWT claims (RFC 7519) against a fixed KeySet.
//
// Only asymmetric algorithms listed in VerifyOptions::algorithms are accepted, and only with a
// key of the matching type (and matching JWK "alg" when the key has one): "none" and every HS*
// algorithm are refused before any key is looked at (RFC 8725 §3.1, §3.2).
// Verify() is const and thread-safe. The Verifier keeps the KeySet alive and prepares one
// OpenSSL context template per (kid, alg) at construction, so a verification does no lookups
// in the provider registry.
//
// Duplicate header or claim members: the last one wins (RFC 7515 §4, RFC 7519 §4).

#include <array>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "jose/alg.h"
#include "jose/key_set.h"

namespace portcullis::jose {

inline constexpr size_t kMaxTokenBytes = 16 * 1024;

enum class VerifyReason {
  kMalformed,       // shape, size, JSON, missing/non-numeric claims, "crit"
  kBadBase64,       // a part is not strict base64url
  kAlgNone,         // alg "none" in any letter case
  kAlgNotAllowed,   // HS*, unknown algs, or a known alg not in VerifyOptions::algorithms
  kUnknownKid,      // no kid, or a kid not in the key set
  kKeyAlgMismatch,  // kid's key is of another type or bound to another alg
  kBadSignature,
  kExpired,         // exp
  kNotYetValid,     // nbf
  kIssuedInFuture,  // iat
  kWrongIssuer,
  kWrongAudience,
  kWrongType,  // header typ
};

std::string_view ReasonName(VerifyReason reason);

struct VerifyError {
  VerifyReason reason;
  std::string detail;  // for the log
};

// kExpired -> ERR10001, everything else -> ERR10000; the description names the reason.
Error ToError(const VerifyError& error);

struct VerifyOptions {
  std::vector<Alg> algorithms = {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA};
  int64_t leeway_seconds = 60;
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked; "aud" may be a string or an array of strings
  bool require_exp = true;
  // Empty: not checked. Else the header typ must equal it case-insensitively, with or without
  // an "application/" prefix (RFC 7515 §4.1.9).
  std::string typ;
};

struct Verified {
  boost::json::object header;
  boost::json::object payload;
  std::string kid;
  Alg alg;
};

class Verifier {
 public:
  // `clock` must outlive the Verifier.
  Verifier(std::shared_ptr<const KeySet> keys, VerifyOptions options, const Clock& clock);
  Verifier(KeySet keys, VerifyOptions options, const Clock& clock);
  ~Verifier();
  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) = delete;
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  std::expected<Verified, VerifyError> Verify(std::string_view token) const;

  const KeySet& keys() const { return *keys_; }
  const VerifyOptions& options() const { return options_; }

 private:
  struct Prepared;

  std::shared_ptr<const KeySet> keys_;
  VerifyOptions options_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Prepared>, std::less<>> prepared_;
};

}  // namespace portcullis::jose
