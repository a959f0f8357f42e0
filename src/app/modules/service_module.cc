// The service service: the service and endpoint registry (/oauth2/service...,
// api/registry_api.h) and `portcullis service ...`. Its writes refresh this process's service
// catalog when the token module built one (Shared::ServicesIfBuilt).
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
#include "oauth/client/validation.h"
#include "oauth/service/service_registry.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"
#include "store/sql/service_store.h"

namespace portcullis::app {
namespace {

using cli::Die;
using cli::Done;
using cli::Output;
using cli::OutputPage;
using cli::ReadData;
using cli::Refused;
using cli::UpsertBody;

// ---- CLI: portcullis service ... ----

int RunServiceCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  store::SqlServiceStore service_store(*env.db);
  store::SqlAuditLog audit(*env.db);
  store::SqlClientStore client_store(*env.db);
  oauth::ServiceRegistry services(*env.db, service_store, client_store, audit, env.clock, nullptr,
                                  nullptr);
  if (cmd == "create" || cmd == "update") {
    auto body = UpsertBody(s, "service", cmd, "serviceId");
    if (!body) return Refused(body.error());
    auto patch = oauth::ServicePatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    auto r = cmd == "create" ? services.Create(*patch, env.actor, "admin")
                             : services.Update(s.id, *patch, env.actor);
    return r ? Output(s, oauth::ServiceToJson(*r)) : Refused(r.error());
  }
  if (cmd == "list") {
    int64_t page = s.page < 0 ? 0 : s.page;
    auto list = services.List(s.filter, page * s.page_size, s.page_size);
    if (!list) return Refused(list.error());
    return OutputPage(s, "services", JsonArray(list->services, oauth::ServiceToJson), list->total,
                      {"serviceId", "serviceName", "serviceType", "host", "scope"});
  }
  if (cmd == "get") {
    auto r = services.Get(s.id);
    return r ? Output(s, oauth::ServiceToJson(*r)) : Refused(r.error());
  }
  if (cmd == "delete") {
    auto r = services.Delete(s.id, env.actor);
    return r ? Done(s, "deleted service " + s.id) : Refused(r.error());
  }
  if (cmd == "endpoints") {
    auto r = services.Endpoints(s.id);
    if (!r) return Refused(r.error());
    return Output(s, JsonArray(*r, oauth::EndpointToJson), {"endpoint", "operation", "scope"});
  }
  if (cmd == "set-endpoints") {
    auto text = ReadData(s.data.empty() ? "-" : s.data);
    if (!text) return Refused(text.error());
    auto v = oauth::ParseStrictJson(*text, "--data");
    if (!v) return Refused(v.error());
    auto eps = oauth::EndpointsFromJson(*v);
    if (!eps) return Refused(eps.error());
    auto st = services.SetEndpoints(s.id, *eps, env.actor);
    return st ? Done(s, "set " + std::to_string(eps->size()) + " endpoint(s) of " + s.id)
              : Refused(st.error());
  }
  if (cmd == "delete-endpoints") {
    auto st = services.DeleteEndpoints(s.id, env.actor);
    return st ? Done(s, "deleted the endpoints of " + s.id) : Refused(st.error());
  }
  return Die("service " + cmd + ": unknown command");
}

void AddService(cli::Builder& b) {
  auto* g = b.AddGroup("service", "Service (API) registry");
  for (std::string name : {"create", "update"}) {
    auto* c = b.Upsert(g, name, name == "create" ? "Register a service" : "Change a service",
                       "serviceId", "Service id", "Service id");
    std::string cmd = "service " + name;
    b.Data(c);
    b.Field(c, cmd, "--type", "serviceType", cli::FieldFlag::kString,
            "openapi | swagger | graphql | hybrid");
    b.Field(c, cmd, "--name", "serviceName", cli::FieldFlag::kString, "Name");
    b.Field(c, cmd, "--desc", "serviceDesc", cli::FieldFlag::kString, "Description");
    b.Field(c, cmd, "--host", "host", cli::FieldFlag::kString, "Host (tenant)");
    b.Field(c, cmd, "--owner", "ownerId", cli::FieldFlag::kString, "Owner user id");
    b.Field(c, cmd, "--scope", "scope", cli::FieldFlag::kString, "Service-wide scopes");
    b.Field(c, cmd, "--path-case", "pathCase", cli::FieldFlag::kString,
            "exact | insensitive: how the upstream routes letter case (for /oauth2/verify)");
  }
  auto* list = b.Leaf(g, "list", "List services by id");
  b.Paging(list, "0");
  list->add_option("--host", b.s.filter, "Host prefix");
  for (auto [name, help] : {std::pair{"get", "Show a service"},
                            std::pair{"delete", "Delete a service, its endpoints and links"},
                            std::pair{"endpoints", "List a service's endpoints"},
                            std::pair{"delete-endpoints", "Delete a service's endpoints"}}) {
    b.Id(b.Leaf(g, name, help), "Service id");
  }
  auto* set = b.Leaf(g, "set-endpoints", "Replace a service's endpoints (JSON array)");
  b.Id(set, "Service id");
  b.Data(set);
}

const cli::Group kCli{"service", &AddService, &RunServiceCommand};

}  // namespace

const ModuleSpec kServiceModule{"service", &RegistryModule<&api::RegistryRoutes::AddService>::Build,
                                &kCli};

}  // namespace portcullis::app
