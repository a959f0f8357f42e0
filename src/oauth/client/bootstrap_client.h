#pragma once
// The bootstrap admin client: a trusted client holding every admin scope, created at start-up
// from configuration (bootstrap.client_id and bootstrap.client_secret) when the store has no
// client of that id, so a fresh installation can obtain an admin token. Grants:
// client_credentials and light-oauth2's bootstrap_token. Idempotent: an existing client is
// returned unchanged (its secret, scope and type stay what an administrator made them).

#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/secret.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client.h"
#include "oauth/client/client_store.h"
#include "oauth/credentials/secret_hash.h"
#include "store/db.h"

namespace portcullis::oauth {

// portal.r portal.w oauth.user.r oauth.user.w oauth.refresh_token.r oauth.refresh_token.w
// read:provider write:provider oauth.key.r oauth.key.w oauth.audit.r oauth.revoked.r. An admin
// can give a client only admin scopes its own token holds (authority.h), so the bootstrap
// client must hold every one a deployment hands out.
const std::vector<std::string>& AdminScopes();

// Runs one transaction of `db`, writing through `store` and `audit`.
Result<Client> EnsureBootstrapClient(store::Database& db, ClientStore& store,
                                     audit::AuditLog& audit, const SecretHasher& secrets,
                                     std::string_view id, const Secret& secret, const Clock& clock);

}  // namespace portcullis::oauth
