// password (RFC 6749 §4.3), for trusted clients only (light-oauth2 reference §4.4). The user's
// password is checked by the UserAuthenticator (argon2id, or a legacy PBKDF2 upgraded on the
// way): a slow hash, so the request runs on the hashing pool.

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
      : Grant("password", {.needs_client_authentication = true, .trusted_only = true},
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
    auto users = ctx.Users("password check");
    if (!users) return Fail(users.error());
    auto user = (*users)->AuthenticateFrom(p.Value("username"), p.Value("password"), r.remote_ip());
    if (!user) return Fail(user.error());
    // Type and roles come from the user store, never from the request (reference §18.3).
    TokenSubject subject{user->user_id, user->user_type, user->roles, true};
    subject.user_source = "users";
    return IssueForUser(ctx, c, subject, *scope, r, {});
  }
};

}  // namespace

std::unique_ptr<const Grant> MakePasswordGrant() { return std::make_unique<PasswordGrant>(); }

}  // namespace portcullis::oauth
