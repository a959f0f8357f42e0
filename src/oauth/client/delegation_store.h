#pragma once
// Token-exchange delegation policies (RFC 8693; table delegation_policies): which client may
// exchange a subject token toward which audience (a registered service), with which scopes, and
// up to what chain depth. The token-exchange grant reads them with Find; the admin API
// (api/delegation_api.h) lists and replaces them. SQL: store::SqlDelegationStore
// (src/store/sql/delegation_store.h); fake: MemoryDelegationStore (memory_delegation_store.h).
// A client's policies are deleted with the client (ClientStore::Delete).
//
// Thread-safety: implementations are safe from any thread; calls block (store pool only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "store/db.h"

namespace portcullis::oauth {

struct DelegationPolicy {
  std::string client_id;
  std::string audience;              // a service id
  std::vector<std::string> scopes;   // the scopes the exchanged token may carry, in order
  std::optional<int64_t> max_depth;  // the longest act chain; nullopt: the configured default
};

class DelegationStore {
 public:
  virtual ~DelegationStore() = default;

  // The policy of `client_id` toward `audience`, or nullopt. Stands alone (an autocommit read).
  virtual Result<std::optional<DelegationPolicy>> Find(std::string_view client_id,
                                                       std::string_view audience) = 0;

  // In the caller's transaction:
  // The client's policies, sorted by audience.
  virtual Result<std::vector<DelegationPolicy>> List(store::Tx& tx, std::string_view client_id) = 0;
  // Replaces all of the client's policies by `policies` (their client_id is ignored).
  virtual Status Replace(store::Tx& tx, std::string_view client_id,
                         const std::vector<DelegationPolicy>& policies) = 0;
  // Removes every policy of the client.
  virtual Status Delete(store::Tx& tx, std::string_view client_id) = 0;
  // Whether `audience` names a registered service (a policy's audience must).
  virtual Result<bool> AudienceExists(store::Tx& tx, std::string_view audience) = 0;
};

}  // namespace portcullis::oauth
