#include "oauth/client/bootstrap_client.h"

#include <boost/json/value.hpp>

#include "oauth/client/client_json.h"
#include "oauth/client/validation.h"

namespace portcullis::oauth {

const std::vector<std::string>& AdminScopes() {
  static const std::vector<std::string> scopes = {"portal.r",
                                                  "portal.w",
                                                  "oauth.user.r",
                                                  "oauth.user.w",
                                                  "oauth.refresh_token.r",
                                                  "oauth.refresh_token.w",
                                                  "read:provider",
                                                  "write:provider",
                                                  "oauth.key.r",
                                                  "oauth.key.w",
                                                  "oauth.audit.r",
                                                  "oauth.revoked.r"};
  return scopes;
}

Result<Client> EnsureBootstrapClient(store::Database& db, ClientStore& store,
                                     audit::AuditLog& audit, const SecretHasher& secrets,
                                     std::string_view id, const Secret& secret,
                                     const Clock& clock) {
  if (auto st = CheckId("bootstrap.client_id", id, 64); !st) return Fail(std::move(st.error()));
  if (secret.empty()) return Fail(FieldError("bootstrap.client_secret", "is required"));
  return db.TransactValue<Client>("client.bootstrap", [&](store::Tx& tx) -> Result<Client> {
    auto existing = store.Load(tx, id);
    if (!existing) return Fail(std::move(existing.error()));
    if (*existing) return std::move(**existing);
    Client c;
    c.client_id = std::string(id);
    c.client_type = ClientType::kTrusted;
    c.client_profile = "service";
    c.client_name = "Portcullis bootstrap";
    c.client_desc = "Admin client created from bootstrap.client_id at start-up.";
    c.secret_hash = secrets.Digest(secret.Reveal());
    c.scope = AdminScopes();
    // light-oauth2's bootstrap client also obtains bootstrap tokens (reference §4.5).
    c.grant_types = {"client_credentials", "bootstrap_token"};
    c.owner_id = "portcullis";
    c.host = "localhost";
    c.created_at = c.updated_at = clock.Now();
    if (auto st = store.Insert(tx, c); !st) return Fail(std::move(st.error()));
    if (auto st = tx.Notify("client", c.client_id); !st) return Fail(std::move(st.error()));
    if (auto st = audit.Record(tx, c.created_at,
                               {"bootstrap", "client.create", "client", c.client_id, std::nullopt,
                                boost::json::value(ClientToJson(c))});
        !st) {
      return Fail(std::move(st.error()));
    }
    return c;
  });
}

}  // namespace portcullis::oauth
