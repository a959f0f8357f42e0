// Token exchange (RFC 8693) for delegation: the authenticated client acts for the subject of
// one of our access tokens toward an audience a delegation policy allows, with a narrower scope
// and an `act` chain (RFC 8693 §4.1). Reads the delegation policy from the store.

#include <algorithm>
#include <boost/json/object.hpp>
#include <memory>

#include "oauth/client/client.h"
#include "oauth/token/claims.h"
#include "oauth/token/grant.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kParameters[] = {"subject_token", "subject_token_type", "actor_token",
                                            "audience",      "resource",           "scope"};

bool AudienceNames(const json::object& claims, std::string_view name) {
  const json::value* aud = claims.if_contains("aud");
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == name;
  if (aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (a.is_string() && a.get_string() == name) return true;
    }
  }
  return false;
}

// A sender-constrained subject_token (cnf, RFC 7800) must not lose its binding by being
// exchanged (RFC 9449 §1, RFC 8705 §3): it is accepted only from
//  - a client named in its "aud": the resource server it was presented to, which checked the
//    holder's proof or certificate when it received it (RFC 8693 §1.1: the resource exchanges
//    the token it received); or
//  - the key holder itself: the exchange request carries a DPoP proof of the cnf.jkt key, or its
//    TLS client certificate matches cnf x5t#S256 (both members checked when both are there).
// Anyone else presenting it (a stolen token replayed by another client) is refused.
Status HolderMayExchange(const GrantContext& ctx, const json::object& sc, const Client& c) {
  const json::value* cnf_value = sc.if_contains("cnf");
  if (cnf_value == nullptr) return {};
  if (AudienceNames(sc, c.client_id)) return {};
  auto refuse = [](std::string why) {
    return Fail(InvalidGrant("ERR10000", "The subject_token is sender-constrained: " + why));
  };
  if (!cnf_value->is_object()) return refuse("its confirmation claim cannot be checked.");
  const json::object& cnf = cnf_value->get_object();
  const json::value* jkt = cnf.if_contains("jkt");
  const json::value* x5t = cnf.if_contains("x5t#S256");
  if (jkt == nullptr && x5t == nullptr) {
    return refuse("its confirmation method is not supported.");
  }
  if (jkt != nullptr &&
      (!jkt->is_string() || ctx.dpop_jkt().empty() || jkt->get_string() != ctx.dpop_jkt())) {
    return refuse("send a DPoP proof of the key it is bound to (RFC 9449).");
  }
  if (x5t != nullptr && (!x5t->is_string() || ctx.certificate_thumbprint().empty() ||
                         x5t->get_string() != ctx.certificate_thumbprint())) {
    return refuse("present the TLS client certificate it is bound to (RFC 8705).");
  }
  return {};
}

class TokenExchangeGrant final : public Grant {
 public:
  TokenExchangeGrant()
      : Grant("urn:ietf:params:oauth:grant-type:token-exchange",
              {.needs_client_authentication = true, .by_policy = true}, kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kStore; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                            const Client& c) const override {
    const Params& p = r.params();
    // RFC 8693 §2.1
    std::string_view subject_token = p.Value("subject_token");
    std::string_view subject_type = p.Value("subject_token_type");
    if (subject_token.empty() || subject_type.empty()) {
      return Fail(InvalidRequest("subject_token and subject_token_type are required."));
    }
    if (subject_type != "urn:ietf:params:oauth:token-type:access_token" &&
        subject_type != "urn:ietf:params:oauth:token-type:jwt") {
      return Fail(InvalidRequest("Unsupported subject_token_type."));
    }
    if (p.Has("actor_token")) {
      return Fail(
          InvalidRequest("actor_token is not supported; the authenticated client is the actor."));
    }
    // The audience first here (RFC 8693 names it), then the resource.
    std::string_view audience = r.audience().value_or("");
    if (audience.empty()) audience = r.resource().value_or("");
    if (audience.empty()) {
      return Fail(InvalidTarget("audience (the target service) is required."));
    }
    auto claims = ctx.keys().Verify(subject_token);
    // Verify accepts only our access tokens: a signed payload (payload+jwt) is refused here.
    if (!claims) return Fail(InvalidGrant("ERR10000", "The subject_token is not valid."));
    const auto& sc = *claims;
    auto jti = sc.if_contains("jti");
    if (jti && jti->is_string() && ctx.revoked().Contains(jti->as_string())) {
      return Fail(InvalidGrant("ERR10000", "The subject_token has been revoked."));
    }
    if (auto iss = sc.if_contains("iss");
        !iss || !iss->is_string() || iss->as_string() != ctx.settings().issuer) {
      return Fail(InvalidGrant("ERR10000", "The subject_token was not issued here."));
    }
    if (auto held = HolderMayExchange(ctx, sc, c); !held) return Fail(held.error());
    // The delegation policy says whether this client may act toward this audience, with which
    // scopes, and how long the chain may grow.
    auto st = ctx.Store("delegation policy");
    if (!st) return Fail(st.error());
    auto policy = st->lookups.FindDelegation(c.client_id, audience);
    if (!policy) return Fail(policy.error());
    if (!*policy) {
      return Fail(Error::Status("ERR12024",
                                "No delegation policy allows this client toward that audience."));
    }
    const std::vector<std::string>& allowed_by_policy = (*policy)->scopes;
    int64_t max_depth = (*policy)->max_depth.value_or(ctx.settings().max_exchange_depth);

    std::vector<std::string> subject_scope = ScopeClaim(sc);
    // The exchanged token can only narrow: scopes both the subject token and the policy allow.
    std::vector<std::string> ceiling;
    for (const auto& s : subject_scope) {
      if (std::find(allowed_by_policy.begin(), allowed_by_policy.end(), s) !=
          allowed_by_policy.end()) {
        ceiling.push_back(s);
      }
    }
    auto scope = ctx.GrantedScope(r.scope(), ceiling);
    if (!scope) return Fail(Error::Status("ERR12027", scope.error().description));
    if (scope->empty()) return Fail(Error::Status("ERR12027", "No scope can be delegated."));

    // act records the chain, newest actor outermost (RFC 8693 §4.1).
    json::object act;
    act["sub"] = c.client_id;
    int depth = 1;
    if (auto prior = sc.if_contains("act"); prior && prior->is_object()) {
      act["act"] = *prior;
      const json::value* walk = prior;
      while (walk && walk->is_object()) {
        ++depth;
        walk = walk->as_object().if_contains("act");
      }
    }
    if (depth > max_depth) {
      return Fail(InvalidRequest("The delegation chain is too long."));
    }
    TokenSubject subject;
    subject.user_id = StringClaim(sc, "user_id");
    subject.user_type = StringClaim(sc, "user_type");
    subject.roles = StringClaim(sc, "roles");
    subject.is_user = !subject.user_id.empty();
    subject.sub = StringClaim(sc, "sub");
    // The realm travels with the user (our own signature vouches for the claim, which no client
    // can set: validation.cc reserves it): a directory user stays one, never the same-named
    // account of the user store (userinfo, ID token claims).
    if (std::string realm = StringClaim(sc, kUserRealmClaim); subject.is_user && !realm.empty()) {
      subject.user_source = std::string(kAuthenticatorSourcePrefix) + realm;
    }
    if (subject.is_user) *scope = ScopeForUser(*scope, subject.roles);
    if (scope->empty()) {
      return Fail(Error::OAuth(400, "invalid_scope", "No scope can be delegated."));
    }
    json::object extra;
    extra["act"] = act;
    int64_t ttl = ctx.TtlFor(c);
    if (auto exp = sc.if_contains("exp"); exp && exp->is_int64()) {
      // Never outlive the subject token.
      ttl = std::min<int64_t>(ttl, exp->as_int64() - ctx.clock().Now());
    }
    if (ttl <= 0) return Fail(InvalidGrant("ERR10001", "The subject_token has expired."));
    auto m = ctx.Mint(c, subject, *scope, std::string(audience), ttl, extra);
    if (!m) return Fail(m.error());
    IssuedToken out;
    out.access_token = m->jwt;
    out.expires_in = ttl;
    out.scope = JoinScope(*scope);
    out.issued_token_type = "urn:ietf:params:oauth:token-type:access_token";
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeTokenExchangeGrant() {
  return std::make_unique<TokenExchangeGrant>();
}

}  // namespace portcullis::oauth
