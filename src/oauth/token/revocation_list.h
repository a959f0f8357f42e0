#pragma once
// The access-token deny-list (RFC 7009): revoked jtis, each kept until no verifier would accept
// its token any more, `retention_s` past its exp (DenyListRetention). Introspection, token
// exchange, /oauth2/verify and the admin token check read it on every call; GET /oauth2/revoked
// publishes it to resource servers (libportcullis-verify). The DenyListStore keeps it across
// restarts and instances.
//
// Thread-safety: Contains and Entries read an immutable snapshot behind an atomically swapped
// std::shared_ptr<const Set> (ARCHITECTURE.md "Snapshots"): they never wait for a writer, and
// Contains builds no string (heterogeneous lookup). Add, Remember and Reload copy the snapshot,
// change the copy and swap it in, serialised by a writer mutex; Add and Reload call the store
// (blocking: store pool or background thread only). Reload holds the writer mutex across its
// store read, so an entry added meanwhile is never lost by the swap. Writers are rare next to
// readers: a revocation, a notification from another instance, the periodic reload.
//
// Lifetime: borrows `store` and `clock`, which must outlive it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/token/token_state_store.h"

namespace portcullis::oauth {

// How long past its `exp` a deny-list entry or a client-assertion jti is kept: the largest
// clock-skew leeway any verifier of our tokens applies. That is this server's own (token.leeway_s:
// introspection, /oauth2/verify, admin calls, token exchange, client assertions) and, for
// resource servers that pull GET /oauth2/revoked, libportcullis-verify's and light-4j's default
// of 60 s. Dropping an entry at `exp` would let a revoked token or a used assertion through again
// for the rest of the leeway.
inline constexpr int64_t kResourceServerLeeway = 60;
constexpr int64_t DenyListRetention(int64_t leeway_s) {
  return leeway_s > kResourceServerLeeway ? leeway_s : kResourceServerLeeway;
}

class RevocationList {
 public:
  RevocationList(DenyListStore& store, const Clock& clock,
                 int64_t retention_s = DenyListRetention(60));

  // Stores the revocation (other instances learn of it by notification), then remembers it
  // here. Blocking.
  Status Add(std::string_view jti, int64_t expires_at);
  // Lock-free; allocates nothing.
  bool Contains(std::string_view jti) const;
  // Replaces the set with the store's entries still within retention. Blocking.
  Status Reload();
  // Adds an entry to this instance's set only (the store already has it).
  void Remember(std::string jti, int64_t expires_at);
  // The entries still within retention (jti, expires_at) sorted by jti: what GET
  // /oauth2/revoked publishes for resource servers to pull (libportcullis-verify).
  std::vector<std::pair<std::string, int64_t>> Entries() const;
  int64_t retention_s() const { return retention_s_; }
  // Deletes the store's entries with expires_at < cutoff inside the caller's transaction (the
  // token service's purge); this instance's set is left to the next Reload.
  Status PurgeStore(store::Tx& tx, int64_t cutoff) { return store_.PurgeExpired(tx, cutoff); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // jti -> exp
  using Set = std::unordered_map<std::string, int64_t, Hash, std::equal_to<>>;

  DenyListStore& store_;
  const Clock& clock_;
  int64_t retention_s_;
  std::atomic<std::shared_ptr<const Set>> snapshot_;
  std::mutex writer_;
};

}  // namespace portcullis::oauth
