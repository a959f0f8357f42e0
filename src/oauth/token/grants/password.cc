// password (RFC 6749 §4.3), for trusted clients only (light-oauth2 reference §4.4). The user's
// password is checked by the client's authenticator (authenticateClass, as at the login page:
// the user store's argon2id, or a legacy PBKDF2 upgraded on the way; or LDAP): a slow hash or a
// directory round trip, so the request runs on the hashing pool.

#include <memory>

#include "oauth/login/authenticator.h"
#include "oauth/token/grant.h"
#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kParameters[] = {"username", "password", "scope", "resource",
                                            "audience"};

class PasswordGrant final : public Grant {
 public:
  PasswordGrant()
      : Grant("password",
              {.needs_client_authentication = true, .trusted_only = true, .shows_password = true},
              kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kSlowHash; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                            const Client& c) const override {
    const Params& p = r.params();
    if (p.Value("username").empty()) return Fail(Error::Status("ERR12022"));
    if (p.Value("password").empty()) return Fail(Error::Status("ERR12023"));
    if (!c.IsTrusted()) return Fail(Error::Status("ERR12024"));
    auto scope = ctx.GrantedScope(r.scope(), c.scope);
    if (!scope) return Fail(scope.error());
    // The client's authenticator checks the password, as at the login page: a client bound to a
    // directory signs in its users and nobody else, whatever accounts the user store holds.
    auto logins = ctx.Logins("password check");
    if (!logins) return Fail(logins.error());
    PasswordSignIn signed_in;
    if (*logins != nullptr) {
      auto s = (*logins)->Login(c, p.Value("username"), p.Value("password"), r.remote_ip());
      if (!s) return Fail(s.error());
      signed_in = std::move(*s);
    } else {
      // No sign-in service in this process: only the built-in user store, for the clients that
      // name no other authenticator.
      if (!c.authenticate_class.empty()) {
        return Fail(Error::Status(
            "ERR10043",
            "The authenticator " + c.authenticate_class + " of the client is not available.",
            "password grant without the code module, client " + c.client_id));
      }
      auto users = ctx.Users("password check");
      if (!users) return Fail(users.error());
      auto user =
          (*users)->AuthenticateFrom(p.Value("username"), p.Value("password"), r.remote_ip());
      if (!user) return Fail(user.error());
      signed_in = {std::move(*user), "users"};
    }
    // Type and roles come from the authenticator, never from the request (reference §18.3).
    const AuthenticatedUser& user = signed_in.user;
    TokenSubject subject{user.user_id, user.user_type, user.roles, true};
    subject.user_source = signed_in.user_source;
    return IssueForUser(ctx, c, subject, *scope, r, {});
  }
};

}  // namespace

std::unique_ptr<const Grant> MakePasswordGrant() { return std::make_unique<PasswordGrant>(); }

}  // namespace portcullis::oauth
