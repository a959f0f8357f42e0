// The client service: the client registry (/oauth2/client..., api/registry_api.h), the
// delegation API (api/delegation_api.h) and `portcullis client ...`.
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/delegation_api.h"
#include "api/registry_api.h"
#include "app/cli_support.h"
#include "app/master_key.h"
#include "app/modules/module.h"
#include "app/modules/registry_module.h"
#include "app/modules/shared.h"
#include "common/json_array.h"
#include "common/random.h"
#include "oauth/client/client_json.h"
#include "oauth/client/client_service.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/token/grant_registry.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"

namespace portcullis::app {
namespace {

namespace json = boost::json;
using cli::Die;
using cli::Done;
using cli::Output;
using cli::OutputPage;
using cli::ReadSecretLine;
using cli::Refused;
using cli::UpsertBody;

// The client registry, and the delegation policies of its clients (RFC 8693).
class ClientModule final : public RegistryModule<&api::RegistryRoutes::AddClient> {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    if (auto auth = shared.AdminAuth(); !auth) return Fail(std::move(auth.error()));
    return std::unique_ptr<Module>(new ClientModule(shared));
  }

  Status Register(http::Router& router) override {
    if (auto s = RegistryModule::Register(router); !s) return s;
    auto auth = shared_.AdminAuth();
    if (!auth) return Fail(std::move(auth.error()));
    api::RegisterDelegationApi(router, shared_.db(), shared_.client_store(),
                               shared_.delegation_store(), shared_.audit(), **auth,
                               shared_.clock());
    return {};
  }

 private:
  explicit ClientModule(Shared& shared) : RegistryModule(shared) {}
};

// ---- CLI: portcullis client ... ----

int RunClientCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  // The same pepper as the servers, or digests written here would not verify there.
  auto pepper = DerivePepper(env.config, env.creation == StoreCreation::kCreate);
  if (!pepper) return Die(pepper.error().description);
  oauth::SecretHasher secrets(std::move(*pepper));
  store::SqlClientStore client_store(*env.db);
  store::SqlAuditLog audit(*env.db);
  oauth::ClientService clients(*env.db, client_store, audit, env.clock, Random::System(), secrets,
                               nullptr, oauth::GrantRegistry::Default().types());
  clients.SetIdTokenAlgs(IdTokenAlgNames(env.config));
  clients.AllowHttpLoopbackJwksUri(env.config.jwks_uri.allow_http_loopback);
  auto with_secret = [&](const oauth::ClientWithSecret& c) {
    json::object o = oauth::ClientToJson(c.client);
    if (c.secret) {
      o["clientSecret"] = c.secret->Reveal();
      std::fprintf(stderr, "portcullis: the client secret is shown once; store it now\n");
    }
    return Output(s, o);
  };
  if (cmd == "create" || cmd == "update") {
    auto body = UpsertBody(s, "client", cmd, "clientId");
    if (!body) return Refused(body.error());
    auto patch = oauth::ClientPatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    auto c = cmd == "create" ? clients.Create(*patch, env.actor, "admin")
                             : clients.Update(s.id, *patch, env.actor);
    return c ? with_secret(*c) : Refused(c.error());
  }
  if (cmd == "list") {
    int64_t page = s.page < 0 ? 0 : s.page;
    auto list = clients.List({s.filter, page * s.page_size, s.page_size});
    if (!list) return Refused(list.error());
    return OutputPage(s, "clients", JsonArray(list->clients, oauth::ClientToJson), list->total,
                      {"clientId", "clientName", "clientType", "host", "scope"});
  }
  if (cmd == "get") {
    auto c = clients.Get(s.id);
    return c ? Output(s, oauth::ClientToJson(*c)) : Refused(c.error());
  }
  if (cmd == "delete") {
    auto c = clients.Delete(s.id, env.actor);
    return c ? Done(s, "deleted client " + s.id) : Refused(c.error());
  }
  if (cmd == "rotate-secret") {
    auto c = clients.RotateSecret(s.id, env.actor);
    return c ? with_secret(*c) : Refused(c.error());
  }
  if (cmd == "links") {
    auto links = clients.Links(s.id);
    if (!links) return Refused(links.error());
    json::object o;
    for (const auto& [sid, eps] : *links) {
      json::array a;
      for (const auto& e : eps) a.emplace_back(e);
      o[sid] = std::move(a);
    }
    return Output(s, o);
  }
  if (cmd == "link" || cmd == "unlink") {
    auto change =
        cmd == "link"
            ? clients.Link(s.id, s.second, s.rest, env.actor)
            : clients.Unlink(
                  s.id, s.second.empty() ? std::nullopt : std::optional<std::string_view>(s.second),
                  env.actor);
    if (!change) return Refused(change.error());
    json::object o;
    o["old_scope"] = change->old_scope;
    o["new_scope"] = change->new_scope;
    return Output(s, o);
  }
  if (cmd == "verify-secret") {
    auto ok = clients.VerifySecret(s.id, ReadSecretLine(std::cin));
    if (!ok) return Refused(ok.error());
    if (!*ok) return Refused(Error::Status("ERR12007"));
    return Done(s, "the secret of client " + s.id + " is correct");
  }
  return Die("client " + cmd + ": unknown command");
}

void AddClient(cli::Builder& b) {
  auto* g = b.AddGroup("client", "Client registry");
  for (std::string name : {"create", "update"}) {
    auto* c = b.Upsert(g, name,
                       name == "create" ? "Register a client (prints its secret once)"
                                        : "Change a client (absent fields stay)",
                       "clientId", "Client id", "Client id (default: a UUID)");
    std::string cmd = "client " + name;
    b.Data(c);
    b.Field(c, cmd, "--type", "clientType", cli::FieldFlag::kString,
            "public | confidential | trusted | external");
    b.Field(c, cmd, "--profile", "clientProfile", cli::FieldFlag::kString,
            "webserver | browser | mobile | service | batch");
    b.Field(c, cmd, "--name", "clientName", cli::FieldFlag::kString, "Name (32 characters)");
    b.Field(c, cmd, "--desc", "clientDesc", cli::FieldFlag::kString, "Description");
    b.Field(c, cmd, "--host", "host", cli::FieldFlag::kString, "Host (tenant)");
    b.Field(c, cmd, "--owner", "ownerId", cli::FieldFlag::kString, "Owner user id");
    b.Field(c, cmd, "--scope", "scope", cli::FieldFlag::kString, "Space-separated scopes");
    b.Field(c, cmd, "--redirect-uri", "redirectUris", cli::FieldFlag::kList, "Redirect URI");
    b.Field(c, cmd, "--grant-type", "grantTypes", cli::FieldFlag::kList, "Allowed grant type");
    b.Field(c, cmd, "--token-profile", "tokenProfile", cli::FieldFlag::kString,
            "rfc9068 | light-4j");
    b.Field(c, cmd, "--access-token-ttl", "accessTokenTtl", cli::FieldFlag::kInt, "Seconds");
    b.Field(c, cmd, "--auth-method", "authMethod", cli::FieldFlag::kString,
            "client_secret_basic | client_secret_post | private_key_jwt | none");
    b.Field(c, cmd, "--jwks-uri", "jwksUri", cli::FieldFlag::kString, "private_key_jwt keys URL");
    b.Field(c, cmd, "--jwks", "jwks", cli::FieldFlag::kString, "private_key_jwt keys (JWKS JSON)");
    b.Field(c, cmd, "--custom-claim", "customClaim", cli::FieldFlag::kString, "JSON object");
    b.Field(c, cmd, "--authenticate-class", "authenticateClass", cli::FieldFlag::kString,
            "Authenticator selector");
    b.Field(c, cmd, "--deref-client-id", "derefClientId", cli::FieldFlag::kString,
            "External clients: the client that may dereference their tokens");
  }
  auto* list = b.Leaf(g, "list", "List clients by name");
  b.Paging(list, "0");
  list->add_option("--host", b.s.filter, "Host prefix");
  for (auto [name, help] : {std::pair{"get", "Show a client"},
                            std::pair{"delete", "Delete a client, its links and tokens"},
                            std::pair{"rotate-secret", "Replace the secret (printed once)"},
                            std::pair{"links", "Show the endpoints a client may call"},
                            std::pair{"verify-secret", "Check a secret read from stdin"}}) {
    b.Id(b.Leaf(g, name, help), "Client id");
  }
  auto* link = b.Leaf(g, "link", "Link a client to endpoints of a service (replaces them)");
  b.Id(link, "Client id");
  link->add_option("service", b.s.second, "Service id")->required();
  link->add_option("endpoints", b.s.rest, "Endpoint ids, e.g. /v1/data@get")->required();
  auto* unlink = b.Leaf(g, "unlink", "Remove a client's links to a service, or all links");
  b.Id(unlink, "Client id");
  unlink->add_option("service", b.s.second, "Service id (default: every service)");
}

const cli::Group kCli{"client", &AddClient, &RunClientCommand};

}  // namespace

const ModuleSpec kClientModule{"client", &ClientModule::Build, &kCli};

}  // namespace portcullis::app
