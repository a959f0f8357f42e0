#pragma once
// The logout token of OpenID Connect Back-Channel Logout 1.0 §2.4: a JWT with JOSE typ
// "logout+jwt" (§2.4 recommends explicit typing, RFC 8725 §3.11) whose claims are iss, aud (the
// client), iat, exp, jti, sub, sid and events {".../backchannel-logout": {}}; never a nonce
// (§2.4: a nonce would let it pass for an ID token).

#include <cstdint>
#include <string>
#include <string_view>

namespace portcullis::oauth {

inline constexpr std::string_view kLogoutTokenTyp = "logout+jwt";
inline constexpr std::string_view kBackchannelLogoutEvent =
    "http://schemas.openid.net/event/backchannel-logout";

struct LogoutTokenClaims {
  std::string issuer;
  std::string client_id;  // aud
  std::string sub;        // left out when empty (§2.4: sub, sid or both)
  std::string sid;        // left out when empty
  std::string jti;
  int64_t iat = 0;
  int64_t exp = 0;
};

// The claims set as JSON text, ready to sign.
std::string LogoutTokenJson(const LogoutTokenClaims& claims);

}  // namespace portcullis::oauth
