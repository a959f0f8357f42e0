#pragma once
// Remembered consent decisions: a later request for scopes within what the user agreed to is
// not asked again; one that asks for more is, and agreeing adds the new scopes. A consent lasts
// until the user revokes it (or the client is deleted). Storage: ConsentStore
// (consent_store.h). A user is named by realm (the authenticator that signed them in, "" for the
// built-in user store: consent_store.h) and user id.
//
// Ownership: borrows `db` (transactions for Revoke; no SQL goes through it here), `store` and
// `clock`; they must outlive it.
// Thread-safety: all members may be called from any thread; every call blocks on the store.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/code/consent_store.h"

namespace portcullis::store {
class Database;
class Tx;
}  // namespace portcullis::store

namespace portcullis::oauth {

class Consents {
 public:
  // Ends the user's refresh tokens and unredeemed codes at one client inside the given
  // transaction: GrantRevocation::ForUserClient() (refresh/grant_revocation.h) in production.
  // Without one, Revoke fails (Internal) rather than leave the grants.
  using RevokeClientGrants = std::function<Status(store::Tx& tx, std::string_view user_id,
                                                  std::string_view client_id, int64_t now)>;

  Consents(store::Database& db, ConsentStore& store, const Clock& clock,
           RevokeClientGrants revoke = {});

  // True when the user has agreed to every scope in `scope` for the client.
  Result<bool> Covers(std::string_view realm, std::string_view user_id, std::string_view client_id,
                      const std::vector<std::string>& scope) const;
  // Records agreement to `scope`, added to what was agreed before.
  Status Grant(std::string_view realm, std::string_view user_id, std::string_view client_id,
               const std::vector<std::string>& scope);
  // Also revokes the user's refresh tokens and unredeemed codes at the client, in the same
  // transaction. False when there was no consent to revoke.
  Result<bool> Revoke(std::string_view realm, std::string_view user_id, std::string_view client_id);
  // The user's consents, by client id.
  Result<std::vector<Consent>> List(std::string_view realm, std::string_view user_id) const;

 private:
  store::Database& db_;
  ConsentStore& store_;
  const Clock& clock_;
  RevokeClientGrants revoke_;
};

}  // namespace portcullis::oauth
