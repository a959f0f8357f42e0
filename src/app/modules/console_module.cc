// The console service: the admin console at /console (api/console_api.h) and the first run
// (app/first_run.h). It serves no admin API of its own: its /console/api routes forward to the
// admin routes of the modules in the same process, and its sign-in redeems codes at this
// process's token endpoint, so a process that serves the console also serves code, token and
// the registries it shows (the default, `all`, does).
//
// At start-up it creates the `admin` user of a first run (an empty store and no bootstrap
// client), then the built-in public client `portcullis-console` (authorization_code with PKCE,
// every admin scope, the exact redirect URI issuer + /console/callback), or corrects the
// redirect URI of an existing one when the issuer changed.
//
// It also serves GET /oauth2/instances (api/instance_api.h), the instances that recorded
// themselves (app/services.cc), for the dashboard.
#include <algorithm>

#include <boost/json/value.hpp>

#include "api/console_api.h"
#include "api/instance_api.h"
#include "app/first_run.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"
#include "common/log.h"
#include "oauth/client/bootstrap_client.h"
#include "oauth/client/client.h"
#include "oauth/client/client_json.h"
#include "store/sql/instance_store.h"

namespace portcullis::app {
namespace {

// The console's client as it should be; an existing row keeps what an administrator changed
// except the redirect URI, which must follow the issuer.
Result<oauth::Client> EnsureConsoleClient(Shared& shared) {
  const std::string id(api::kConsoleClientId);
  const std::string redirect = api::ConsoleRedirectUri(shared.config().server.issuer);
  const int64_t now = shared.clock().Now();
  return shared.db().TransactValue<oauth::Client>(
      "client.console", [&](store::Tx& tx) -> Result<oauth::Client> {
        auto existing = shared.client_store().LoadForUpdate(tx, id);
        if (!existing) return Fail(std::move(existing.error()));
        std::optional<boost::json::value> before;
        oauth::Client c;
        if (*existing) {
          c = std::move(**existing);
          if (c.redirect_uris == std::vector<std::string>{redirect}) return c;
          before = boost::json::value(oauth::ClientToJson(c));
          c.redirect_uris = {redirect};
          c.updated_at = now;
          auto updated = shared.client_store().Update(tx, c);
          if (!updated) return Fail(std::move(updated.error()));
        } else {
          c.client_id = id;
          c.client_type = oauth::ClientType::kPublic;
          c.client_profile = "browser";
          c.client_name = "Portcullis console";
          c.client_desc = "The admin console at /console, built in.";
          c.scope = oauth::AdminScopes();
          c.redirect_uris = {redirect};
          c.grant_types = {"authorization_code"};
          c.auth_method = oauth::AuthMethod::kNone;
          c.auth_method_explicit = true;
          c.owner_id = "portcullis";
          c.host = "localhost";
          c.created_at = c.updated_at = now;
          if (auto st = shared.client_store().Insert(tx, c); !st) {
            return Fail(std::move(st.error()));
          }
        }
        if (auto st = tx.Notify("client", c.client_id); !st) return Fail(std::move(st.error()));
        if (auto st = shared.audit().Record(
                tx, now,
                {"console", before ? "client.update" : "client.create", "client", c.client_id,
                 std::move(before), boost::json::value(oauth::ClientToJson(c))});
            !st) {
          return Fail(std::move(st.error()));
        }
        return c;
      });
}

class ConsoleModule final : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    auto first = EnsureFirstRunAdmin(shared.config(), shared.db(), shared.user_store(),
                                     shared.client_store(), shared.audit(), shared.clock(),
                                     shared.random(), api::kConsoleClientId);
    if (!first) return Fail(std::move(first.error()));
    auto client = EnsureConsoleClient(shared);
    if (!client) {
      // Another instance inserted it between our read and our insert: it is there now.
      if (client.error().code != "ERR12019") return Fail(std::move(client.error()));
    }
    auto clients = shared.Clients();
    if (!clients) return Fail(std::move(clients.error()));
    // The catalog may have loaded before the row existed; the notification arrives later.
    if (auto st = (*clients)->Refresh(api::kConsoleClientId); !st)
      return Fail(std::move(st.error()));
    return std::unique_ptr<Module>(new ConsoleModule(shared));
  }

  Status Register(http::Router& router) override {
    auto auth = shared_.AdminAuth();
    if (!auth) return Fail(std::move(auth.error()));
    api::RegisterInstanceApi(router, **auth, instances_, shared_.clock());
    const Config& c = shared_.config();
    std::string scope;
    for (const auto& s : oauth::AdminScopes()) scope += (scope.empty() ? "" : " ") + s;
    api::RegisterConsoleApi(router,
                            {c.server.issuer, scope, c.server.issuer.starts_with("https://")},
                            shared_.master(), shared_.clock(), shared_.random());
    return {};
  }

 private:
  explicit ConsoleModule(Shared& shared) : shared_(shared), instances_(shared.db()) {}
  Shared& shared_;
  store::SqlInstanceStore instances_;
};

}  // namespace

const ModuleSpec kConsoleModule{"console", &ConsoleModule::Build};

}  // namespace portcullis::app
