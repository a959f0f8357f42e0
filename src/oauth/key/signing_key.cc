#include "oauth/key/signing_key.h"

namespace portcullis::oauth {

std::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kNext:
      return "next";
    case KeyState::kCurrent:
      return "current";
    case KeyState::kPrevious:
      return "previous";
    case KeyState::kRetired:
      return "retired";
    case KeyState::kRevoked:
      return "revoked";
  }
  return "?";
}

std::optional<KeyState> ParseKeyState(std::string_view name) {
  for (KeyState s : {KeyState::kNext, KeyState::kCurrent, KeyState::kPrevious, KeyState::kRetired,
                     KeyState::kRevoked}) {
    if (KeyStateName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsPublished(KeyState state) {
  return state == KeyState::kNext || state == KeyState::kCurrent || state == KeyState::kPrevious;
}

}  // namespace portcullis::oauth
