#pragma once
// The user's side of the device flow (RFC 8628 §3.3): the verification page looks up the code
// the user typed and records their decision. HTTP lives in api/device_api.cc.
//
// Guessing (RFC 8628 §5.1): every wrong code counts against two token buckets, one per client
// address (LoginThrottle IP key) and one for the whole instance ("device:all"). The buckets are
// checked and charged before the lookup, and refunded when the code was right, so an exhausted
// bucket answers 429 without telling whether the code exists. Malformed input (not 8 letters of
// the alphabet) reveals nothing and costs nothing. See user_code.h for the guessing math.
//
// Ownership: borrows `store`, `hasher`, `clock` and `guesses`; they must outlive it.
// Thread-safety: all members may be called from any thread; Find and Decide block (store).

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/device/device_store.h"
#include "oauth/device/user_code.h"
#include "oauth/login/throttle.h"

namespace portcullis::oauth {

class DeviceVerification {
 public:
  static constexpr std::string_view kGlobalKey = "device:all";

  DeviceVerification(DeviceGrantStore& store, const UserCodeHasher& hasher, const Clock& clock,
                     LoginThrottle& guesses)
      : store_(store), hasher_(hasher), clock_(clock), guesses_(guesses) {}

  // The pending, unexpired grant behind the code the user entered. Errors: 400 invalid_request
  // for malformed input; 429 (retry_after set) when this address, or everyone, guessed wrong too
  // often; 400 invalid_grant for a code that is unknown, expired or already decided.
  Result<DeviceGrant> Find(std::string_view entered, std::string_view remote_ip);
  // Records the user's decision on a grant Find returned. False when it is no longer pending
  // (decided in another tab or instance, or expired meanwhile).
  Result<bool> Decide(const DeviceGrant& grant, bool approve, const DeviceApproval& who);

 private:
  DeviceGrantStore& store_;
  const UserCodeHasher& hasher_;
  const Clock& clock_;
  LoginThrottle& guesses_;
};

}  // namespace portcullis::oauth
