// The provider service: the federation registry (/oauth2/provider..., api/registry_api.h) and
// `portcullis provider ...`.
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
#include "oauth/provider/provider.h"
#include "store/sql/audit_log.h"
#include "store/sql/provider_store.h"

namespace portcullis::app {
namespace {

using cli::Die;
using cli::Done;
using cli::Output;
using cli::Refused;
using cli::UpsertBody;

// ---- CLI: portcullis provider ... ----

int RunProviderCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  store::SqlProviderStore provider_store(*env.db);
  store::SqlAuditLog audit(*env.db);
  oauth::ProviderService providers(*env.db, provider_store, audit, env.clock);
  providers.AllowHttpLoopback(env.config.federation.allow_http_loopback);
  if (cmd == "create" || cmd == "update") {
    auto body = UpsertBody(s, "provider", cmd, "providerId");
    if (!body) return Refused(body.error());
    auto patch = oauth::ProviderPatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    auto r =
        cmd == "create" ? providers.Create(*patch, env.actor) : providers.Update(*patch, env.actor);
    return r ? Output(s, oauth::ProviderToJson(*r)) : Refused(r.error());
  }
  if (cmd == "list") {
    auto list = providers.List();
    if (!list) return Refused(list.error());
    return Output(s, JsonArray(*list, oauth::ProviderToJson),
                  {"providerId", "serverUrl", "uri", "providerName"});
  }
  if (cmd == "get") {
    auto r = providers.Get(s.id);
    return r ? Output(s, oauth::ProviderToJson(*r)) : Refused(r.error());
  }
  if (cmd == "delete") {
    auto st = providers.Delete(s.id, env.actor);
    return st ? Done(s, "deleted provider " + s.id) : Refused(st.error());
  }
  return Die("provider " + cmd + ": unknown command");
}

void AddProvider(cli::Builder& b) {
  auto* g = b.AddGroup("provider", "Federation registry");
  for (std::string name : {"create", "update"}) {
    auto* c = b.Upsert(g, name, name == "create" ? "Register a provider" : "Change a provider",
                       "providerId", "Provider id", "Two-digit provider id");
    std::string cmd = "provider " + name;
    b.Data(c);
    b.Field(c, cmd, "--server-url", "serverUrl", cli::FieldFlag::kString, "Peer URL");
    b.Field(c, cmd, "--uri", "uri", cli::FieldFlag::kString, "Key path on the peer");
    b.Field(c, cmd, "--name", "providerName", cli::FieldFlag::kString, "Name");
  }
  b.Leaf(g, "list", "List providers");
  b.Id(b.Leaf(g, "get", "Show a provider"), "Provider id");
  b.Id(b.Leaf(g, "delete", "Delete a provider"), "Provider id");
}

const cli::Group kCli{"provider", &AddProvider, &RunProviderCommand};

}  // namespace

const ModuleSpec kProviderModule{"provider",
                                 &RegistryModule<&api::RegistryRoutes::AddProvider>::Build, &kCli};

}  // namespace portcullis::app
