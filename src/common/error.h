#pragma once
// One error type for every layer. Domain, jose and store code return Result<T>; the HTTP layer
// renders an Error into the single JSON body all services share (RFC 6749 `error` plus
// light-oauth2's Status fields). `detail` is for the log only and never reaches a client.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace portcullis {

struct Error {
  int http_status = 500;
  std::string oauth_error;  // RFC 6749 §5.2 error, e.g. "invalid_client"; may be empty
  std::string code;         // light-oauth2 status code, e.g. "ERR12007"; may be empty
  std::string message;      // light-oauth2 message, e.g. "UNAUTHORIZED_CLIENT"
  std::string description;  // public, safe to show to the caller
  std::string detail;       // internal, log only
  int64_t retry_after = 0;  // seconds; > 0 renders a Retry-After header (429, 503)

  // An error from light-oauth2's catalogue (reference §15): status and message come from the
  // table; `description` overrides the default text when not empty.
  static Error Status(std::string_view code, std::string description = {}, std::string detail = {});
  // An error with no light-oauth2 code.
  static Error OAuth(int http_status, std::string oauth_error, std::string description,
                     std::string detail = {});
  static Error Internal(std::string detail);
  static Error Unavailable(std::string detail);

  Error&& WithDetail(std::string d) && {
    detail = std::move(d);
    return std::move(*this);
  }
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(Error e) { return std::unexpected<Error>(std::move(e)); }

}  // namespace portcullis
