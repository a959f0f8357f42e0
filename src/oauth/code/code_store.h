#pragma once
// Persistence of authorization codes (RFC 6749 §4.1): issued by the code service, redeemed once
// by the token endpoint. Only TokenHash(code) is stored, never the code itself.
//
// SQL implementation: store/sql/code_store.h (SqlAuthCodeStore, table auth_codes); in-memory
// fake for unit tests: memory_code_store.h. Implementations are thread-safe; calls block (store
// pool only). Methods taking a `store::Tx&` run inside the caller's transaction, so they commit
// or roll back with the caller's other writes; the others run on their own.
//
// Several server instances may share one store, so redemption is a single-winner conditional
// update: of concurrent Consume calls for one code, exactly one gets the code back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

// What an authorization code carries from the authorization request to the token request.
// Empty strings stand for "none" (stored as NULL) except in `scope`.
struct AuthCode {
  std::string code_hash;  // TokenHash(code)
  std::string client_id;
  std::string user_id;
  std::string user_type;
  std::string roles;
  std::string scope;  // space-separated
  // Set only when the authorization request named redirect_uri: the token request must then
  // repeat it (RFC 6749 §4.1.3).
  std::string redirect_uri;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string nonce;
  std::string remember = "N";  // Y | N
  std::string family_id;       // the refresh-token family it led to; set by RecordIssued
  // The sign-in behind the code (OpenID Connect Core §2 auth_time, sid, amr, acr) and the
  // request's `claims` parameter (§5.5, JSON text; empty: none).
  int64_t auth_time = 0;
  std::string sid;
  std::string amr;  // space-separated RFC 8176 values
  std::string acr;
  std::string claims;
  // RFC 9449 §10: the authorization request's dpop_jkt; the code is redeemed only with a DPoP
  // proof by that key. "": not bound.
  std::string dpop_jkt;
  // Where the user was signed in: "users" (the built-in user store), "authenticator:<realm>"
  // (another authenticator), "" (codes from before it was recorded).
  std::string user_source;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

// A code as the token endpoint sees it when it was not consumed by this request: who it belongs
// to, whether and when it was redeemed, and what the first redemption issued.
struct AuthCodeState {
  std::string client_id;
  std::optional<int64_t> consumed_at;
  int64_t expires_at = 0;
  std::string family_id;                  // empty: no refresh token issued from it
  std::optional<std::string> access_jti;  // the access token the first redemption issued
  int64_t access_exp = 0;
  std::string dpop_jkt;  // AuthCode::dpop_jkt
};

// Insert's failure when the code's client no longer exists (deleted between validation and
// now): ERR12014, as an unknown client.
inline Error CodeClientNotFound(std::string_view client_id) {
  return Error::Status("ERR12014", "Client " + std::string(client_id) + " is not found.");
}

class AuthCodeStore {
 public:
  virtual ~AuthCodeStore() = default;

  // Stores a new code. CodeClientNotFound when its client is gone.
  virtual Status Insert(const AuthCode& code) = 0;

  // The single winner of concurrent redemptions: marks the code consumed at `now` and returns
  // it when it belongs to `client_id`, is not consumed, has not expired (expires_at > now) and
  // is unbound or bound to `dpop_jkt` (the thumbprint of the request's DPoP key; empty: none);
  // nullopt otherwise (then Find tells why). A request with the wrong key leaves the code
  // unspent (RFC 9449 §10), so whoever stole it cannot burn it for its rightful client.
  virtual Result<std::optional<AuthCode>> Consume(store::Tx& tx, std::string_view code_hash,
                                                  std::string_view client_id,
                                                  std::string_view dpop_jkt, int64_t now) = 0;
  // The code's state, whoever it belongs to; nullopt when unknown.
  virtual Result<std::optional<AuthCodeState>> Find(store::Tx& tx, std::string_view code_hash) = 0;
  // Records what a redemption issued, so a replay can revoke it (RFC 6749 §4.1.2).
  virtual Status RecordIssued(store::Tx& tx, std::string_view code_hash,
                              std::string_view access_jti, int64_t access_exp,
                              std::string_view family_id) = 0;

  // Expires (expires_at = now) the unconsumed, unexpired codes of `user_id`, or of `user_id` at
  // `client_id`, so the token endpoint refuses them.
  virtual Status ExpireForUser(store::Tx& tx, std::string_view user_id, int64_t now) = 0;
  virtual Status ExpireForUserClient(store::Tx& tx, std::string_view user_id,
                                     std::string_view client_id, int64_t now) = 0;
  // Deletes every code of a user or of a client (the user or client is deleted).
  virtual Status DeleteForUser(store::Tx& tx, std::string_view user_id) = 0;
  virtual Status DeleteForClient(store::Tx& tx, std::string_view client_id) = 0;

  // Deletes codes with expires_at < cutoff. The caller chooses the cutoff: consumed codes are
  // kept past expiry (kCodeReplayWindow) so a late replay is still recognised.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

// How long past its expiry a code row is kept, so a replay is recognised as one (and revokes
// what the code issued) rather than reported as unknown.
inline constexpr int64_t kCodeReplayWindow = 3600;

}  // namespace portcullis::oauth
