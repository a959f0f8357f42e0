#pragma once
// Persistence of device authorization grants (RFC 8628): one row per device_authorization
// request, from issue through the user's decision to the one redemption at the token endpoint.
// Neither code is stored: the device code only as TokenHash(device_code) (256 random bits), the
// user code only as a keyed hash of its normalised form (UserCodeHasher, user_code.h), which the
// verification page looks up.
//
// States: pending -> approved | denied (the user, once: Decide), approved -> consumed (the
// token endpoint, once: Consume). Both transitions are single-winner conditional updates, so
// instances sharing one PostgreSQL agree on who won.
//
// SQL implementation: store/sql/device_store.h (table device_grants); in-memory fake for unit
// tests: memory_device_store.h. Implementations are thread-safe; calls block (store pool only).
// Methods taking a `store::Tx&` run inside the caller's transaction. Results are returned by
// value: the caller owns them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

enum class DeviceGrantState { kPending, kApproved, kDenied, kConsumed };
std::string_view DeviceGrantStateName(DeviceGrantState s);
std::optional<DeviceGrantState> ParseDeviceGrantState(std::string_view s);

// Who approved a device grant, and how they signed in (for the tokens and ID tokens).
struct DeviceApproval {
  std::string user_id;
  std::string user_type;
  std::string roles;
  int64_t auth_time = 0;
  std::string sid;
  std::string amr;
  std::string acr;
  // Where the user was signed in, as AuthCode::user_source (code_store.h): "users",
  // "authenticator:<realm>", or "" (a chain, or a grant approved before it was recorded).
  std::string user_source;
};

struct DeviceGrant {
  std::string device_code_hash;  // TokenHash(device_code)
  std::string user_code_hash;    // UserCodeHasher::Hash(normalised user code)
  std::string client_id;
  std::string scope;  // space-separated: what the device authorization request was granted
  DeviceGrantState state = DeviceGrantState::kPending;
  DeviceApproval user;  // set when approved
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t interval = 5;                 // the polling interval now (RFC 8628 §3.5 slow_down)
  std::optional<int64_t> last_poll_at;  // the last token request for it
};

class DeviceGrantStore {
 public:
  virtual ~DeviceGrantStore() = default;
  // Stores a new grant in state pending. False when its user code hash (or device code hash)
  // is already taken by another row, expired or not: the caller draws a new code.
  virtual Result<bool> Insert(const DeviceGrant& grant) = 0;
  // The grant of a user code, in any state and whatever its expiry; nullopt when unknown.
  virtual Result<std::optional<DeviceGrant>> FindByUserCode(std::string_view user_code_hash) = 0;
  // The single winner of the user's decision: a pending, unexpired (expires_at > now) grant
  // becomes approved (with `who`) or denied. False when it was not pending or has expired.
  virtual Result<bool> Decide(std::string_view user_code_hash, bool approve,
                              const DeviceApproval& who, int64_t now) = 0;
  // The grant of a device code, locked for the rest of the transaction (PostgreSQL FOR UPDATE;
  // SQLite serializes writers anyway), so polls of one grant are counted one after another.
  virtual Result<std::optional<DeviceGrant>> Lock(store::Tx& tx,
                                                  std::string_view device_code_hash) = 0;
  // Records a poll at `now` and the interval the client must keep from now on.
  virtual Status RecordPoll(store::Tx& tx, std::string_view device_code_hash, int64_t now,
                            int64_t interval) = 0;
  // The single winner of the redemption: an approved, unexpired grant of `client_id` becomes
  // consumed and is returned; nullopt otherwise.
  virtual Result<std::optional<DeviceGrant>> Consume(store::Tx& tx,
                                                     std::string_view device_code_hash,
                                                     std::string_view client_id, int64_t now) = 0;
  // Expires (expires_at = now) the approved, unredeemed, unexpired grants of `user_id` (at
  // `client_id`), inside `tx`: a password change, a lock or a revoked consent ends what the user
  // approved and the device has not yet redeemed, so its next poll gets expired_token.
  virtual Status ExpireForUser(store::Tx& tx, std::string_view user_id, int64_t now) = 0;
  virtual Status ExpireForUserClient(store::Tx& tx, std::string_view user_id,
                                     std::string_view client_id, int64_t now) = 0;
  // Deletes grants with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

}  // namespace portcullis::oauth
