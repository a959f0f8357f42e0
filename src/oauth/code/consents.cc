#include "oauth/code/consents.h"

#include <algorithm>

#include "store/db.h"

namespace portcullis::oauth {

Consents::Consents(store::Database& db, ConsentStore& store, const Clock& clock,
                   RevokeClientGrants revoke)
    : db_(db),
      store_(store),
      clock_(clock),
      revoke_(revoke ? std::move(revoke)
                     : [](store::Tx&, std::string_view, std::string_view, int64_t) -> Status {
        return Fail(Error::Internal("no grant revocation wired"));
      }) {}

Result<bool> Consents::Covers(std::string_view realm, std::string_view user_id,
                              std::string_view client_id,
                              const std::vector<std::string>& scope) const {
  auto consent = store_.Find(realm, user_id, client_id);
  if (!consent) return Fail(consent.error());
  if (!*consent) return false;
  const auto& granted = (*consent)->scope;
  return std::all_of(scope.begin(), scope.end(), [&](const std::string& s) {
    return std::find(granted.begin(), granted.end(), s) != granted.end();
  });
}

Status Consents::Grant(std::string_view realm, std::string_view user_id, std::string_view client_id,
                       const std::vector<std::string>& scope) {
  return store_.Widen(realm, user_id, client_id, scope, clock_.Now());
}

Result<bool> Consents::Revoke(std::string_view realm, std::string_view user_id,
                              std::string_view client_id) {
  const int64_t now = clock_.Now();
  return db_.TransactValue<bool>("consent.revoke", [&](store::Tx& tx) -> Result<bool> {
    auto deleted = store_.Delete(tx, realm, user_id, client_id);
    if (!deleted) return Fail(deleted.error());
    // What the consent let the client obtain ends with it, in the same transaction: its refresh
    // tokens for this user would otherwise keep working for their whole lifetime.
    if (auto s = revoke_(tx, user_id, client_id, now); !s) return Fail(s.error());
    return *deleted;
  });
}

Result<std::vector<Consent>> Consents::List(std::string_view realm,
                                            std::string_view user_id) const {
  return store_.List(realm, user_id);
}

}  // namespace portcullis::oauth
