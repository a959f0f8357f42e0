#pragma once
// Persistence of the token endpoint's own state besides codes and refresh tokens:
//   - ReferenceTokenStore: the JWTs behind reference tokens handed to external clients
//     (light-oauth2 reference §4.4, §6.2), by TokenHash(reference);
//   - DenyListStore: revoked access tokens by jti (RFC 7009), read into RevocationList;
//   - AssertionJtiStore: the replay cache of private_key_jwt client assertions (RFC 7523 §3),
//     and of DPoP proofs (RFC 9449 §11.1; keys "dpop:<jkt>:<jti>", TokenService::CheckDpop).
//
// SQL implementations: store/sql/token_state_store.h (tables reference_tokens, revoked_tokens,
// client_assertion_jtis); in-memory fakes for unit tests: memory_token_state_store.h.
// Implementations are thread-safe; calls block (store pool only). Methods taking a `store::Tx&`
// run inside the caller's transaction; the others run on their own. Results are returned by
// value: the caller owns them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

class AuthCodeStore;
class RefreshTokenStore;
class DeviceGrantStore;

struct ReferenceToken {
  std::string token_hash;  // TokenHash(reference)
  std::string jwt;
  std::string client_id;
  std::string deref_client_id;  // empty: none (NULL)
  int64_t expires_at = 0;       // the JWT's exp
};

class ReferenceTokenStore {
 public:
  virtual ~ReferenceTokenStore() = default;
  // Stores a reference inside the caller's transaction (a grant that also stores a refresh
  // token), or on its own.
  virtual Status Insert(store::Tx& tx, const ReferenceToken& token) = 0;
  virtual Status Insert(const ReferenceToken& token) = 0;
  // The reference's row whatever its expiry (callers compare expires_at); nullopt when unknown.
  virtual Result<std::optional<ReferenceToken>> Find(std::string_view token_hash) = 0;
  // Deletes one reference (revocation); deleting an unknown one is not an error.
  virtual Status Delete(std::string_view token_hash) = 0;
  // Deletes every reference issued to a client (the client is deleted).
  virtual Status DeleteForClient(store::Tx& tx, std::string_view client_id) = 0;
  // Deletes references with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

// The durable side of the deny-list. Entries are kept until a retention past their exp
// (DenyListRetention in token_service.h); the caller passes the cutoffs.
class DenyListStore {
 public:
  virtual ~DenyListStore() = default;
  // Adds `jti` (an existing entry is kept as it is) and notifies ("revoked", jti) with the
  // write, so other instances reload their lists.
  virtual Status Add(std::string_view jti, int64_t expires_at) = 0;
  // Every entry with expires_at > cutoff: (jti, expires_at), in any order.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> LoadSince(int64_t cutoff) = 0;
  // Deletes entries with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

class AssertionJtiStore {
 public:
  virtual ~AssertionJtiStore() = default;
  // Remembers an assertion's `key` (client id and jti; for a DPoP proof "dpop:<jkt>:<jti>")
  // until purged. False when the key is already known: a replay. Atomic across instances (a
  // unique key).
  virtual Result<bool> Remember(std::string_view key, std::string_view client_id,
                                int64_t expires_at) = 0;
  // Deletes entries with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

// The stores the token service reads and writes, borrowed: the composition root owns them and
// keeps them alive as long as the service.
struct TokenStores {
  AuthCodeStore& codes;
  RefreshTokenStore& refresh_tokens;
  ReferenceTokenStore& reference_tokens;
  AssertionJtiStore& assertion_jtis;
  // Device authorization grants (RFC 8628); null where no device flow is served (unit tests).
  DeviceGrantStore* devices = nullptr;
};

}  // namespace portcullis::oauth
