#include "oauth/user/user_access.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "oauth/user/user.h"

namespace portcullis::oauth {

// The user registry holds the built-in store's users: their consents are those of realm "".
constexpr std::string_view kLocalRealm = "";
namespace {

namespace json = boost::json;

Error NotFound(std::string description) {
  return Error::OAuth(404, "not_found", std::move(description));
}

}  // namespace

UserAccess::UserAccess(store::Database& db, UserStore& users, SessionStore& sessions,
                       ConsentStore& consents, audit::AuditLog& audit, const Clock& clock,
                       Hooks hooks)
    : db_(db),
      users_(users),
      sessions_(sessions),
      consents_(consents),
      audit_(audit),
      clock_(clock),
      hooks_(std::move(hooks)) {}

Status UserAccess::CheckReach(std::string_view user_id, const Authority& by) {
  auto u = users_.Find(user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return Fail(UserNotFound(user_id));
  // Rule 3: a non-admin user reaches only its own record (roles unchanged: nothing given).
  return CheckUserWrite(by, user_id, &(*u)->roles, &(*u)->roles);
}

Result<std::vector<SsoSession>> UserAccess::Sessions(std::string_view user_id,
                                                     const Authority& by) {
  if (auto st = CheckReach(user_id, by); !st) return Fail(std::move(st.error()));
  return sessions_.ListForUser(user_id, clock_.Now());
}

Status UserAccess::RevokeSession(std::string_view user_id, std::string_view sid,
                                 std::string_view actor, const Authority& by) {
  if (!hooks_.revoke_session_grants) {
    return Fail(Error::Internal("session revocation without grant revocation"));
  }
  if (auto st = CheckReach(user_id, by); !st) return st;
  return db_.Transact("user.session_revoke", [&](store::Tx& tx) -> Status {
    // Only a session of this user ends, and only then is anyone told (another user's sid gets
    // the unknown one's answer).
    auto gone = sessions_.DeleteBySid(tx, user_id, sid);
    if (!gone) return Fail(std::move(gone.error()));
    if (!*gone) return Fail(NotFound("The user has no such session."));
    // What was issued in the session ends with it: its refresh tokens.
    if (auto st = hooks_.revoke_session_grants(tx, user_id, sid, clock_.Now()); !st) return st;
    if (hooks_.on_session_end) {
      if (auto st = hooks_.on_session_end(tx, sid); !st) return st;
    }
    json::object before;
    before["userId"] = user_id;
    before["sid"] = sid;
    return audit_.Record(tx, clock_.Now(),
                         {std::string(actor), "user.session_revoke", "user", std::string(user_id),
                          json::value(std::move(before)), std::nullopt});
  });
}

Result<int64_t> UserAccess::RevokeSessions(std::string_view user_id, std::string_view actor,
                                           const Authority& by) {
  if (!hooks_.revoke_user_session_grants) {
    return Fail(Error::Internal("session revocation without grant revocation"));
  }
  if (auto st = CheckReach(user_id, by); !st) return Fail(std::move(st.error()));
  return db_.TransactValue<int64_t>("user.sessions_revoke", [&](store::Tx& tx) -> Result<int64_t> {
    const int64_t now = clock_.Now();
    // Read in the transaction: a second pool connection while it holds one could starve the
    // pool under concurrent revocations (PostgreSQL).
    auto live = sessions_.ListForUser(tx, user_id, now);
    if (!live) return Fail(std::move(live.error()));
    if (auto st = hooks_.revoke_user_session_grants(tx, user_id, now); !st) {
      return Fail(std::move(st.error()));
    }
    if (hooks_.on_user_sessions_end) {
      if (auto st = hooks_.on_user_sessions_end(tx, user_id); !st) {
        return Fail(std::move(st.error()));
      }
    }
    if (auto st = sessions_.DeleteForUser(tx, user_id); !st) {
      return Fail(std::move(st.error()));
    }
    json::object before;
    before["userId"] = user_id;
    before["sessions"] = static_cast<int64_t>(live->size());
    if (auto st =
            audit_.Record(tx, now,
                          {std::string(actor), "user.sessions_revoke", "user", std::string(user_id),
                           json::value(std::move(before)), std::nullopt});
        !st) {
      return Fail(std::move(st.error()));
    }
    return static_cast<int64_t>(live->size());
  });
}

Result<std::vector<Consent>> UserAccess::Consents(std::string_view user_id, const Authority& by) {
  if (auto st = CheckReach(user_id, by); !st) return Fail(std::move(st.error()));
  return consents_.List(kLocalRealm, user_id);
}

Status UserAccess::RevokeConsent(std::string_view user_id, std::string_view client_id,
                                 std::string_view actor, const Authority& by) {
  if (!hooks_.revoke_client_grants) {
    return Fail(Error::Internal("consent revocation without grant revocation"));
  }
  if (auto st = CheckReach(user_id, by); !st) return st;
  return db_.Transact("user.consent_revoke", [&](store::Tx& tx) -> Status {
    auto found = consents_.Find(tx, kLocalRealm, user_id, client_id);
    if (!found) return Fail(std::move(found.error()));
    auto gone = consents_.Delete(tx, kLocalRealm, user_id, client_id);
    if (!gone) return Fail(std::move(gone.error()));
    if (!*gone) return Fail(NotFound("The user has no consent for this client."));
    const int64_t now = clock_.Now();
    if (auto st = hooks_.revoke_client_grants(tx, user_id, client_id, now); !st) return st;
    json::object before;
    before["userId"] = user_id;
    before["clientId"] = client_id;
    if (*found) before["scope"] = JoinScope((*found)->scope);
    return audit_.Record(tx, now,
                         {std::string(actor), "user.consent_revoke", "user", std::string(user_id),
                          json::value(std::move(before)), std::nullopt});
  });
}

json::object SessionToJson(const SsoSession& s) {
  json::object o;
  o["sid"] = s.sid;  // empty for sessions made before sids existed: not revocable one by one
  o["createdAt"] = s.created_at;
  o["expiresAt"] = s.expires_at;
  o["remember"] = s.remember;
  o["amr"] = s.amr;
  if (!s.acr.empty()) o["acr"] = s.acr;
  return o;
}

json::object ConsentToJson(const Consent& c) {
  json::object o;
  o["clientId"] = c.client_id;
  o["scope"] = JoinScope(c.scope);
  o["createdAt"] = c.created_at;
  return o;
}

}  // namespace portcullis::oauth
