// client_authenticated_user (light-oauth2's custom grant, reference §4.5, §6.1): a trusted
// client vouches for a user it has signed in itself; the remaining form fields become claims.

#include <boost/json/object.hpp>
#include <memory>

#include "oauth/client/validation.h"
#include "oauth/token/grant.h"
#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kParameters[] = {"scope", "userId",   "userType",
                                            "roles", "resource", "audience"};
// Not turned into claims: the grant type, the client's credentials, and the parameters above.
constexpr std::string_view kProtocol[] = {"grant_type", "client_id", "client_secret",
                                          "client_assertion", "client_assertion_type"};

bool Consumed(std::string_view k) {
  for (auto n : kProtocol) {
    if (k == n) return true;
  }
  for (auto n : kParameters) {
    if (k == n) return true;
  }
  return false;
}

class ClientAuthenticatedUserGrant final : public Grant {
 public:
  ClientAuthenticatedUserGrant()
      : Grant("client_authenticated_user",
              {.needs_client_authentication = true, .trusted_only = true, .shows_password = true},
              kParameters) {}

  // The refresh token is stored.
  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kStore; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                            const Client& c) const override {
    const Params& p = r.params();
    if (!c.IsTrusted()) return Fail(Error::Status("ERR12024"));
    auto scope = ctx.GrantedScope(r.scope(), c.scope);
    if (!scope) return Fail(scope.error());
    if (p.Value("userId").empty()) return Fail(Error::Status("ERR12031"));
    if (p.Value("userType").empty()) return Fail(Error::Status("ERR12032"));
    // Remaining fields become claims (reference §6.1), reserved names excepted.
    json::object extra;
    for (const auto& [k, v] : p.fields()) {
      if (!Consumed(k) && !IsReservedClaim(k)) extra[k] = v;
    }
    TokenSubject subject{std::string(p.Value("userId")), std::string(p.Value("userType")),
                         std::string(p.Value("roles")), true};
    subject.user_source = "client";  // vouched for by the trusted client, not in the user store
    return IssueForUser(ctx, c, subject, *scope, r, extra);
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeClientAuthenticatedUserGrant() {
  return std::make_unique<ClientAuthenticatedUserGrant>();
}

}  // namespace portcullis::oauth
