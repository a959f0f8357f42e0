// client_credentials (RFC 6749 §4.4): the hot path. For a client in the catalog, with no target
// named and a JWT for an answer, it runs in memory (catalog, keyed digest, scope, claims, one
// signature) and declares it needs nothing, so it runs on the I/O thread. A named target reads
// the service registry, and an external client's reference token is stored: those requests
// declare the store.

#include <memory>

#include "oauth/token/grant.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kParameters[] = {"scope", "resource", "audience"};

class ClientCredentialsGrant final : public Grant {
 public:
  ClientCredentialsGrant()
      : Grant("client_credentials", {.needs_client_authentication = true}, kParameters) {}

  GrantNeeds Needs(const TokenRequest& r) const override {
    // A named resource is looked up in the service registry (RFC 8707).
    if (r.NamesTarget()) return GrantNeeds::kStore;
    // External clients get reference tokens, which are stored.
    if (r.client() && r.client()->IsExternal()) return GrantNeeds::kStore;
    return GrantNeeds::kNothing;
  }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                            const Client& c) const override {
    auto granted = ctx.GrantedScope(r.scope(), c.scope);
    if (!granted) return Fail(granted.error());
    auto target = ctx.ResolveTarget(r);
    if (!target) return Fail(target.error());
    auto scope = GrantContext::NarrowToTarget(*target, std::move(*granted), r.ScopeRequested());
    if (!scope) return Fail(scope.error());
    int64_t ttl = ctx.TtlFor(c);
    auto m = ctx.Mint(c, TokenSubject{}, *scope, target->audience, ttl, {});
    if (!m) return Fail(m.error());
    auto token = ctx.Deliver(c, *m);
    if (!token) return Fail(token.error());
    IssuedToken out;
    out.access_token = std::move(*token);
    out.expires_in = ttl;
    out.scope = JoinScope(*scope);
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeClientCredentialsGrant() {
  return std::make_unique<ClientCredentialsGrant>();
}

}  // namespace portcullis::oauth
