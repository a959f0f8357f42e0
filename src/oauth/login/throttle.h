#pragma once
// Brute-force defence for password checks (sign-in form, HTTP Basic sign-in, the password
// grant, and whatever else checks a password). Each key has a token bucket: an attempt that may
// fail takes a token, the bucket refills evenly over the window, and a key with no token left is
// refused until one has grown back (the caller answers 429 with Retry-After = RetryAfter()).
// So a guesser is slowed to `limit` guesses per window, and nobody is ever locked out for a
// whole window by someone else's failures.
//
// Keys (build them with IpKey / AccountKey):
// - "ip:<address>" (IPv6 by its /64, which one host typically owns): a higher limit, since
//   several users may share an address (NAT). The address is the client's as resolved through
//   server.trusted_proxies, never a load balancer's, so one attacker slows only itself.
// - anything else, normally "user:<id>" joined with the IP: the account as tried from one
//   address. Keyed by address too, so failures from an attacker's address cannot lock the real
//   user out from theirs, and a spray of unknown names locks nobody. Names are counted whether
//   or not the account exists: a 429 only for real accounts would tell which exist.
//
// Acquire() checks and counts in one step under the lock, so parallel attempts cannot all pass
// a check made before any of them was counted; Refund() gives the token back when the attempt
// succeeded. In memory, per instance: an attacker spreading guesses over N instances gets N
// times the budget, which the refill rate still bounds. Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace portcullis::oauth {

class LoginThrottle {
 public:
  // `max_failures` and `max_ip_failures` are the bucket sizes (attempts in a burst) of account
  // and IP keys; each bucket refills completely over `window_seconds`.
  LoginThrottle(const Clock& clock, int max_failures = 5, int64_t window_seconds = 300,
                int max_ip_failures = 50)
      : clock_(clock),
        max_failures_(max_failures),
        max_ip_failures_(max_ip_failures),
        window_(window_seconds) {}

  struct Admission {
    bool allowed = true;
    int64_t retry_after = 0;  // seconds until the key has a token again; 0 when allowed
  };

  // "ip:<address>"; an IPv6 address is reduced to its /64. Empty for an empty address.
  static std::string IpKey(std::string_view ip);
  // The account `user_id` as tried from `ip` ("user:<id>" when the address is unknown).
  static std::string AccountKey(std::string_view user_id, std::string_view ip);

  // Atomic check-and-count: takes a token, or refuses (without counting) when there is none.
  Admission Acquire(std::string_view key);
  // Gives back a token that Acquire took (the attempt succeeded, or was never made).
  void Refund(std::string_view key);
  // Seconds until `key` may try again; 0 when it may now.
  int64_t RetryAfter(std::string_view key) const;

  // The older, two-step interface (check, then count a failure): kept for callers that count
  // after the fact. Locked: no token left. Failure: takes a token. Success: refills the bucket.
  bool Locked(std::string_view key) const;
  void Failure(std::string_view key);
  void Success(std::string_view key);

 private:
  struct Entry {
    double tokens = 0;
    int64_t updated = 0;
  };
  double Capacity(std::string_view key) const;
  // The entry's tokens as of `now` (refilled); a missing entry is a full bucket.
  double TokensAt(std::string_view key, const Entry* e, int64_t now) const;
  // The entry for `key`, refilled to `now`; created full. Requires mu_.
  Entry& Touch(std::string_view key, int64_t now);
  int64_t SecondsToOneToken(std::string_view key, double tokens) const;

  const Clock& clock_;
  const int max_failures_;
  const int max_ip_failures_;
  const int64_t window_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  int64_t last_sweep_ = 0;
};

}  // namespace portcullis::oauth
