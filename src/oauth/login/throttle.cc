#include "oauth/login/throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

namespace portcullis::oauth {
namespace {

constexpr size_t kSweepAbove = 100000;

}  // namespace

std::string LoginThrottle::IpKey(std::string_view ip) {
  if (ip.empty()) return {};
  std::string text(ip);
  unsigned char bytes[16];
  if (text.find(':') != std::string::npos && inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    // One host usually owns a whole /64 and can pick any address in it at will.
    std::fill(bytes + 8, bytes + 16, 0);
    char out[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, bytes, out, sizeof out)) return "ip:" + std::string(out) + "/64";
  }
  return "ip:" + text;
}

std::string LoginThrottle::AccountKey(std::string_view user_id, std::string_view ip) {
  // Length-prefixed, so no user id can be chosen to collide with another id's key.
  std::string key = "user:" + std::to_string(user_id.size()) + ":" + std::string(user_id);
  if (!ip.empty()) key += "|" + IpKey(ip);
  return key;
}

double LoginThrottle::Capacity(std::string_view key) const {
  return key.starts_with("ip:") ? max_ip_failures_ : max_failures_;
}

double LoginThrottle::TokensAt(std::string_view key, const Entry* e, int64_t now) const {
  double cap = Capacity(key);
  if (e == nullptr) return cap;
  double elapsed = static_cast<double>(std::max<int64_t>(0, now - e->updated));
  return std::min(cap, e->tokens + elapsed * cap / static_cast<double>(window_));
}

LoginThrottle::Entry& LoginThrottle::Touch(std::string_view key, int64_t now) {
  if (entries_.size() > kSweepAbove && now != last_sweep_) {
    // Bounded memory under a spray of keys: drop full buckets (they carry no state). At most
    // once a second, so a flood of fresh keys cannot make every call a full scan.
    last_sweep_ = now;
    std::erase_if(entries_, [&](const auto& kv) {
      return TokensAt(kv.first, &kv.second, now) >= Capacity(kv.first);
    });
  }
  auto [it, inserted] = entries_.try_emplace(std::string(key));
  Entry& e = it->second;
  e.tokens = TokensAt(key, inserted ? nullptr : &e, now);
  e.updated = now;
  return e;
}

int64_t LoginThrottle::SecondsToOneToken(std::string_view key, double tokens) const {
  if (tokens >= 1) return 0;
  double per_second = Capacity(key) / static_cast<double>(window_);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - tokens) / per_second)));
}

LoginThrottle::Admission LoginThrottle::Acquire(std::string_view key) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(key, clock_.Now());
  if (e.tokens < 1) return {false, SecondsToOneToken(key, e.tokens)};
  e.tokens -= 1;
  return {};
}

void LoginThrottle::Refund(std::string_view key) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(key, clock_.Now());
  e.tokens = std::min(Capacity(key), e.tokens + 1);
}

int64_t LoginThrottle::RetryAfter(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(key));
  double tokens = TokensAt(key, it == entries_.end() ? nullptr : &it->second, clock_.Now());
  return SecondsToOneToken(key, tokens);
}

bool LoginThrottle::Locked(std::string_view key) const { return RetryAfter(key) > 0; }

void LoginThrottle::Failure(std::string_view key) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(key, clock_.Now());
  e.tokens = std::max(0.0, e.tokens - 1);
}

void LoginThrottle::Success(std::string_view key) {
  std::lock_guard lock(mu_);
  entries_.erase(std::string(key));
}

}  // namespace portcullis::oauth
