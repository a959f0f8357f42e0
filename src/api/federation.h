#pragma once
// Federation (light-oauth2 reference §10.3): a kid whose two-digit prefix names another
// provider is fetched from that provider's key service (`<serverUrl><uri>/00<kid>`, the
// unauthenticated federation path), checked to be a currently valid X.509 certificate, and
// cached. Refetches are rate-limited per kid and failures are cached briefly, so a flood of
// unknown kids cannot hammer a peer. Thread-safe; Certificate() blocks (store, network).

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/error.h"

namespace portcullis {
namespace store {
class Database;
}

namespace api {

class Federation {
 public:
  struct Options {
    int64_t cache_seconds = 600;
    int64_t negative_cache_seconds = 30;
    int timeout_ms = 2000;
  };
  Federation(store::Database& db, const Clock& clock, Options options)
      : db_(db), clock_(clock), options_(options) {}

  // The PEM certificate of `kid` (with its provider prefix). ERR12017 when the provider is
  // unknown, unreachable, or does not have it.
  Result<std::string> Certificate(std::string_view kid);

 private:
  struct Entry {
    std::string pem;  // empty: a cached failure
    int64_t expires_at = 0;
  };
  store::Database& db_;
  const Clock& clock_;
  Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

// True when `pem` holds an X.509 certificate valid now.
bool IsCurrentCertificate(std::string_view pem);

}  // namespace api
}  // namespace portcullis
