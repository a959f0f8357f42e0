#pragma once
// DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating Proof of Possession), server side.
//
// ProofValidator checks one proof as RFC 9449 §4.3 lists (the JWT itself with
// jose::dpop::CheckProof, which GET /oauth2/verify and libportcullis-verify use too), except the
// replay check: that needs the shared store, so the caller remembers the returned jti (with the
// key's thumbprint) until ReplayExpiry and refuses the proof when it was already known. Nonces (§8)
// are stateless: an HMAC of a time slot under a key derived from the master key, so every instance
// that shares the master key accepts every other instance's nonces and nothing is stored.
//
// Thread-safety: a ProofValidator is immutable after construction; Validate, CurrentNonce and
// NonceValid may be called from any thread. It borrows the Clock, which must outlive it.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/secret.h"
#include "jose/alg.h"
#include "jose/dpop.h"

namespace portcullis::oauth::dpop {

inline constexpr std::string_view kInvalidProof = "invalid_dpop_proof";  // RFC 9449 §5, §7.1
inline constexpr std::string_view kUseNonce = "use_dpop_nonce";          // RFC 9449 §8, §9
// The proof checker itself is jose/dpop.h, shared with the verifying side (verify/sender.h).
using jose::dpop::AccessTokenHash;  // base64url(SHA-256(access_token)), the `ath` claim
using jose::dpop::JwkThumbprint;    // RFC 7638, nullopt for an unusable JWK
using jose::dpop::kMaxJtiBytes;
using jose::dpop::kMaxProofBytes;
using jose::dpop::NormalizeHtu;  // RFC 9449 §4.3 check 9

struct Settings {
  // Accepted proof algorithms (dpop_signing_alg_values_supported). Only asymmetric ones exist in
  // jose::Alg; HS* and "none" are refused whatever this says.
  std::vector<jose::Alg> algs = {jose::Alg::kES256, jose::Alg::kPS256, jose::Alg::kEdDSA,
                                 jose::Alg::kRS256};
  // |now - iat| must be at most this (seconds). Replayed jtis are remembered this long past iat.
  int64_t iat_window_s = 60;
  // §8: proofs must carry a nonce this server issued.
  bool require_nonce = false;
  // A nonce is good for the slot it was made in and the next one (so 1-2 slots).
  int64_t nonce_slot_s = 300;
  // Key of the nonce HMAC (derived from the master key; empty: nonces cannot be made, and
  // require_nonce must then be off).
  Secret nonce_key;
};

// What a valid proof establishes.
struct Proof {
  std::string jkt;  // RFC 7638 SHA-256 thumbprint of the proof's key, base64url
  std::string jti;  // for the replay check
  int64_t iat = 0;
  jose::Alg alg = jose::Alg::kES256;
};

// The request a proof must match.
struct Expected {
  std::string_view method;  // "POST"
  std::string_view uri;     // the endpoint's URL, without query or fragment
  // The access token presented with the proof (resource side: `ath` must be its hash); nullopt
  // at the token endpoint, where the proof must carry no `ath`.
  std::optional<std::string_view> access_token;
  // The endpoint's URL under server.mtls_base_url (RFC 8705 §5), accepted as htu too; empty:
  // none.
  std::string_view alias_uri;
};

class ProofValidator {
 public:
  ProofValidator(Settings settings, const Clock& clock);

  // Checks the DPoP header values of one request (`headers`: every DPoP field, in order).
  // Errors are 400 invalid_dpop_proof, or use_dpop_nonce when nonces are required and the proof
  // has none or a stale one (the caller then sends CurrentNonce() in DPoP-Nonce).
  Result<Proof> Validate(std::span<const std::string_view> headers, const Expected& expected) const;

  // When the replay entry of `proof` may be forgotten: no proof with that iat passes after it.
  int64_t ReplayExpiry(const Proof& proof) const { return proof.iat + settings_.iat_window_s; }

  // The nonce to hand out now (DPoP-Nonce); empty when nonces are not configured.
  std::string CurrentNonce() const;
  bool NonceValid(std::string_view nonce) const;
  bool nonces_required() const { return settings_.require_nonce; }
  const Settings& settings() const { return settings_; }
  // The algorithm names, for discovery's dpop_signing_alg_values_supported.
  std::vector<std::string> AlgNames() const;

 private:
  std::string NonceFor(int64_t slot) const;

  Settings settings_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth::dpop
