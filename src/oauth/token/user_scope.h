#pragma once
// The scope a token acting for a user may carry (README "Admin privileges"). RFC 6749 §3.3 lets
// the server grant less than asked: admin scopes (IsAdminScope: portal.*, oauth.*,
// read:provider, write:provider) reach a user-bound token only when the user's roles contain
// `admin`; otherwise they are dropped from the granted scope. Every grant that issues a
// token for a user calls this with the user's roles: authorization_code, password,
// client_authenticated_user (roles asserted by a trusted client), refresh_token and token
// exchange of a user's token.

#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth {

std::vector<std::string> ScopeForUser(const std::vector<std::string>& scope,
                                      std::string_view roles);

}  // namespace portcullis::oauth
