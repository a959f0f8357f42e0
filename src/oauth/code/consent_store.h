#pragma once
// Persistence of remembered consent decisions (table consents): one record per user and client
// with the scopes the user agreed to. A user is named by realm and user id: the realm is the
// authenticator that signed them in, as SSO sessions are keyed ("" for the built-in user store,
// else the configured authenticator's name, e.g. an LDAP directory), so a local account and a
// directory account of the same name never share a consent. The SQL implementation is
// store::SqlConsentStore (store/sql/consent_store.h); unit tests use MemoryConsentStore
// (memory_consent_store.h). The rules (what covers what, what a revocation ends) are in Consents
// (consents.h).
//
// A consent names a registered client: the SQL store refuses one for an unknown client (foreign
// key) and drops a client's consents with the client.
//
// Thread-safety: implementations are safe from many threads at once. Calls block (store I/O):
// never on an I/O thread. Nothing borrowed outlives a call.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

struct Consent {
  std::string client_id;
  std::vector<std::string> scope;
  int64_t created_at = 0;  // when it was last granted or widened
};

class ConsentStore {
 public:
  virtual ~ConsentStore() = default;

  // The user's consent for the client, or nullopt.
  virtual Result<std::optional<Consent>> Find(std::string_view realm, std::string_view user_id,
                                              std::string_view client_id) = 0;
  // The same inside `tx` (read with a revocation: no second pool connection while the
  // transaction holds one).
  virtual Result<std::optional<Consent>> Find(store::Tx& tx, std::string_view realm,
                                              std::string_view user_id,
                                              std::string_view client_id) = 0;
  // Adds the scopes of `scope` not yet agreed to (keeping the order, new ones last), creating
  // the consent if needed, and sets its created_at to `now`: read and write in one transaction
  // of its own.
  virtual Status Widen(std::string_view realm, std::string_view user_id, std::string_view client_id,
                       const std::vector<std::string>& scope, int64_t now) = 0;
  // Deletes the consent inside `tx`; false when there was none.
  virtual Result<bool> Delete(store::Tx& tx, std::string_view realm, std::string_view user_id,
                              std::string_view client_id) = 0;
  // The user's consents, by client id (bytewise).
  virtual Result<std::vector<Consent>> List(std::string_view realm, std::string_view user_id) = 0;
};

}  // namespace portcullis::oauth
