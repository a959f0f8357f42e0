// The refresh-token service: the admin view of refresh tokens (/oauth2/refresh_token...,
// api/registry_api.h) and `portcullis refresh-token ...`.
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_api.h"
#include "app/cli_support.h"
#include "app/modules/module.h"
#include "app/modules/registry_module.h"
#include "app/modules/shared.h"
#include "common/json_array.h"
#include "common/random.h"
#include "oauth/refresh/refresh_admin.h"
#include "store/sql/audit_log.h"
#include "store/sql/refresh_token_store.h"

namespace portcullis::app {
namespace {

using cli::Die;
using cli::Done;
using cli::Output;
using cli::OutputPage;
using cli::Refused;

// ---- CLI: portcullis refresh-token ... ----

int RunRefreshTokenCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  store::SqlRefreshTokenStore token_store(*env.db);
  store::SqlAuditLog audit(*env.db);
  oauth::RefreshTokenAdmin tokens(*env.db, token_store, audit, env.clock);
  if (cmd == "list") {
    int64_t page = s.page < 1 ? 1 : s.page;
    auto list = tokens.List({.user_id_prefix = s.filter, .client_id = s.client_filter},
                            (page - 1) * s.page_size, s.page_size);
    if (!list) return Refused(list.error());
    // With --json, the page and the count of every match (the API's X-Total-Count), as
    // `client list` does.
    return OutputPage(s, "tokens", JsonArray(list->tokens, oauth::RefreshTokenToJson), list->total,
                      {"tokenHash", "userId", "clientId", "scope", "expiresAt"});
  }
  if (cmd == "get") {
    auto t = tokens.Get(s.id);
    return t ? Output(s, oauth::RefreshTokenToJson(*t)) : Refused(t.error());
  }
  if (cmd == "delete") {
    auto t = tokens.Delete(s.id, env.actor);
    return t ? Done(s, "revoked the token family " + t->family_id) : Refused(t.error());
  }
  return Die("refresh-token " + cmd + ": unknown command");
}

void AddRefreshToken(cli::Builder& b) {
  auto* g = b.AddGroup("refresh-token", "Refresh tokens (admin view)");
  auto* list = b.Leaf(g, "list", "List active refresh tokens by user and client");
  b.Paging(list, "1");
  list->add_option("--user", b.s.filter, "User id prefix");
  list->add_option("--client", b.s.client_filter, "Client id (exact)");
  b.Id(b.Leaf(g, "get", "Show a token (by token or tokenHash)"), "Token or tokenHash");
  b.Id(b.Leaf(g, "delete", "Revoke a token's family"), "Token or tokenHash");
}

const cli::Group kCli{"refresh-token", &AddRefreshToken, &RunRefreshTokenCommand};

}  // namespace

const ModuleSpec kRefreshTokenModule{
    "refresh-token", &RegistryModule<&api::RegistryRoutes::AddRefreshToken>::Build, &kCli};

}  // namespace portcullis::app
