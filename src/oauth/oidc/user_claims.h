#pragma once
// Standard claims of a user (OpenID Connect Core §5.1), which scopes release them (§5.4) and the
// `claims` request parameter (§5.5). Used by the userinfo endpoint and, for the claims
// parameter's id_token member, by ID tokens. Pure functions; thread-safe.
//
// Only what the user record holds is mapped: profile -> name, given_name, family_name,
// preferred_username (the user id), updated_at; email -> email. The record knows no
// verification state, so email_verified is never asserted; address and phone are not stored.

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth::oidc {

// The user fields claims come from (a copy of the user record's).
struct UserProfile {
  std::string user_id;
  std::string first_name;
  std::string last_name;
  std::string email;
  int64_t updated_at = 0;
};

// Discovery's scopes_supported (the OpenID ones) and claims_supported.
const std::vector<std::string_view>& OidcScopes();
const std::vector<std::string_view>& ClaimsSupported();

// The claim names the `claims` parameter (JSON text, validated by the authorization endpoint)
// asks for in `member` ("userinfo" or "id_token"). Each entry's null / {essential, value,
// values} is not needed here: the claims we hold are returned as they are (Core §5.5.1: values
// are for the authentication, which the authorization endpoint does). Empty for absent or
// malformed input; unknown names are kept and later ignored.
std::vector<std::string> RequestedClaims(std::string_view claims_json, std::string_view member);

// The user's claims released by `scopes` plus the `requested` names, each only where the
// record has a value. Never includes sub (the caller sets it).
boost::json::object UserClaims(const UserProfile& u, const std::vector<std::string>& scopes,
                               const std::vector<std::string>& requested);

}  // namespace portcullis::oauth::oidc
