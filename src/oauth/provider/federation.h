#pragma once
// Federation (light-oauth2 reference §10.3): a kid whose two-digit prefix names another
// provider is fetched from that provider's key service (`<serverUrl><uri>/00<kid>`, the
// unauthenticated federation path), checked to be a currently valid X.509 certificate, and
// cached.
//
// Nothing a caller sends reaches the outbound request unchecked: kids are 1..64 characters of
// [0-9A-Za-z] (anything else is refused before any lookup or fetch), and the URL is built by
// appending one encoded path segment to the registered base, never by string concatenation.
// Fetches use TLS (certificate and host name verified against the system trust store, or
// `ca_file`; SNI): a provider's URL must be https://, except http:// to a loopback host with
// `allow_http_loopback` (tests). Registration refuses the others too (ValidateProvider); this
// holds rows written around it (imports, older versions).
//
// Bounded under a flood of distinct kids: the per-kid cache (certificates and failures) is an
// LRU with a hard cap of `max_entries`; a failure is cached for `negative_cache_seconds`, so a
// kid is fetched at most once per period; and at most `max_in_flight` fetches run at once per
// provider (more are refused with 503 without fetching).
//
// Domain logic only: the provider registry is read through ProviderStore, fetches go through
// libportcullis-verify's HTTP client (TLS, one deadline, header and body limits), and the
// route that serves the answer is bound in api/key_api.cc.
//
// Ownership: borrows `providers` and `clock`, which must outlive it. Thread-safe (one mutex
// over the cache, never held across the store read or the fetch); Certificate() blocks (store,
// network): call it from the store pool, never an I/O thread.

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/error.h"

namespace portcullis::oauth {

class ProviderStore;

// [0-9A-Za-z]{1,64}: what Portcullis and light-oauth2 issue.
bool IsValidKid(std::string_view kid);

class Federation {
 public:
  struct Options {
    int64_t cache_seconds = 600;
    int64_t negative_cache_seconds = 30;
    int timeout_ms = 2000;
    size_t max_entries = 1024;         // hard cap of the per-kid cache
    int max_in_flight = 4;             // concurrent fetches per provider
    std::string ca_file;               // PEM bundle for https:// providers; empty: the system store
    bool allow_http_loopback = false;  // config federation.allow_http_loopback
  };
  Federation(ProviderStore& providers, const Clock& clock, Options options)
      : providers_(providers), clock_(clock), options_(std::move(options)) {}

  // The PEM certificate of `kid` (with its provider prefix). ERR12030 (400) for a malformed
  // kid; ERR12017 when the provider is unknown, unreachable, or does not have it; 503 when
  // the provider already has `max_in_flight` fetches running.
  Result<std::string> Certificate(std::string_view kid);

  size_t cache_size() const;

 private:
  struct Entry {
    std::string kid;
    std::string pem;  // empty: a cached failure (or a fetch in flight)
    int64_t expires_at = 0;
  };
  using Lru = std::list<Entry>;  // most recently used first

  // Under mu_: inserts or refreshes `kid` at the front and evicts past the cap.
  void Put(const std::string& kid, std::string pem, int64_t expires_at);

  ProviderStore& providers_;
  const Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
  std::unordered_map<std::string, int> in_flight_;  // provider prefix -> running fetches
};

// True when `pem` holds an X.509 certificate valid now.
bool IsCurrentCertificate(std::string_view pem);

}  // namespace portcullis::oauth
