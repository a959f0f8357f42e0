#include "oauth/device/device_verification.h"

#include <algorithm>

#include "common/log.h"

namespace portcullis::oauth {

Result<DeviceGrant> DeviceVerification::Find(std::string_view entered, std::string_view remote_ip) {
  auto code = NormalizeUserCode(entered);
  if (!code) {
    return Fail(Error::OAuth(400, "invalid_request",
                             "A code is 8 letters, like BCDF-GHJK. Check it and enter it again."));
  }
  const std::string ip_key = LoginThrottle::IpKey(remote_ip);
  // Charged before the lookup and refunded on success: parallel guesses cannot all pass a check
  // made before any of them counted, and a 429 says nothing about the code.
  if (!ip_key.empty()) {
    if (auto a = guesses_.Acquire(ip_key); !a.allowed) {
      Error e = Error::OAuth(429, "slow_down", "Too many wrong codes from your network.");
      e.retry_after = std::max<int64_t>(1, a.retry_after);
      log::Warn("device.guess_throttled", {{"scope", "ip"}, {"remote", remote_ip}});
      return Fail(std::move(e));
    }
  }
  if (auto a = guesses_.Acquire(kGlobalKey); !a.allowed) {
    if (!ip_key.empty()) guesses_.Refund(ip_key);
    Error e = Error::OAuth(429, "slow_down", "Too many wrong codes were entered.");
    e.retry_after = std::max<int64_t>(1, a.retry_after);
    log::Warn("device.guess_throttled", {{"scope", "all"}, {"remote", remote_ip}});
    return Fail(std::move(e));
  }
  auto refund = [&] {
    if (!ip_key.empty()) guesses_.Refund(ip_key);
    guesses_.Refund(kGlobalKey);
  };
  auto found = store_.FindByUserCode(hasher_.Hash(*code));
  if (!found) {
    refund();  // a store failure is nobody's guess
    return Fail(found.error());
  }
  const int64_t now = clock_.Now();
  if (*found && (*found)->state == DeviceGrantState::kPending && (*found)->expires_at > now) {
    refund();
    return std::move(**found);
  }
  // Unknown, expired and already-decided codes look the same, and all count as guesses.
  log::Info("device.wrong_code", {{"remote", remote_ip}});
  return Fail(Error::OAuth(400, "invalid_grant",
                           "That code is not valid, has expired or was already used. Check the "
                           "code on your device and enter it again."));
}

Result<bool> DeviceVerification::Decide(const DeviceGrant& grant, bool approve,
                                        const DeviceApproval& who) {
  auto won = store_.Decide(grant.user_code_hash, approve, who, clock_.Now());
  if (!won) return Fail(won.error());
  if (*won) {
    log::Info(approve ? "device.approved" : "device.denied",
              {{"client_id", grant.client_id}, {"user_id", who.user_id}});
  }
  return *won;
}

}  // namespace portcullis::oauth
