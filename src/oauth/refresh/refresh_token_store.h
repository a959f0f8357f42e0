#pragma once
// Persistence of refresh tokens (RFC 6749 §6), stored as TokenHash(token) only, grouped in
// families: every rotation of one grant shares its family_id (RFC 9700 §4.14.2).
//
// SQL implementation: store/sql/refresh_token_store.h (SqlRefreshTokenStore, table
// refresh_tokens); in-memory fake for unit tests: memory_refresh_token_store.h.
// Implementations are thread-safe; calls block (store pool only). Methods taking a `store::Tx&`
// run inside the caller's transaction, so they commit or roll back with the caller's other
// writes (a grant's token issue, a password change's revocation, an audit row); the others run
// on their own. Records are returned by value: the caller owns them.
//
// Several server instances may share one store, so rotation is a single-winner conditional
// update: of concurrent Rotate calls for one active token, exactly one returns true.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

// One refresh token's row. Empty strings stand for "none" in user_type, roles, parent_hash and
// user_source (NULL in SQL).
struct RefreshToken {
  std::string token_hash;  // TokenHash(token)
  std::string family_id;
  std::string client_id;
  std::string user_id;
  std::string user_type;
  std::string roles;
  std::string scope;             // space-separated
  std::string remember = "N";    // Y | N
  std::string state = "active";  // active | rotated | revoked
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::string parent_hash;  // the token this one was rotated from
  std::optional<int64_t> rotated_at;
  // Where the user came from: "users" (the user store), "client" (asserted by a trusted client),
  // "" (unknown: rows from before the column, or imported).
  std::string user_source;
  // The sign-in the grant came from and the authorization request's OIDC `claims` parameter
  // (JSON text), carried along every rotation so a refresh issues an ID token with the
  // original auth_time, sid, acr and amr (OpenID Connect Core §12.2). 0 / "": none.
  int64_t auth_time = 0;
  std::string sid;
  std::string amr;  // space-separated
  std::string acr;
  std::string claims;
  // RFC 9449 §5: a public client's token is bound to the key of the DPoP proof it was issued
  // with (JWK SHA-256 thumbprint); refreshing it needs a proof by that key. "": not bound.
  std::string dpop_jkt;
  // RFC 8705 §4: a public client's refresh token is bound to the TLS client certificate it was
  // issued over (x5t#S256); only a request with that certificate may use it. "": not bound.
  std::string cert_thumbprint;
};

// Which active tokens an admin list shows: those whose user_id (NULL read as "") starts with
// `user_id_prefix` (a literal prefix, not a pattern) and, when `client_id` is not empty, that
// client's only.
struct RefreshTokenFilter {
  std::string user_id_prefix;
  std::string client_id;
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;

  // Stores a new token (the grants). Its state is written as given (normally "active");
  // rotated_at is not written. user_id, scope are stored as given, empty ones included; empty
  // sid, amr, acr, claims and a zero auth_time as NULL.
  virtual Status Insert(store::Tx& tx, const RefreshToken& token) = 0;
  // Stores an imported token (light-oauth2 importer) as active, with empty user_id, user_type,
  // roles and scope stored as NULL and no sign-in (auth_time, sid, amr, acr, claims); keeps an
  // existing row with the same hash. True when it was inserted.
  virtual Result<bool> Import(store::Tx& tx, const RefreshToken& token) = 0;

  // The token's row whatever its state or expiry; nullopt when unknown.
  virtual Result<std::optional<RefreshToken>> Find(store::Tx& tx, std::string_view token_hash) = 0;
  // Find in a transaction of its own.
  virtual Result<std::optional<RefreshToken>> Find(std::string_view token_hash) = 0;

  // The single winner of concurrent rotations: marks the token 'rotated' (rotated_at = now)
  // when it is still 'active'. True for the one call that did.
  virtual Result<bool> Rotate(store::Tx& tx, std::string_view token_hash, int64_t now) = 0;
  // Stores `scope` as the token's scope (a refresh that keeps its token, cut down to what the
  // client may still have). Only an 'active' row changes; an unknown one is not an error.
  virtual Status SetScope(store::Tx& tx, std::string_view token_hash, std::string_view scope) = 0;

  // Marks every token of `family_id` not yet revoked 'revoked'. With `at`, rotated_at is set to
  // it where unset (the revocation endpoint); without, rotated_at stays (reuse detection, a code
  // replay, a user who may no longer sign in).
  virtual Status RevokeFamily(store::Tx& tx, std::string_view family_id,
                              std::optional<int64_t> at) = 0;
  // Marks every token of `user_id` (at `client_id`) not yet revoked 'revoked', setting
  // rotated_at to `now` where unset (a password change, a lock, a revoked consent).
  virtual Status RevokeForUser(store::Tx& tx, std::string_view user_id, int64_t now) = 0;
  virtual Status RevokeForUserClient(store::Tx& tx, std::string_view user_id,
                                     std::string_view client_id, int64_t now) = 0;
  // The same for the tokens of `user_id` issued in the SSO session `sid` (every token of a
  // family carries its sign-in's sid), when that session is ended; an empty sid matches nothing.
  // And for every token of `user_id` issued in any SSO session (all the user's sessions are
  // ended): tokens of sign-ins without a session (password grant, a trusted client's assertion)
  // stay.
  virtual Status RevokeForUserSid(store::Tx& tx, std::string_view user_id, std::string_view sid,
                                  int64_t now) = 0;
  virtual Status RevokeForUserSessions(store::Tx& tx, std::string_view user_id, int64_t now) = 0;

  // Every token of a family, in any order.
  virtual Result<std::vector<RefreshToken>> Family(store::Tx& tx, std::string_view family_id) = 0;
  // Deletes a family's tokens and notifies ("refresh_token", family_id) with the transaction.
  // Returns how many rows went.
  virtual Result<int64_t> DeleteFamily(store::Tx& tx, std::string_view family_id) = 0;
  // Deletes every token of a user or of a client (the user or client is deleted).
  virtual Status DeleteForUser(store::Tx& tx, std::string_view user_id) = 0;
  virtual Status DeleteForClient(store::Tx& tx, std::string_view client_id) = 0;

  // Active tokens with expires_at > now that match `filter`, sorted by user_id, created_at,
  // token_hash (bytewise), then paged.
  virtual Result<std::vector<RefreshToken>> ListActive(const RefreshTokenFilter& filter,
                                                       int64_t now, int64_t offset,
                                                       int64_t limit) = 0;
  // How many tokens ListActive would return without paging (the admin list's total, the
  // dashboard's count).
  virtual Result<int64_t> CountActive(const RefreshTokenFilter& filter, int64_t now) = 0;

  // Deletes tokens with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

}  // namespace portcullis::oauth
