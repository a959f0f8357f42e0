#pragma once
// PKCE (RFC 7636) checks with light-oauth2's error codes (reference §4.7).

#include <string_view>

#include "common/error.h"

namespace portcullis::oauth {

// At the authorization endpoint. `allow_plain` is off unless configured (RFC 9700 §2.1.1).
Status CheckCodeChallenge(std::string_view challenge, std::string_view method, bool allow_plain);

// At the token endpoint, for a code that carries a challenge.
Status CheckCodeVerifier(std::string_view verifier, std::string_view challenge,
                         std::string_view method);

// base64url(SHA-256(verifier)), RFC 7636 §4.2.
std::string S256Challenge(std::string_view verifier);

}  // namespace portcullis::oauth
