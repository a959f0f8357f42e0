#pragma once
// Persistence of pushed authorization requests (RFC 9126): one row per POST /oauth2/par, from
// the push through the authorization endpoint's use to the one consumption when a code is
// issued. The request_uri's random reference is never stored, only TokenHash(reference).
//
// A pushed request is read any number of times (the authorization endpoint, then the sign-in
// and consent forms, each of which loads it again) and consumed once: Consume is a
// single-winner conditional update, so instances sharing one PostgreSQL agree on who won.
//
// SQL implementation: store/sql/par_store.h (table pushed_requests); in-memory fake for unit
// tests: memory_par_store.h. Implementations are thread-safe; calls block (store pool only).
// Results are returned by value: the caller owns them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

struct PushedRequest {
  std::string reference_hash;  // TokenHash(the random part of the request_uri)
  std::string client_id;       // the client that pushed it: the only one that may use it
  std::string params;          // the validated authorization request, form-encoded
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> used_at;  // set once, by Consume
};

class PushedRequestStore {
 public:
  virtual ~PushedRequestStore() = default;
  // Stores a new, unused pushed request. False when the reference hash is already taken.
  virtual Result<bool> Insert(const PushedRequest& request) = 0;
  // The pushed request of a reference hash, used or not, whatever its expiry; nullopt when
  // unknown.
  virtual Result<std::optional<PushedRequest>> Find(std::string_view reference_hash) = 0;
  // The single winner of the one use: an unused request of `client_id` with expires_at >
  // `valid_after` gets used_at = now. False when it is unknown, used, another client's or
  // expired.
  virtual Result<bool> Consume(std::string_view reference_hash, std::string_view client_id,
                               int64_t valid_after, int64_t now) = 0;
  // Deletes requests with expires_at < cutoff.
  virtual Status PurgeExpired(store::Tx& tx, int64_t cutoff) = 0;
};

}  // namespace portcullis::oauth
