// bootstrap_token (light-oauth2 issue #325): a token for deploying a service, issued only to
// the configured bootstrap client. No store: it is signed and returned, never stored.

#include <boost/json/object.hpp>
#include <memory>

#include "oauth/client/validation.h"
#include "oauth/token/grant.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kParameters[] = {"scope"};
// Not turned into claims: the grant type, the client's id and secret, and the parameters above.
constexpr std::string_view kProtocol[] = {"grant_type", "client_id", "client_secret"};

bool Consumed(std::string_view k) {
  for (auto n : kProtocol) {
    if (k == n) return true;
  }
  for (auto n : kParameters) {
    if (k == n) return true;
  }
  return false;
}

class BootstrapTokenGrant final : public Grant {
 public:
  BootstrapTokenGrant()
      : Grant("bootstrap_token", {.needs_client_authentication = true, .by_policy = true},
              kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kNothing; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                            const Client& c) const override {
    const TokenSettings& settings = ctx.settings();
    if (settings.bootstrap_client_id.empty() || c.client_id != settings.bootstrap_client_id) {
      return Fail(Error::Status("ERR12007", "Only the bootstrap client may use this grant."));
    }
    std::vector<std::string> scope;
    if (r.scope().empty()) {
      scope = SplitScope(settings.bootstrap_scope);
    } else {
      auto granted = ctx.GrantedScope(r.scope(), c.scope);
      if (!granted) return Fail(granted.error());
      scope = std::move(*granted);
    }
    json::object extra;
    for (const auto& [k, v] : r.params().fields()) {
      // sid names the service being deployed (light-oauth2 issue #325).
      if (!Consumed(k) && (k == "sid" || !IsReservedClaim(k))) extra[k] = v;
    }
    int64_t ttl = settings.bootstrap_token_ttl;
    auto m = ctx.Mint(c, TokenSubject{}, scope, ctx.DefaultAudience(), ttl, extra);
    if (!m) return Fail(m.error());
    IssuedToken out;
    out.access_token = m->jwt;
    out.expires_in = ttl;
    out.scope = JoinScope(scope);
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeBootstrapTokenGrant() {
  return std::make_unique<BootstrapTokenGrant>();
}

}  // namespace portcullis::oauth
