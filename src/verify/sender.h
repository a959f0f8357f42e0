#pragma once
// Sender-constrained access tokens, the verifying side: DPoP (RFC 9449 §7) and mTLS
// certificate binding (RFC 8705 §3). Shared by libportcullis-verify (verify.h) and the gateway
// check GET /oauth2/verify (api/verify_api.h), so both refuse exactly the same requests.
//
// A token is bound when its "cnf" claim (RFC 7800) holds "jkt" (the RFC 7638 thumbprint of the
// client's DPoP key) and/or "x5t#S256" (the SHA-256 thumbprint of its certificate). Unbound
// tokens cost one lookup of "cnf" in the claims; nothing else here runs for them.
//
// Internal to pc_verify (not installed).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "jose/alg.h"
#include "jose/dpop.h"

namespace portcullis::verify {

// The DPoP proof checker is jose/dpop.h, shared with the token endpoint.
using jose::dpop::JwkThumbprint;  // RFC 7638, nullopt for an unusable JWK

// base64url(SHA-256(DER)) of an X.509 certificate (RFC 8705 §3.1) given as DER, PEM, PEM
// percent-encoded (nginx $ssl_client_escaped_cert) or an RFC 9440 Client-Cert value
// (":base64-DER:"). nullopt when it is none of these or does not parse as a certificate.
std::optional<std::string> CertificateThumbprint(std::string_view certificate);

using jose::dpop::NormalizeHtu;  // RFC 9449 §4.3 check 9

// jtis of accepted DPoP proofs, kept until their iat window has passed, so that each proof is
// used once per process (RFC 9449 §11.1). Bounded: when full of unexpired entries, new proofs
// are refused (fail closed) rather than older ones forgotten. Only proofs that passed every
// other check are recorded, so filling it needs valid bound tokens and their keys; and each
// key (the `group`, a DPoP key thumbprint) holds at most `per_group` entries, so one key holder
// can only refuse its own proofs, never fill the cache for everyone else.
// Expired entries leave from a min-heap on their expiry: each insert costs O(log n), with no
// full sweeps. Thread-safe (one mutex).
class ReplayCache {
 public:
  // `per_group` 0: a quarter of `capacity` (at least 1).
  explicit ReplayCache(size_t capacity, size_t per_group = 0)
      : capacity_(capacity),
        per_group_(per_group != 0 ? per_group : std::max<size_t>(1, capacity / 4)) {}
  enum class Outcome { kFresh, kReplay, kFull };
  // Records `jti` of `group` until `expires_at` (wall seconds); kReplay when it is already
  // there; kFull when the cache or the group's share is full of live entries.
  Outcome Insert(std::string_view group, std::string_view jti, int64_t expires_at, int64_t now);
  // Ungrouped (e.g. signed-event jtis): only the capacity bounds it.
  Outcome Insert(std::string_view jti, int64_t expires_at, int64_t now) {
    return Insert({}, jti, expires_at, now);
  }
  size_t size() const;

 private:
  struct Entry {
    int64_t expires_at;
    std::string group;
  };
  size_t capacity_;
  size_t per_group_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> seen_;     // group '\n' jti -> entry
  std::unordered_map<std::string, size_t> groups_;  // live entries per group
  using Expiry = std::pair<int64_t, std::string>;   // (expires_at, key in seen_)
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiry_;
};

struct DpopPolicy {
  std::vector<jose::Alg> algorithms = {jose::Alg::kES256, jose::Alg::kPS256, jose::Alg::kEdDSA,
                                       jose::Alg::kRS256};
  int64_t window_seconds = 60;  // |now - iat| at most this
};

// "ES256 PS256 ..." for the algs parameter of the DPoP challenge.
std::string AlgList(const std::vector<jose::Alg>& algorithms);

// What came with the request, besides the token. Views must stay valid during the call.
struct Presented {
  bool dpop_scheme = false;               // Authorization: DPoP <token> (else Bearer)
  std::optional<std::string_view> proof;  // the DPoP header; several joined by "," (refused)
  std::string_view method;                // the request's method, e.g. "GET"
  std::string_view htu;                   // the request's URI as the client addressed it
  // The same endpoint under a second base URL (RFC 8705 §5 mtls_endpoint_aliases), accepted as
  // the proof's htu too; empty: none.
  std::string_view htu_alias;
  std::optional<std::string_view> certificate;  // the client certificate (see above)
};

// Why a request was refused. `dpop` says which challenge belongs in WWW-Authenticate: the DPoP
// scheme with algs (RFC 9449 §7.1) or Bearer (RFC 6750 §3, RFC 8705 §3).
struct SenderRefusal {
  bool dpop = false;
  std::string error;        // "invalid_token" or "invalid_dpop_proof"
  std::string reason;       // short, for logs: "dpop_proof_missing", "dpop_htu_mismatch", ...
  std::string description;  // safe to show
};

// The sender-constraint checks for a token whose signature and claims have been verified.
// Returns nullopt when the request may proceed:
// - an unbound token sent as Bearer: nothing to check;
// - an unbound token sent with the DPoP scheme: refused (RFC 9449 §7.1 has the resource check
//   the proof's key against the token's binding; an unbound token has none to check);
// - cnf.jkt: the DPoP scheme and one valid proof for this method, URI, token and key, its jti
//   not seen before (recorded in `replay`);
// - cnf["x5t#S256"]: a certificate whose thumbprint matches;
// - a "cnf" with neither member (e.g. "jwk"): refused, it cannot be checked here.
std::optional<SenderRefusal> CheckSenderConstraint(const boost::json::object& claims,
                                                   std::string_view token, const Presented& p,
                                                   const DpopPolicy& policy, int64_t now,
                                                   ReplayCache& replay);

// The WWW-Authenticate value for a refusal (quotes and control characters are dropped from the
// description).
std::string Challenge(const SenderRefusal& refusal, const DpopPolicy& policy);

// An Authorization value split into scheme and token: "Bearer <t>" or "DPoP <t>" (schemes
// case-insensitive, RFC 9110 §11.1). nullopt for other schemes or an empty token.
struct SchemeToken {
  bool dpop = false;
  std::string_view token;
};
std::optional<SchemeToken> ParseAuthorization(std::string_view value);

}  // namespace portcullis::verify
