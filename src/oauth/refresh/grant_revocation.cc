#include "oauth/refresh/grant_revocation.h"

#include "store/db.h"

namespace portcullis::oauth {

Status GrantRevocation::RevokeUserGrants(store::Tx& tx, std::string_view user_id,
                                         int64_t now) const {
  if (auto s = refresh_tokens_.RevokeForUser(tx, user_id, now); !s) return s;
  if (auto s = codes_.ExpireForUser(tx, user_id, now); !s) return s;
  // Every realm's sessions: a session's key hides its realm, its row still names the user.
  // LEAD: swap at merge (the sessions store of slice `users`).
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE user_id = $1", {store::Text(user_id)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status GrantRevocation::RevokeUserClientGrants(store::Tx& tx, std::string_view user_id,
                                               std::string_view client_id, int64_t now) const {
  if (auto s = refresh_tokens_.RevokeForUserClient(tx, user_id, client_id, now); !s) return s;
  return codes_.ExpireForUserClient(tx, user_id, client_id, now);
}

// --- DEPRECATED (issue 14): remove with the last caller --------------------------------------

Status RevokeUserGrants(store::Tx& tx, std::string_view user_id, int64_t now) {
  using store::Int;
  using store::Text;
  for (const char* sql :
       {"UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
        " WHERE user_id = $1 AND state <> 'revoked'",
        "UPDATE auth_codes SET expires_at = $2"
        " WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2"}) {
    auto n = tx.Exec(sql, {Text(user_id), Int(now)});
    if (!n) return Fail(std::move(n.error()));
  }
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE user_id = $1", {Text(user_id)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status RevokeUserClientGrants(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                              int64_t now) {
  using store::Int;
  using store::Text;
  for (const char* sql :
       {"UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $3)"
        " WHERE user_id = $1 AND client_id = $2 AND state <> 'revoked'",
        "UPDATE auth_codes SET expires_at = $3"
        " WHERE user_id = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3"}) {
    auto n = tx.Exec(sql, {Text(user_id), Text(client_id), Int(now)});
    if (!n) return Fail(std::move(n.error()));
  }
  return {};
}

}  // namespace portcullis::oauth
