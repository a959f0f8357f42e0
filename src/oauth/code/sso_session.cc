#include "oauth/code/sso_session.h"

#include "common/log.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {

SsoSessions::SsoSessions(SessionStore& store, const Clock& clock, Random& random,
                         SessionSettings settings)
    : store_(store), clock_(clock), random_(random), settings_(settings) {}

std::string SsoSessions::Key(std::string_view realm, std::string_view cookie) {
  if (realm.empty()) return TokenHash(cookie);
  std::string bound(realm);
  bound += '\n';
  bound += cookie;
  return TokenHash(bound);
}

Result<SsoSessions::Created> SsoSessions::Create(std::string_view realm, std::string_view user_id,
                                                 bool remember, std::string_view amr,
                                                 std::optional<int64_t> auth_time) {
  if (creates_.fetch_add(1) % 256 == 255) {
    if (auto s = Purge(); !s) log::Warn("sso.purge_failed", {{"error", s.error().detail}});
  }
  Created out;
  out.cookie = Secret(random_.Token(32));
  const int64_t now = clock_.Now();
  const int64_t ttl = remember ? settings_.remember_ttl : settings_.ttl;
  out.session = SsoSession{std::string(user_id), remember, now, now + ttl};
  out.session.sid = random_.Token(16);
  out.session.amr = std::string(amr);
  if (auth_time && *auth_time < now) out.session.created_at = *auth_time;
  out.max_age = remember ? ttl : 0;
  if (auto s = store_.Insert(Key(realm, out.cookie.Reveal()), out.session); !s) {
    return Fail(s.error());
  }
  return out;
}

Result<std::optional<SsoSession>> SsoSessions::Find(std::string_view realm,
                                                    std::string_view cookie) const {
  if (cookie.empty()) return std::optional<SsoSession>();
  return store_.Find(Key(realm, cookie), clock_.Now());
}

Status SsoSessions::Delete(std::string_view realm, std::string_view cookie) {
  if (cookie.empty()) return {};
  return store_.Delete(Key(realm, cookie));
}

Status SsoSessions::Purge() { return store_.Purge(clock_.Now()); }

}  // namespace portcullis::oauth
