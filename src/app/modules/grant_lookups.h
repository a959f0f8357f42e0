#pragma once
// The token service's view of other domains (oauth::GrantLookups), over their stores: the user
// store (the user behind a refresh token), the delegation store (token exchange), the service
// store (RFC 8707 targets) and the client store (upgrading a legacy secret digest, audited).
// It lives in the composition root because it joins domains that do not depend on each other.
//
// Ownership: borrows everything given; all must outlive it. Thread-safe as the stores are;
// calls block (store pool only).

#include "common/clock.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/client/delegation_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/service/service_store.h"
#include "oauth/token/grant.h"
#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::app {

class StoreGrantLookups final : public oauth::GrantLookups {
 public:
  StoreGrantLookups(store::Database& db, oauth::UserStore& users,
                    oauth::DelegationStore& delegations, oauth::ServiceStore& services,
                    oauth::ClientStore& clients, oauth::audit::AuditLog& audit,
                    const oauth::SecretHasher& secrets, const Clock& clock)
      : db_(db),
        users_(users),
        delegations_(delegations),
        services_(services),
        clients_(clients),
        audit_(audit),
        secrets_(secrets),
        clock_(clock) {}

  Result<std::optional<oauth::CurrentUser>> FindUser(store::Tx& tx,
                                                     std::string_view user_id) override;
  Result<std::optional<oauth::ExchangePolicy>> FindDelegation(std::string_view client_id,
                                                              std::string_view audience) override;
  Result<std::optional<std::vector<std::string>>> ServiceScopes(
      std::string_view service_id) override;
  Status UpgradeLegacySecret(std::string_view client_id, std::string_view legacy_hash,
                             const Secret& secret) override;

 private:
  store::Database& db_;
  oauth::UserStore& users_;
  oauth::DelegationStore& delegations_;
  oauth::ServiceStore& services_;
  oauth::ClientStore& clients_;
  oauth::audit::AuditLog& audit_;
  const oauth::SecretHasher& secrets_;
  const Clock& clock_;
};

}  // namespace portcullis::app
