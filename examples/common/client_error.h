#pragma once
// How the client examples name a libportcullis-client failure in their JSON output.

#include <portcullis/client.h>

namespace example {

inline const char* KindName(portcullis::client::Error::Kind k) {
  using Kind = portcullis::client::Error::Kind;
  switch (k) {
    case Kind::kDeadline:
      return "deadline";
    case Kind::kRefused:
      return "refused";
    case Kind::kUnavailable:
      return "unavailable";
    case Kind::kBadResponse:
      return "bad_response";
    case Kind::kInvalidArgument:
      return "invalid_argument";
  }
  return "?";
}

}  // namespace example
