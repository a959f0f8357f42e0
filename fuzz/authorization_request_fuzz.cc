// Fuzzes the authorization endpoint's request parser (query string or form body): duplicate
// and oversized parameters, bad escapes, and the round trip through the hidden form fields that
// carry a request across the login and consent pages.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oauth/code/authorization_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portcullis::oauth::AuthorizationRequest;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto request = AuthorizationRequest::Parse(input, 256);
  if (!request) return 0;
  // What the pages echo must parse back to the same request.
  auto again = AuthorizationRequest::Parse(request->ToQuery(), 256);
  if (!again) __builtin_trap();
  if (again->ToQuery() != request->ToQuery()) __builtin_trap();
  return 0;
}
