#include "oauth/token/grants/user_tokens.h"

#include "oauth/credentials/token_hash.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {

Result<std::string> InsertRefresh(RefreshTokenStore& refresh_tokens, store::Tx& tx, Random& random,
                                  int64_t now, int64_t ttl, const Client& c,
                                  const TokenSubject& subject,
                                  const std::vector<std::string>& scope, std::string_view remember,
                                  std::string_view family, std::string_view parent_hash) {
  std::string token = random.Token(32);
  RefreshToken row;
  row.token_hash = TokenHash(token);
  row.family_id = std::string(family);
  row.client_id = c.client_id;
  row.user_id = subject.user_id;
  row.user_type = subject.user_type;
  row.roles = subject.roles;
  row.scope = JoinScope(scope);
  row.remember = remember == "Y" ? "Y" : "N";
  row.state = "active";
  row.parent_hash = std::string(parent_hash);
  row.created_at = now;
  row.expires_at = now + ttl;
  row.user_source = subject.user_source;
  if (auto s = refresh_tokens.Insert(tx, row); !s) return Fail(s.error());
  return token;
}

Result<bool> ReadUserAgain(GrantLookups& lookups, store::Tx& tx, TokenSubject& subject) {
  if (subject.user_id.empty() || subject.user_source == "client") return true;
  auto user = lookups.FindUser(tx, subject.user_id);
  if (!user) return Fail(user.error());
  if (!*user) return subject.user_source != "users";
  if ((*user)->locked) return false;
  subject.user_type = (*user)->user_type;
  subject.roles = (*user)->roles;
  return true;
}

std::vector<std::string> StillAllowed(const std::vector<std::string>& granted, const Client& c) {
  std::vector<std::string> out;
  for (const auto& s : granted) {
    if (c.HasScope(s)) out.push_back(s);
  }
  return out;
}

Result<IssuedToken> IssueForUser(GrantContext& ctx, const Client& c, const TokenSubject& subject,
                                 const std::vector<std::string>& requested, const TokenRequest& r,
                                 const boost::json::object& extra) {
  const std::vector<std::string> scope = ScopeForUser(requested, subject.roles);
  auto target = ctx.ResolveTarget(r);
  if (!target) return Fail(target.error());
  auto access_scope = GrantContext::NarrowToTarget(*target, scope, r.ScopeRequested());
  if (!access_scope) return Fail(access_scope.error());
  auto st = ctx.Store("token.issue_user");
  if (!st) return Fail(st.error());
  const int64_t now = ctx.clock().Now();
  int64_t ttl = ctx.TtlFor(c);
  auto m = ctx.Mint(c, subject, *access_scope, target->audience, ttl, extra);
  if (!m) return Fail(m.error());
  IssuedToken out;
  auto s = st->db.Transact("token.issue_user", [&](store::Tx& tx) -> Status {
    auto refresh = InsertRefresh(st->stores.refresh_tokens, tx, ctx.random(), now,
                                 ctx.settings().refresh_token_ttl, c, subject, scope, "N",
                                 ctx.random().Token(16), "");
    if (!refresh) return Fail(refresh.error());
    auto token = ctx.Deliver(c, *m, &tx);
    if (!token) return Fail(token.error());
    out.access_token = std::move(*token);
    out.refresh_token = std::move(*refresh);
    return {};
  });
  if (!s) return Fail(s.error());
  out.expires_in = ttl;
  out.scope = JoinScope(*access_scope);
  out.remember = "N";
  return out;
}

}  // namespace portcullis::oauth
