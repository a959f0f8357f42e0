#pragma once
// What a user holds that an administrator may see and end (the console's user page, README
// "Console"): the user's single sign-on sessions and remembered consents.
//
//   Sessions         the live SSO sessions, by public id (sid); never their keys or cookies.
//   RevokeSession    ends one session, if it is that user's (another user's sid: 404, as an
//                    unknown one), with what follows a session's end (back-channel logout) and
//                    the refresh tokens issued in it.
//   RevokeSessions   ends every session of the user, likewise.
//   Consents         the remembered consents, by client id.
//   RevokeConsent    forgets one consent and ends the user's refresh tokens and unredeemed codes
//                    at that client (as the user's own revocation does: oauth/code/consents.h).
//
// Every revocation commits with its audit row in one transaction. Reads and writes check the
// caller like the other user routes (authority.h rule 3): a caller acting for a non-admin user
// reaches only its own sessions and consents. Unknown users: ERR12013 (404).
//
// Ownership: borrows every constructor argument; they must outlive it. The hooks are called
// inside the revocation's transaction. Thread-safety: safe from any thread; calls block (store
// I/O): never on an I/O thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/audit/audit.h"
#include "oauth/client/authority.h"
#include "oauth/code/consent_store.h"
#include "oauth/code/session_store.h"
#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::oauth {

class UserAccess {
 public:
  struct Hooks {
    // Before one session ends (sid): back-channel logout queues its tokens
    // (logout/backchannel.h SessionLogoutHook). Optional.
    std::function<Status(store::Tx&, std::string_view sid)> on_session_end;
    // Before every session of a user ends (UserLogoutHook). Optional.
    std::function<Status(store::Tx&, std::string_view user_id)> on_user_sessions_end;
    // Ends the user's refresh tokens and codes at a client (GrantRevocation::ForUserClient).
    // Required for RevokeConsent (Internal without it, rather than leave the grants).
    std::function<Status(store::Tx&, std::string_view user_id, std::string_view client_id,
                         int64_t now)>
        revoke_client_grants;
    // Ends the refresh tokens issued in one SSO session of the user (GrantRevocation::
    // ForUserSession), and in any of them (ForUserSessions). Required for RevokeSession and
    // RevokeSessions: an ended session's tokens must not keep refreshing.
    std::function<Status(store::Tx&, std::string_view user_id, std::string_view sid, int64_t now)>
        revoke_session_grants;
    std::function<Status(store::Tx&, std::string_view user_id, int64_t now)>
        revoke_user_session_grants;
  };

  UserAccess(store::Database& db, UserStore& users, SessionStore& sessions, ConsentStore& consents,
             audit::AuditLog& audit, const Clock& clock, Hooks hooks);

  Result<std::vector<SsoSession>> Sessions(std::string_view user_id, const Authority& by);
  // 404 not_found when the user has no such session.
  Status RevokeSession(std::string_view user_id, std::string_view sid, std::string_view actor,
                       const Authority& by);
  // The number of sessions ended.
  Result<int64_t> RevokeSessions(std::string_view user_id, std::string_view actor,
                                 const Authority& by);
  Result<std::vector<Consent>> Consents(std::string_view user_id, const Authority& by);
  // 404 not_found when the user has no consent for the client.
  Status RevokeConsent(std::string_view user_id, std::string_view client_id, std::string_view actor,
                       const Authority& by);

 private:
  // ERR12013 for an unknown user, ERR11620 for a caller that may not reach them.
  Status CheckReach(std::string_view user_id, const Authority& by);

  store::Database& db_;
  UserStore& users_;
  SessionStore& sessions_;
  ConsentStore& consents_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Hooks hooks_;
};

// The admin API's JSON of a session and of a consent (GET /oauth2/user/{id}/sessions|consents),
// shared with `portcullis user sessions|consents`.
boost::json::object SessionToJson(const SsoSession& s);
boost::json::object ConsentToJson(const Consent& c);

}  // namespace portcullis::oauth
