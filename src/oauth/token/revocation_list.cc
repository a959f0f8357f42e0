#include "oauth/token/revocation_list.h"

#include <algorithm>

namespace portcullis::oauth {

RevocationList::RevocationList(DenyListStore& store, const Clock& clock, int64_t retention_s)
    : store_(store),
      clock_(clock),
      retention_s_(retention_s),
      snapshot_(std::make_shared<const Set>()) {}

Status RevocationList::Add(std::string_view jti, int64_t expires_at) {
  if (auto s = store_.Add(jti, expires_at); !s) return s;
  Remember(std::string(jti), expires_at);
  return {};
}

void RevocationList::Remember(std::string jti, int64_t expires_at) {
  std::lock_guard lock(writer_);
  auto next = std::make_shared<Set>(*snapshot_.load(std::memory_order_acquire));
  (*next)[std::move(jti)] = expires_at;
  snapshot_.store(std::move(next), std::memory_order_release);
}

bool RevocationList::Contains(std::string_view jti) const {
  return snapshot_.load(std::memory_order_acquire)->contains(jti);
}

std::vector<std::pair<std::string, int64_t>> RevocationList::Entries() const {
  const int64_t now = clock_.Now();
  std::shared_ptr<const Set> set = snapshot_.load(std::memory_order_acquire);
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(set->size());
  for (const auto& [jti, exp] : *set) {
    if (exp + retention_s_ > now) out.emplace_back(jti, exp);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status RevocationList::Reload() {
  // The writer lock is held across the read, so an Add whose write the read misses remembers
  // its entry after the swap instead of being overwritten by it.
  std::lock_guard lock(writer_);
  // Kept past exp for the leeway: a token within it still verifies (DenyListRetention).
  auto rows = store_.LoadSince(clock_.Now() - retention_s_);
  if (!rows) return Fail(std::move(rows.error()));
  auto fresh = std::make_shared<Set>();
  fresh->reserve(rows->size());
  for (auto& [jti, exp] : *rows) fresh->emplace(std::move(jti), exp);
  snapshot_.store(std::move(fresh), std::memory_order_release);
  return {};
}

}  // namespace portcullis::oauth
