#include "oauth/token/verified_cache.h"

namespace portcullis::oauth {

std::optional<VerifiedTokenCache::Entry> VerifiedTokenCache::Find(const std::string& token_hash,
                                                                  const void* epoch) const {
  Shard& s = ShardOf(token_hash);
  std::lock_guard lock(s.mu);
  auto it = s.entries.find(token_hash);
  if (it == s.entries.end() || it->second.epoch.get() != epoch) return std::nullopt;
  return it->second;
}

void VerifiedTokenCache::Put(const std::string& token_hash, Entry entry) {
  Shard& s = ShardOf(token_hash);
  std::lock_guard lock(s.mu);
  if (s.entries.size() >= per_shard_) s.entries.clear();
  s.entries[token_hash] = std::move(entry);
}

}  // namespace portcullis::oauth
