#pragma once
// DPoP proofs (RFC 9449): the one checker of a proof JWT, used by the token endpoint
// (oauth/dpop/dpop_proof.h, which adds server nonces and the store-backed replay check) and by
// the verifying side (verify/sender.h: libportcullis-verify and GET /oauth2/verify, which add
// the token's cnf.jkt match and the in-process replay cache). Part of pc_jose, so it ships with
// the installed libportcullis-verify; it knows no domain, store or HTTP types.
//
// CheckProof does RFC 9449 §4.3 checks 2-9, 11 and 12 (ath), in that order of cost: everything
// the proof says about itself first, then the signature, then the claims against the request.
// What stays with the caller: check 1 (exactly one DPoP header field), check 10 (nonce; the
// proof's nonce claim is returned), the replay of the returned jti, and binding the returned
// thumbprint to a token or a code.
//
// Thread-safe. CheckProof keeps the public keys of recent proofs (a few thousand, least
// recently used out) by RFC 7638 thumbprint, each used only for a JWK whose required members
// are byte for byte the ones it was imported from; everything else is a pure function of its
// arguments.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "jose/alg.h"

namespace portcullis::jose::dpop {

// Upper bounds on what a proof may carry, so a hostile header costs little.
inline constexpr size_t kMaxProofBytes = 8 * 1024;
inline constexpr size_t kMaxJtiBytes = 256;

// RFC 7638 thumbprint (base64url SHA-256 of the required members, sorted, no whitespace) of an
// RSA, EC or OKP public JWK; nullopt for another kty or a required member missing or not a
// string.
std::optional<std::string> JwkThumbprint(const boost::json::object& jwk);

// base64url(SHA-256(access_token)): the `ath` claim (RFC 9449 §4.2).
std::string AccessTokenHash(std::string_view access_token);

// RFC 9449 §4.3 check 9: the URI without query and fragment, with syntax- and scheme-based
// normalisation (RFC 3986 §6.2.2, §6.2.3): lower-case scheme and host, no default port, an
// empty path as "/", percent-encodings upper-case and unreserved characters decoded, dot
// segments removed. nullopt unless it is an absolute http:// or https:// URI without userinfo.
std::optional<std::string> NormalizeHtu(std::string_view uri);

// Why a proof was refused. Every fault is the proof's (invalid_dpop_proof, RFC 9449 §7.1).
enum class Fault {
  kMalformed,      // not a compact JWS of JSON objects, too large, crit, no jti or numeric iat
  kWrongType,      // typ is not dpop+jwt
  kAlgNotAllowed,  // alg not in the caller's list (symmetric algs and "none" never are)
  kJwkMissing,     // no jwk object in the header
  kJwkPrivate,     // the jwk holds private (or symmetric) key material
  kJwkInvalid,     // the jwk is no usable public key for alg
  kBadSignature,   // the signature is not the jwk's
  kHtmMismatch,    // htm missing or not the request's method (case-sensitive)
  kHtuUnknown,     // the caller's own URI does not normalise: no proof can match it
  kHtuMismatch,    // htu missing or not the request's URI
  kStale,          // iat outside the window, either way
  kAthMismatch,    // an access token is presented and ath is missing or not its hash
  kAthUnexpected,  // no access token is presented and the proof carries ath
};

// A short stable name for logs and metrics: "dpop_proof_malformed", "dpop_htm_mismatch", ...
std::string_view FaultReason(Fault fault);

struct ProofFault {
  Fault fault = Fault::kMalformed;
  std::string description;  // safe to show to the client
};

// The request a proof must match. Views and the span must stay valid during the call.
struct ProofCheck {
  std::string_view method;  // e.g. "POST"
  std::string_view uri;     // the URI the client addressed (query and fragment are ignored)
  // The access token presented with the proof (`ath` must be its hash); nullopt where none is
  // (the token endpoint), and then the proof must carry no `ath`.
  std::optional<std::string_view> access_token;
  std::span<const Alg> algorithms;  // accepted proof algs
  int64_t window_seconds = 60;      // |now - iat| at most this
  int64_t now = 0;                  // wall seconds
  // The same endpoint under a second base URL (RFC 8705 §5 mtls_endpoint_aliases), accepted as
  // htu too; empty: none.
  std::string_view alias_uri;
};

// What a valid proof establishes.
struct CheckedProof {
  std::string jkt;  // RFC 7638 thumbprint of the proof's key
  std::string jti;  // for the caller's replay check
  int64_t iat = 0;
  Alg alg = Alg::kES256;
  std::optional<std::string> nonce;  // the proof's nonce claim, when a string
};

// Checks one DPoP header value (see the top of this file for what is left to the caller).
std::expected<CheckedProof, ProofFault> CheckProof(std::string_view proof, const ProofCheck& check);

}  // namespace portcullis::jose::dpop
