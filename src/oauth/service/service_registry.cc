#include "oauth/service/service_registry.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/log.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

Error NotFound(std::string_view id) {
  return Error::Status("ERR12015", "Service " + std::string(id) + " is not found.");
}

Error NoEndpoints(std::string_view id) {
  return Error::Status("ERR12042", "Service " + std::string(id) + " has no endpoints.");
}

json::array EndpointsJson(const std::vector<Endpoint>& endpoints) {
  json::array a;
  for (const auto& e : endpoints) a.emplace_back(EndpointToJson(e));
  return a;
}

// Locks the clients linked to the service (sorted, so concurrent writers lock in one order)
// and returns their ids.
Result<std::vector<std::string>> LockLinkedClients(ClientStore& client_store, store::Tx& tx,
                                                   std::string_view service_id) {
  auto ids = client_store.ClientsLinkedTo(tx, service_id);
  if (!ids) return Fail(std::move(ids.error()));
  for (const auto& id : *ids) {
    auto c = client_store.LoadForUpdate(tx, id);
    if (!c) return Fail(std::move(c.error()));
  }
  return ids;
}

// Recomputes and persists the scope of each client from its remaining links.
Status RecomputeClients(ClientStore& client_store, store::Tx& tx, audit::AuditLog& audit,
                        const std::vector<std::string>& clients, int64_t now,
                        std::string_view actor, std::string_view reason) {
  for (const auto& id : clients) {
    auto c = client_store.Load(tx, id);
    if (!c) return Fail(std::move(c.error()));
    if (!*c) continue;
    auto scope = client_store.LinkedScope(tx, id);
    if (!scope) return Fail(std::move(scope.error()));
    if (*scope == (*c)->scope) continue;
    if (auto st = client_store.SetScope(tx, id, *scope, now); !st) return st;
    if (auto st = tx.Notify("client", id); !st) return st;
    json::object before, after;
    before["scope"] = JoinScope((*c)->scope);
    after["scope"] = JoinScope(*scope);
    after["reason"] = reason;
    if (auto st = audit.Record(tx, now,
                               {std::string(actor), "client.scope", "client", id,
                                json::value(std::move(before)), json::value(std::move(after))});
        !st) {
      return st;
    }
  }
  return {};
}

// The admin-scope rule over endpoints: their scopes flow into every linked client.
Status CheckEndpointScopes(const Authority& by, const std::vector<Endpoint>& endpoints) {
  for (const auto& e : endpoints) {
    if (auto st = CheckAdminScopes(by, SplitScope(e.scope), "endpoint " + e.endpoint); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace

ServiceRegistry::ServiceRegistry(store::Database& db, ServiceStore& store,
                                 ClientStore& client_store, audit::AuditLog& audit,
                                 const Clock& clock, ServiceCatalog* services,
                                 ClientCatalog* clients)
    : db_(db),
      store_(store),
      client_store_(client_store),
      audit_(audit),
      clock_(clock),
      services_(services),
      clients_(clients) {}

void ServiceRegistry::AfterWrite(std::string_view service_id,
                                 const std::vector<std::string>& clients) {
  if (services_ != nullptr) {
    if (auto st = services_->Refresh(service_id); !st) {
      log::Warn("service.catalog_refresh_failed",
                {{"service_id", service_id}, {"detail", st.error().detail}});
    }
  }
  if (clients_ != nullptr) {
    for (const auto& id : clients) {
      if (auto st = clients_->Refresh(id); !st) {
        log::Warn("client.catalog_refresh_failed",
                  {{"client_id", id}, {"detail", st.error().detail}});
      }
    }
  }
}

Result<Service> ServiceRegistry::Create(const ServicePatch& p, std::string_view actor,
                                        std::string_view default_owner, const Authority& by) {
  if (!p.service_id || p.service_id->empty()) return Fail(FieldError("serviceId", "is required"));
  if (!p.service_type || p.service_type->empty()) {
    return Fail(FieldError("serviceType", "is required"));
  }
  if (!p.service_name || p.service_name->empty()) {
    return Fail(FieldError("serviceName", "is required"));
  }
  Service s;
  s.service_id = *p.service_id;
  ApplyPatch(p, s);
  if (s.owner_id.empty()) s.owner_id = std::string(default_owner);
  if (auto st = ValidateService(s); !st) return Fail(std::move(st.error()));
  if (auto st = CheckOwner(by, "", s.owner_id); !st) return Fail(std::move(st.error()));
  s.created_at = s.updated_at = clock_.Now();
  auto st = db_.Transact("service.create", [&](store::Tx& tx) -> Status {
    if (auto r = store_.Insert(tx, s); !r) return r;
    return audit_.Record(tx, s.created_at,
                         {std::string(actor), "service.create", "service", s.service_id,
                          std::nullopt, json::value(ServiceToJson(s))});
  });
  if (!st) return Fail(std::move(st.error()));
  AfterWrite(s.service_id, {});
  return s;
}

Result<Service> ServiceRegistry::Update(std::string_view service_id, const ServicePatch& p,
                                        std::string_view actor, const Authority& by) {
  Service out;
  auto st = db_.Transact("service.update", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, service_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (!*loaded) return Fail(NotFound(service_id));
    Service before = **loaded;
    Service s = before;
    ApplyPatch(p, s);
    if (auto r = ValidateService(s); !r) return r;
    if (auto r = CheckOwner(by, before.owner_id, s.owner_id); !r) return r;
    s.updated_at = clock_.Now();
    if (auto r = store_.Update(tx, s); !r) return r;
    if (auto a = audit_.Record(tx, s.updated_at,
                               {std::string(actor), "service.update", "service", s.service_id,
                                json::value(ServiceToJson(before)), json::value(ServiceToJson(s))});
        !a) {
      return a;
    }
    out = std::move(s);
    return {};
  });
  if (!st) return Fail(std::move(st.error()));
  AfterWrite(service_id, {});
  return out;
}

Result<Service> ServiceRegistry::Get(std::string_view service_id) {
  auto s = store_.Get(service_id);
  if (!s) return Fail(std::move(s.error()));
  if (!*s) return Fail(NotFound(service_id));
  return std::move(**s);
}

Result<ServicePage> ServiceRegistry::List(std::string_view host_prefix, int64_t offset,
                                          int64_t limit) {
  return store_.List(host_prefix, offset, limit);
}

Result<Service> ServiceRegistry::Delete(std::string_view service_id, std::string_view actor,
                                        const Authority& by) {
  Service before;
  std::vector<std::string> clients;
  auto st = db_.Transact("service.delete", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, service_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (!*loaded) return Fail(NotFound(service_id));
    before = **loaded;
    if (auto r = CheckOwner(by, before.owner_id, before.owner_id); !r) return r;
    auto locked = LockLinkedClients(client_store_, tx, service_id);
    if (!locked) return Fail(std::move(locked.error()));
    clients = std::move(*locked);
    auto endpoints = store_.Endpoints(tx, service_id);
    if (!endpoints) return Fail(std::move(endpoints.error()));
    if (auto r = CheckEndpointScopes(by, *endpoints); !r) return r;
    if (auto r = store_.Delete(tx, service_id); !r) return r;
    int64_t now = clock_.Now();
    if (auto r =
            RecomputeClients(client_store_, tx, audit_, clients, now, actor, "service deleted");
        !r) {
      return r;
    }
    json::object recorded = ServiceToJson(before);
    recorded["endpoints"] = EndpointsJson(*endpoints);
    return audit_.Record(tx, now,
                         {std::string(actor), "service.delete", "service", std::string(service_id),
                          json::value(std::move(recorded)), std::nullopt});
  });
  if (!st) return Fail(std::move(st.error()));
  AfterWrite(service_id, clients);
  return before;
}

Status ServiceRegistry::SetEndpoints(std::string_view service_id,
                                     const std::vector<Endpoint>& endpoints, std::string_view actor,
                                     const Authority& by) {
  if (auto st = ValidateEndpoints(endpoints); !st) return st;
  std::vector<std::string> clients;
  auto st = db_.Transact("service.set_endpoints", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, service_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (!*loaded) return Fail(NotFound(service_id));
    if (auto r = CheckOwner(by, (*loaded)->owner_id, (*loaded)->owner_id); !r) return r;
    auto locked = LockLinkedClients(client_store_, tx, service_id);
    if (!locked) return Fail(std::move(locked.error()));
    clients = std::move(*locked);
    auto before = store_.Endpoints(tx, service_id);
    if (!before) return Fail(std::move(before.error()));
    // Changing an endpoint's scope changes every linked client's: the caller must hold each
    // admin scope on either side.
    if (auto r = CheckEndpointScopes(by, *before); !r) return r;
    if (auto r = CheckEndpointScopes(by, endpoints); !r) return r;
    // Endpoints that go away take their client links with them; links to those that stay
    // are kept.
    if (auto r = store_.ReplaceEndpoints(tx, service_id, endpoints); !r) return r;
    int64_t now = clock_.Now();
    if (auto r = RecomputeClients(client_store_, tx, audit_, clients, now, actor,
                                  "service endpoints changed");
        !r) {
      return r;
    }
    json::object b, a;
    b["endpoints"] = EndpointsJson(*before);
    a["endpoints"] = EndpointsJson(endpoints);
    return audit_.Record(
        tx, now,
        {std::string(actor), "service.set_endpoints", "service", std::string(service_id),
         json::value(std::move(b)), json::value(std::move(a))});
  });
  if (!st) return st;
  AfterWrite(service_id, clients);
  return {};
}

Result<std::vector<Endpoint>> ServiceRegistry::Endpoints(std::string_view service_id) {
  auto list = store_.ListEndpoints(service_id);
  if (!list) return Fail(std::move(list.error()));
  if (list->empty()) return Fail(NoEndpoints(service_id));
  return list;
}

Status ServiceRegistry::DeleteEndpoints(std::string_view service_id, std::string_view actor,
                                        const Authority& by) {
  std::vector<std::string> clients;
  auto st = db_.Transact("service.delete_endpoints", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, service_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    auto before = store_.Endpoints(tx, service_id);
    if (!before) return Fail(std::move(before.error()));
    if (!*loaded || before->empty()) return Fail(NoEndpoints(service_id));
    if (auto r = CheckOwner(by, (*loaded)->owner_id, (*loaded)->owner_id); !r) return r;
    if (auto r = CheckEndpointScopes(by, *before); !r) return r;
    auto locked = LockLinkedClients(client_store_, tx, service_id);
    if (!locked) return Fail(std::move(locked.error()));
    clients = std::move(*locked);
    if (auto r = store_.ReplaceEndpoints(tx, service_id, {}); !r) return r;
    int64_t now = clock_.Now();
    if (auto r = RecomputeClients(client_store_, tx, audit_, clients, now, actor,
                                  "service endpoints deleted");
        !r) {
      return r;
    }
    json::object b;
    b["endpoints"] = EndpointsJson(*before);
    return audit_.Record(tx, now,
                         {std::string(actor), "service.delete_endpoints", "service",
                          std::string(service_id), json::value(std::move(b)), std::nullopt});
  });
  if (!st) return st;
  AfterWrite(service_id, clients);
  return {};
}

}  // namespace portcullis::oauth
