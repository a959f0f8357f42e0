#pragma once
// Errors of the token, introspection and revocation endpoints. Each carries both formats the
// README promises: the RFC 6749 §5.2 `error` with its HTTP status, and the nearest light-oauth2
// code (reference §15), whose catalogue status may differ (ERR12029 is 404 upstream, while
// invalid_grant is 400 in RFC 6749 §5.2): the RFC status wins.

#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::oauth {

inline Error Coded(std::string_view code, int http_status, std::string oauth_error,
                   std::string description) {
  Error e = Error::Status(code, std::move(description));
  e.http_status = http_status;
  e.oauth_error = std::move(oauth_error);
  return e;
}

// RFC 6749 §5.2 invalid_grant, with the light-oauth2 code of the credential that failed
// (ERR12052 a code, ERR12029 a refresh token, ERR12028 another client's).
inline Error InvalidGrant(std::string_view code, std::string description) {
  return Coded(code, 400, "invalid_grant", std::move(description));
}

// invalid_request: a parameter missing, repeated or malformed (light-oauth2's validator code).
inline Error InvalidRequest(std::string description) {
  return Coded("ERR11004", 400, "invalid_request", std::move(description));
}

// RFC 8707 §2.2 invalid_target.
inline Error InvalidTarget(std::string description) {
  return Coded("ERR12015", 400, "invalid_target", std::move(description));
}

}  // namespace portcullis::oauth
