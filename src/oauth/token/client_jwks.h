#pragma once
// The key sets of private_key_jwt clients registered with a `jwksUri` (RFC 7523 §2.2, OIDC
// Core §9, RFC 7591 §2 jwks_uri), fetched over HTTPS and cached per client.
//
// Cache rules (README "private_key_jwt"):
//   - A set is fresh for its HTTP lifetime (Cache-Control max-age, else Expires - Date), clamped
//     to [min_ttl_s, max_ttl_s]; default_ttl_s without either header (no-store/no-cache count as
//     0 and so as min_ttl_s).
//   - An unknown kid (or no key that verifies) triggers ONE refetch, at most once per
//     refetch_interval_s per client; a flood of made-up kids costs one fetch per interval.
//   - A failed fetch keeps the set it had: while fresh, and up to stale_if_error_s past its
//     lifetime (logged). Without a usable set the caller gets an error (invalid_client). A failed
//     fetch is not retried for refetch_interval_s either, so an unreachable JWKS does not tie up
//     the store pool.
//   - The entry remembers the URI it was fetched from: a client whose jwksUri changed (admin
//     update, seen through the client catalog on every instance) starts over with a new fetch.
//   - At most max_entries clients are cached; the least recently used one goes first.
//
// Ownership: borrows `clock`, which must outlive the cache; owns the fetcher. Thread-safe: one
// mutex over the map (never held across a fetch) and one per client, held across that client's
// fetch so concurrent requests for it share one fetch. Keys() and RefetchForUnknownKid() block
// on the network: call them from the store pool or background threads, never an I/O thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/error.h"
#include "jose/key_set.h"

namespace portcullis::oauth {

struct FetchedJwks {
  std::string body;              // the JWKS document
  std::optional<int64_t> ttl_s;  // from Cache-Control max-age or Expires; nullopt: neither
};

// Fetches the document at `url`; a failure's detail is for the log (never shown to clients).
using JwksFetcher = std::function<Result<FetchedJwks>(std::string_view url)>;

struct JwksFetchOptions {
  int timeout_ms = 3000;
  size_t max_bytes = 64 * 1024;
  bool allow_http_loopback = false;  // http:// to 127.0.0.0/8, [::1] or localhost
  std::string ca_file;               // PEM bundle; empty: the system store
};

// The production fetcher: libportcullis-verify's HTTP client (one deadline, header and body
// limits), GET only, redirects not followed (a 3xx is a failure), only status 200 accepted.
// https:// only, or http:// to a loopback host when `allow_http_loopback`.
// `clock` (for Expires without Date) must outlive the fetcher.
JwksFetcher HttpJwksFetcher(JwksFetchOptions options, const Clock& clock);

// True when `url` may be fetched under `allow_http_loopback` (https, or loopback http).
bool JwksUriAllowed(std::string_view url, bool allow_http_loopback);

class ClientJwksCache {
 public:
  struct Options {
    int64_t default_ttl_s = 300;
    int64_t min_ttl_s = 60;
    int64_t max_ttl_s = 86400;
    int64_t refetch_interval_s = 60;
    int64_t stale_if_error_s = 3600;
    size_t max_entries = 10000;
  };
  using KeysPtr = std::shared_ptr<const jose::KeySet>;

  ClientJwksCache(JwksFetcher fetcher, const Clock& clock, Options options);

  // The client's current key set from `uri`: the cached one while fresh, else fetched. Errors
  // (Status ERR12007) name the failure for the log.
  Result<KeysPtr> Keys(std::string_view client_id, std::string_view uri);
  // After `seen` (what Keys returned) did not hold the assertion's key: refetches once, unless
  // the client's refetch interval has not passed (then: nullopt) or another thread already
  // replaced `seen` (then: that set). A failed refetch is an error; the cached set stays.
  Result<std::optional<KeysPtr>> RefetchForUnknownKid(std::string_view client_id,
                                                      std::string_view uri, const KeysPtr& seen);
  // Drops the client's entry (deleted client).
  void Forget(std::string_view client_id);

  size_t size() const;
  // Fetches attempted in all (tests, metrics).
  uint64_t fetches() const;

 private:
  struct Entry {
    std::mutex mu;  // held across this client's fetch
    std::string uri;
    KeysPtr keys;              // null: never fetched successfully
    int64_t expires_at = 0;    // fresh until
    int64_t last_refetch = 0;  // the last unknown-kid refetch (rate-limited)
    int64_t last_attempt = 0;  // the last fetch of any kind
    bool failed = false;       // the last fetch failed
    int64_t last_used = 0;     // under mu_ (LRU)
  };

  std::shared_ptr<Entry> EntryFor(std::string_view client_id);
  // Under e.mu: fetches and stores; on failure leaves the old set in place.
  Status FetchInto(Entry& e, std::string_view client_id);
  // Under e.mu: the set if still usable (fresh, or stale within stale_if_error_s after a failed
  // fetch).
  bool Usable(const Entry& e, int64_t now) const;

  JwksFetcher fetcher_;
  const Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  uint64_t fetches_ = 0;  // under mu_
};

}  // namespace portcullis::oauth
