#pragma once
// Owns the signing-key lifecycle and publishes KeyRing snapshots.
//
// States and rules (all times from the injected Clock):
//  * next: generated and published at once (publish_at = created_at), not signing. It becomes
//    current at activate_at = publish_at + publish_ahead, where publish_ahead (default 360 s =
//    JWKS max-age 300 + leeway 60) is long enough for every resource server's cached JWKS to
//    have picked it up. Tick() creates the next key publish_ahead before rotation is due, so the
//    current key signs for rotation_interval (default 30 days).
//  * current: the one key that signs. Promotion writes next->current before current->previous,
//    so a concurrent reader of the store sees two currents for an instant (KeyRing picks the one
//    activated last), never none.
//  * previous: no longer signs but stays published until expires_at = retired_at +
//    max_token_lifetime + leeway, when every token it signed has expired. Size
//    max_token_lifetime for the longest token issued (bootstrap tokens are long-lived: either
//    give them their own lifetime here or accept that their kid outlives its rotation).
//  * retired: out of the JWKS. Rows are kept (for audit); purging them is the store's business.
//  * revoked: out of the JWKS at once; tokens it signed stop verifying everywhere as soon as
//    caches refresh.
//
// Exceptions, by design:
//  * First start with an empty store: the first key is current immediately; no resource server
//    can have cached a JWKS of this issuer yet.
//  * No current key (revoked, or lost): the next key is promoted early if there is one,
//    otherwise a new key becomes current immediately. Availability wins over publish_ahead:
//    resource servers that have not seen the new kid refetch the JWKS on an unknown kid
//    (light-4j does), at the cost of a few failed verifications until their cache expires.
//
// kids: provider_id (light-oauth2 §10.3: two digits, "5" is padded to "05") followed by a
// sequence number starting at 100, one above the highest number in the store: "100", "101", ...
// or "05100", ... This matches light-oauth2's numeric kids. Without a provider id, kids of 4+
// digits (after 900 rotations) would look prefixed to light-4j's federation logic; configure a
// provider id where that matters.
//
// Thread-safety: ring() may be called from any thread at any time and never waits for a writer
// (std::atomic<std::shared_ptr>; libstdc++ 12 implements it with a short internal spin lock, no
// mutex, no store I/O). Tick/Rotate/Revoke/Reload serialise among themselves, call the store
// (blocking) and generate keys (RSA: ~100 ms): run them on a background thread, not an I/O
// thread. Several instances may share one store: each Tick re-reads it and state changes are
// compare-and-set (key_store.h); a lost race is retried on the next Tick.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "jose/alg.h"
#include "oauth/key/key_ring.h"
#include "oauth/key/key_store.h"
#include "oauth/key/master_key.h"

namespace portcullis::oauth {

struct KeyManagerConfig {
  jose::Alg alg = jose::Alg::kRS256;  // access tokens and everything else (ring signer())
  // Algorithms kept signing besides `alg`, each with its own current key and the same lifecycle
  // (ID tokens need RS256 whatever `alg` is: OIDC Core §15.1). Every rule above applies per
  // algorithm; Rotate() rotates all of them. A current key of an algorithm no longer managed
  // (keys.algorithm changed) becomes previous once `alg` has a current key.
  std::vector<jose::Alg> extra_algs;
  int64_t publish_ahead_seconds = 300 + 60;  // JWKS max-age + verifier leeway
  int64_t rotation_interval_seconds = 30 * 86400;
  int64_t max_token_lifetime_seconds = 600;
  int64_t leeway_seconds = 60;
  std::string provider_id;  // "" or one or two digits
  int64_t certificate_lifetime_seconds = int64_t{10} * 365 * 86400;
  std::string certificate_common_name = "portcullis";
};

class KeyManager {
 public:
  // Validates the config. Does not touch the store: call Tick() (or Reload()) next.
  static Result<std::unique_ptr<KeyManager>> Create(KeyStore& store, const Clock& clock,
                                                    Random& random, MasterKey master,
                                                    KeyManagerConfig config);

  // Applies every due transition (see above) and publishes a new ring if anything changed.
  Status Tick();
  // Starts a rotation now: a fresh next key per managed algorithm, current after publish_ahead.
  // A pending next key (which never signed) is retired. Returns the new kid of `alg`.
  Result<std::string> Rotate();
  // Takes the key out of the JWKS at once; if it was current, see "No current key" above.
  // Revoking a retired or revoked key succeeds without change.
  Status Revoke(std::string_view kid);
  // Rebuilds the ring from the store without changing anything (another instance changed keys).
  Status Reload();
  // Every key record in the store, published or not, with the sealed private key cleared
  // (key_admin.h diffs them around Rotate/Revoke for the audit log; `keys list` shows them).
  Result<std::vector<SigningKeyRecord>> Records() const;

  // The latest snapshot; never null (empty before the first successful Tick/Reload).
  std::shared_ptr<const KeyRing> ring() const { return ring_.load(std::memory_order_acquire); }

  const KeyManagerConfig& config() const { return config_; }

 private:
  KeyManager(KeyStore& store, const Clock& clock, Random& random, MasterKey master,
             KeyManagerConfig config);

  // Creates a key of `alg` and appends its record to `existing` (kids stay unique when one call
  // creates several).
  Result<std::string> CreateKey(std::vector<SigningKeyRecord>& existing, KeyState state,
                                int64_t now, jose::Alg alg);
  // Tick's transitions for the keys of one algorithm.
  Status TickAlg(std::vector<SigningKeyRecord>& records, jose::Alg alg, int64_t now);
  // `alg` first, then extra_algs, each once.
  std::vector<jose::Alg> Managed() const;
  Status Promote(const SigningKeyRecord& next, const SigningKeyRecord* current, int64_t now);
  Status Publish();  // lists the store and swaps the ring if the published set changed
  std::string NextKid(const std::vector<SigningKeyRecord>& existing) const;

  KeyStore& store_;
  const Clock& clock_;
  Random& random_;
  const MasterKey master_;
  const KeyManagerConfig config_;

  std::mutex write_mu_;
  std::string published_fingerprint_;  // guarded by write_mu_
  std::atomic<std::shared_ptr<const KeyRing>> ring_;
};

}  // namespace portcullis::oauth
