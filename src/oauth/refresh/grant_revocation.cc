#include "oauth/refresh/grant_revocation.h"

namespace portcullis::oauth {

Status GrantRevocation::RevokeUserGrants(store::Tx& tx, std::string_view user_id,
                                         int64_t now) const {
  if (auto s = refresh_tokens_.RevokeForUser(tx, user_id, now); !s) return s;
  if (auto s = codes_.ExpireForUser(tx, user_id, now); !s) return s;
  if (auto s = devices_.ExpireForUser(tx, user_id, now); !s) return s;
  if (on_sessions_end_) {
    if (auto s = on_sessions_end_(tx, user_id); !s) return s;
  }
  // Every realm's sessions: a session's key hides its realm, its row still names the user.
  return sessions_.DeleteForUser(tx, user_id);
}

Status GrantRevocation::RevokeUserClientGrants(store::Tx& tx, std::string_view user_id,
                                               std::string_view client_id, int64_t now) const {
  if (auto s = refresh_tokens_.RevokeForUserClient(tx, user_id, client_id, now); !s) return s;
  if (auto s = codes_.ExpireForUserClient(tx, user_id, client_id, now); !s) return s;
  return devices_.ExpireForUserClient(tx, user_id, client_id, now);
}

}  // namespace portcullis::oauth
