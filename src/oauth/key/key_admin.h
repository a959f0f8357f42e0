#pragma once
// Key changes an administrator asks for (rotate now, emergency revoke: the admin API and
// `portcullis keys`), each recorded in the audit log like every other admin change. Scheduled
// transitions (KeyManager::Tick: promotion, retirement) are not admin changes and are not
// recorded.
//
// The key store has no transactions of its own (key_store.h), so an entry cannot commit with the
// change: KeyAdmin lists the keys before and after the change and records one entry per key
// whose record differs (action "key.rotate" or "key.revoke", entity "key", the kid), in one
// transaction right after it. A failure to record is returned (the change stays made). A
// scheduled Tick of another instance that lands between the two listings is attributed to the
// same actor; it is a key change all the same.
//
// Ownership: borrows everything; all must outlive it. Thread-safe as KeyManager and the audit
// log are; calls block (store pool or CLI thread only).

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/audit/audit.h"
#include "oauth/key/key_manager.h"
#include "oauth/key/signing_key.h"
#include "store/db.h"

namespace portcullis::oauth {

// The admin JSON of a key, as GET /oauth2/keys/admin, `keys list --json` and the audit log show
// it: kid, alg, state, and publishAt, activateAt, retiredAt, expiresAt in unix seconds (0: not
// set). No key material.
boost::json::object KeyToJson(const SigningKeyRecord& record);

class KeyAdmin {
 public:
  KeyAdmin(KeyManager& keys, store::Database& db, audit::AuditLog& audit, const Clock& clock)
      : keys_(keys), db_(db), audit_(audit), clock_(clock) {}

  // KeyManager::Rotate, audited as "key.rotate" by `actor`.
  Result<std::string> Rotate(std::string_view actor);
  // KeyManager::Revoke, audited as "key.revoke" by `actor` (nothing is recorded when the key was
  // already out of the JWKS: nothing changed).
  Status Revoke(std::string_view kid, std::string_view actor);

 private:
  Status RecordChanges(std::string_view action, std::string_view actor,
                       const std::vector<SigningKeyRecord>& before);

  KeyManager& keys_;
  store::Database& db_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
