#include "oauth/refresh/grant_revocation.h"

#include "store/db.h"

namespace portcullis::oauth {

using store::Int;
using store::Text;

Status RevokeUserGrants(store::Tx& tx, std::string_view user_id, int64_t now) {
  for (const char* sql :
       {"UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
        " WHERE user_id = $1 AND state <> 'revoked'",
        "UPDATE auth_codes SET expires_at = $2"
        " WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2"}) {
    auto n = tx.Exec(sql, {Text(user_id), Int(now)});
    if (!n) return Fail(std::move(n.error()));
  }
  // Every realm's sessions: a session's key hides its realm, its row still names the user.
  auto n = tx.Exec("DELETE FROM sso_sessions WHERE user_id = $1", {Text(user_id)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status RevokeUserClientGrants(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                              int64_t now) {
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
