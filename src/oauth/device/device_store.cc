#include "oauth/device/device_store.h"

namespace portcullis::oauth {

std::string_view DeviceGrantStateName(DeviceGrantState s) {
  switch (s) {
    case DeviceGrantState::kPending:
      return "pending";
    case DeviceGrantState::kApproved:
      return "approved";
    case DeviceGrantState::kDenied:
      return "denied";
    case DeviceGrantState::kConsumed:
      return "consumed";
  }
  return "pending";
}

std::optional<DeviceGrantState> ParseDeviceGrantState(std::string_view s) {
  for (auto st : {DeviceGrantState::kPending, DeviceGrantState::kApproved,
                  DeviceGrantState::kDenied, DeviceGrantState::kConsumed}) {
    if (DeviceGrantStateName(st) == s) return st;
  }
  return std::nullopt;
}

}  // namespace portcullis::oauth
