#pragma once
// What the grants that issue tokens for a user share: refresh tokens (stored hashed, rotated in
// families, RFC 9700 §4.14.2) and the user read again at redemption. Used by
// authorization_code, refresh_token, password and client_authenticated_user. Every function that
// takes a store::Tx runs inside the caller's transaction; none keeps a reference past the call.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"
#include "oauth/refresh/refresh_token_store.h"
#include "oauth/token/grant.h"

namespace portcullis::oauth {

struct IssuedToken;
struct TokenSettings;

// The sign-in behind a grant (OpenID Connect Core §2): from the authorization code, carried in
// every refresh token of the family. auth_time 0: none (password grant, older rows).
struct SignIn {
  int64_t auth_time = 0;
  std::string sid;
  std::string amr;
  std::string acr;
  std::string claims;  // the `claims` request parameter, JSON text
};

// Stores a refresh token for a user, hashed; returns the clear value. `dpop_jkt` (the key of the
// request's DPoP proof, RFC 9449 §5) and `cert_thumbprint` (its TLS client certificate,
// x5t#S256, RFC 8705 §4) bind the token when `c` is a public client.
Result<std::string> InsertRefresh(RefreshTokenStore& refresh_tokens, store::Tx& tx, Random& random,
                                  int64_t now, int64_t ttl, const Client& c,
                                  const TokenSubject& subject,
                                  const std::vector<std::string>& scope, std::string_view remember,
                                  std::string_view family, std::string_view parent_hash,
                                  const SignIn& sign_in = {}, std::string_view dpop_jkt = {},
                                  std::string_view cert_thumbprint = {});

// With `openid` granted, puts the `claims` parameter's userinfo member (the names it asks for)
// into an access token's `extra` claims, for the userinfo endpoint (oidc/user_claims.h).
void AddUserinfoClaims(boost::json::object& extra, bool openid, std::string_view claims_json);

// The ID token of a token response (OpenID Connect Core §3.1.3.3, §12.2) for `subject` at `c`,
// bound to `access_token` (at_hash) and `nonce` (empty on refresh: §12.2), signed with the
// client's id_token_signed_response_alg (RS256 by default). Claims asked for through the
// `claims` parameter's id_token member are read from the user store in `tx`.
Result<std::string> IssueIdToken(GrantContext& ctx, GrantLookups& lookups, store::Tx& tx,
                                 const Client& c, const TokenSubject& subject,
                                 const SignIn& sign_in, std::string_view nonce,
                                 std::string_view access_token);

// Reads the user behind a code or refresh token again, so that what is issued now carries what
// the user store says now: a role cut since stays cut, and a deleted or locked account gets
// nothing. False when the grant is void. A user asserted by a trusted client
// (client_authenticated_user) is not in the store and keeps what the client asserted, as does a
// user signed in by another authenticator ("authenticator:<realm>", e.g. LDAP); a row from
// before user_source was recorded is read again when the store has the user.
Result<bool> ReadUserAgain(GrantLookups& lookups, store::Tx& tx, TokenSubject& subject);

// Whether `subject` (roles as read again now) is a user whom code.second_factor_roles or
// code.second_factor_realms (`s`) require a second factor of, while the sign-in behind the grant
// (`amr`, RFC 8176) had none: a password-only refresh family, code or device grant from before
// the user got a listed role, or before the realm was listed. The realm comes from
// subject.user_source ("users": the built-in store ""; "authenticator:<realm>"); a trusted
// client's assertion ("client") is no sign-in and is not checked; an unknown source ("", a
// chain or an old row) is checked by role only.
bool LacksRequiredSecondFactor(const TokenSettings& s, const TokenSubject& subject,
                               std::string_view amr);

// The scopes of `granted` that the client may still have: a scope cut from the client since
// the grant is cut from what the grant yields (RFC 6749 §6: never more than the original grant;
// never more than the client is allowed now).
std::vector<std::string> StillAllowed(const std::vector<std::string>& granted, const Client& c);

// Issues an access token and a refresh token for a user (password and client_authenticated_user
// grants): `requested` goes to the refresh token; the access token gets it narrowed to the
// request's target.
Result<IssuedToken> IssueForUser(GrantContext& ctx, const Client& c, const TokenSubject& subject,
                                 const std::vector<std::string>& requested, const TokenRequest& r,
                                 const boost::json::object& extra);

}  // namespace portcullis::oauth
