#pragma once
// OpenID Connect ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.6, §12.2): the claims an ID
// token carries, the algorithm it is signed with, and reading back an ID token we issued
// (id_token_hint: Core §3.1.2.1, RP-Initiated Logout §2).
//
// Kinds of token stay apart (RFC 8725 §3.11). An ID token has the JOSE typ "JWT" (what every
// relying party accepts), carries the private claim typ = "ID" (as Keycloak's ID tokens do) and
// never a client_id claim. Access tokens are typ at+jwt or, for light-4j clients, JWT, and always
// carry client_id (RFC 9068 §2.2; light-oauth2 did too); signed payloads are typ payload+jwt.
// So: RingKeys::Verify (access tokens: introspection, userinfo, admin APIs) refuses a token
// without client_id or with typ "ID"; libportcullis-verify refuses typ "ID"; ReadIdTokenHint
// requires header typ JWT, claim typ "ID" and no client_id.
//
// Pure functions over borrowed arguments; thread-safe.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "jose/alg.h"
#include "jose/key_set.h"

namespace portcullis::oauth::oidc {

// The private claim that marks an ID token (see above).
inline constexpr std::string_view kIdTokenMarkerClaim = "typ";
inline constexpr std::string_view kIdTokenMarker = "ID";
// The JOSE header typ of ID tokens.
inline constexpr std::string_view kIdTokenTyp = "JWT";

// What an ID token says. Empty strings and zero times are left out, except where noted.
struct IdTokenFields {
  std::string issuer;
  std::string sub;        // the user_id: the same `sub` the user's access tokens carry
  std::string client_id;  // aud (a single string: azp is then not needed, Core §2)
  int64_t iat = 0;
  int64_t exp = 0;
  int64_t auth_time = 0;     // when the user signed in (always written; Core §2 makes it required
                             // when max_age was asked, and it costs nothing otherwise)
  std::string nonce;         // echoed exactly; only when the authorization request had one
  std::string access_token;  // the access_token of the same response, for at_hash
  std::string sid;
  std::string acr;
  std::string amr;  // space-separated (RFC 8176 values); written as a JSON array
  // Claims asked for through the `claims` parameter's id_token member (Core §5.5); they never
  // replace the ones above.
  boost::json::object extra;
};

// Core §3.1.3.6: base64url of the left half of the hash of the access token's ASCII octets,
// with the hash of `alg` (SHA-256 for RS256, PS256 and ES256; SHA-512 for EdDSA with Ed25519,
// as the OpenID Foundation's errata and other providers do).
std::string AtHash(std::string_view access_token, jose::Alg alg);

// The ID token's claims set.
boost::json::object IdTokenClaims(const IdTokenFields& f, jose::Alg alg);

// The algorithm a client's ID tokens are signed with: its registered
// id_token_signed_response_alg, RS256 when it registered none (Core §15.1, Registration §2).
// Fails for a name that is not a JWS algorithm we implement.
Result<jose::Alg> IdTokenAlg(std::string_view registered);
// The algorithms ID tokens can be signed with when access tokens use `primary`
// (keys.algorithm): RS256 always, and `primary`. Discovery's
// id_token_signing_alg_values_supported; client registration accepts only these.
std::vector<jose::Alg> IdTokenAlgs(jose::Alg primary);

// What an id_token_hint tells (Core §3.1.2.1; RP-Initiated Logout §2).
struct IdTokenHint {
  std::string sub;
  std::string sid;        // empty when the token has none
  std::string client_id;  // azp when present, else the (first) aud
  std::vector<std::string> audience;
  int64_t auth_time = 0;  // 0 when the token has none
  int64_t iat = 0;
};

// Reads an ID token we issued: signature by one of `keys` (our published keys), iss ==
// `issuer`, header typ JWT, the ID-token marker, no client_id (so no access token or signed
// payload passes), sub and aud present. Expiry is NOT enforced (an expired ID token is a valid
// hint), but iat may not lie in the future beyond `leeway_s`. Fails with ERR10000 (invalid
// token) and a description that names the reason; never echoes the token.
// `keys`: KeyRing::verify_keys() of the current ring.
Result<IdTokenHint> ReadIdTokenHint(std::string_view token,
                                    std::shared_ptr<const jose::KeySet> keys,
                                    std::string_view issuer, const Clock& clock,
                                    int64_t leeway_s = 60);

}  // namespace portcullis::oauth::oidc
