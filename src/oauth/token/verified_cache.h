#pragma once
// Introspection answers for our own JWTs, so a resource server that introspects the same token
// many times pays for one signature check. Entries are keyed by the token's SHA-256 and remember
// its exp and jti: expiry and the revocation list are checked again on every hit, and an entry
// made under another key ring (a rotation, an emergency revoke) is a miss. Bounded: a full shard
// is emptied. Thread-safe, sharded to keep I/O threads from contending.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portcullis::oauth {

class VerifiedTokenCache {
 public:
  struct Entry {
    std::string body;  // the RFC 7662 answer
    std::string jti;
    int64_t exp = 0;
    std::shared_ptr<const void> epoch;  // the key ring it was verified under
  };

  explicit VerifiedTokenCache(size_t capacity = 64 * 1024) : per_shard_(capacity / kShards + 1) {}

  std::optional<Entry> Find(const std::string& token_hash, const void* epoch) const;
  void Put(const std::string& token_hash, Entry entry);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& ShardOf(const std::string& key) const {
    return shards_[std::hash<std::string>{}(key) % kShards];
  }
  size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace portcullis::oauth
