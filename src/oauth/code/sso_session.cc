#include "oauth/code/sso_session.h"

#include "common/log.h"
#include "oauth/credentials/token_hash.h"
#include "store/db.h"

namespace portcullis::oauth {

using store::Int;
using store::Text;

SessionStore::SessionStore(store::Database& db, const Clock& clock, Random& random,
                           SessionSettings settings)
    : db_(db), clock_(clock), random_(random), settings_(settings) {}

std::string SessionStore::Key(std::string_view realm, std::string_view cookie) {
  if (realm.empty()) return TokenHash(cookie);
  std::string bound(realm);
  bound += '\n';
  bound += cookie;
  return TokenHash(bound);
}

Result<SessionStore::Created> SessionStore::Create(std::string_view realm, std::string_view user_id,
                                                   bool remember) {
  if (creates_.fetch_add(1) % 256 == 255) {
    if (auto s = Purge(); !s) log::Warn("sso.purge_failed", {{"error", s.error().detail}});
  }
  Created out;
  out.cookie = Secret(random_.Token(32));
  const int64_t now = clock_.Now();
  const int64_t ttl = remember ? settings_.remember_ttl : settings_.ttl;
  out.session = SsoSession{std::string(user_id), remember, now, now + ttl};
  out.max_age = remember ? ttl : 0;
  auto n = db_.Exec(
      "INSERT INTO sso_sessions (session_hash, user_id, created_at, expires_at, remember)"
      " VALUES ($1, $2, $3, $4, $5)",
      {Text(Key(realm, out.cookie.Reveal())), Text(user_id), Int(now), Int(now + ttl),
       Text(remember ? "Y" : "N")});
  if (!n) return Fail(n.error());
  return out;
}

Result<std::optional<SsoSession>> SessionStore::Find(std::string_view realm,
                                                     std::string_view cookie) const {
  if (cookie.empty()) return std::optional<SsoSession>();
  auto row = db_.QueryRow(
      "SELECT user_id, remember, created_at, expires_at FROM sso_sessions"
      " WHERE session_hash = $1 AND expires_at > $2",
      {Text(Key(realm, cookie)), Int(clock_.Now())});
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<SsoSession>();
  const auto& r = **row;
  return std::optional<SsoSession>(SsoSession{r.Str(0), r.Str(1) == "Y", r.Int(2), r.Int(3)});
}

Status SessionStore::Delete(std::string_view realm, std::string_view cookie) {
  if (cookie.empty()) return {};
  auto n = db_.Exec("DELETE FROM sso_sessions WHERE session_hash = $1", {Text(Key(realm, cookie))});
  if (!n) return Fail(n.error());
  return {};
}

Status SessionStore::Purge() {
  auto n = db_.Exec("DELETE FROM sso_sessions WHERE expires_at <= $1", {Int(clock_.Now())});
  if (!n) return Fail(n.error());
  return {};
}

}  // namespace portcullis::oauth
