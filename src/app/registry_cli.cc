#include "app/registry_cli.h"

#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "app/master_key.h"
#include "app/store_open.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_json.h"
#include "oauth/client/client_service.h"
#include "oauth/client/import/light_oauth2_import.h"
#include "oauth/client/import/sql_dump.h"
#include "oauth/client/validation.h"
#include "oauth/provider/provider.h"
#include "oauth/refresh/refresh_admin.h"
#include "oauth/service/service_registry.h"
#include "oauth/user/user_service.h"
#include "store/db.h"
#include "store/sql/audit_log.h"
#include "store/sql/refresh_token_store.h"

namespace portcullis::app {

namespace json = boost::json;

// A flag that sets one member of the JSON model.
struct FieldFlag {
  enum Kind { kString, kList, kInt };
  std::string key;
  Kind kind = kString;
  CLI::Option* option = nullptr;
  std::string text;
  std::vector<std::string> list;
  int64_t number = 0;
};

struct RegistryCommands::State {
  // Leaf commands, by "<group> <command>".
  std::map<std::string, CLI::App*> commands;
  // Per command: its field flags (stable addresses: CLI11 writes into them).
  std::map<std::string, std::deque<FieldFlag>> fields;

  std::string id, second;                   // positional ID and SERVICE
  std::vector<std::string> rest;            // ENDPOINT...
  std::string data;                         // --data
  bool json = false;                        // --json
  int64_t page = -1, page_size = 10;        // --page, --page-size
  std::string filter;                       // --host / --user / --prefix
  bool password_stdin = false;              // user create --password-stdin
  std::string from;                         // import --from
  bool dry_run = false;                     // import --dry-run
  std::string kind, entity, actor, action;  // audit filters
  int64_t since = -1, until = -1;

  std::string chosen;  // filled by Chosen()
};

namespace {

using State = RegistryCommands::State;

int Refused(const Error& e) {
  std::string head = e.code.empty() ? e.oauth_error : e.code + " " + e.message;
  std::fprintf(stderr, "portcullis: %s: %s\n", head.c_str(), e.description.c_str());
  return e.http_status >= 500 ? 2 : 1;
}

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

std::string Actor() {
  const char* user = std::getenv("USER");
  if (user != nullptr && *user != '\0') return std::string("cli:") + user;
  return "cli:uid" + std::to_string(::getuid());
}

std::string ReadAll(std::istream& in) {
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A secret from stdin: the first line, without its line ending.
Secret ReadSecretLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
}

Result<std::string> ReadData(const std::string& data) {
  if (data == "-") return ReadAll(std::cin);
  if (data.starts_with("@")) {
    std::ifstream f(data.substr(1), std::ios::binary);
    if (!f) return Fail(oauth::FieldError("--data", "cannot read " + data.substr(1)));
    return ReadAll(f);
  }
  return data;
}

// --data (if any) with the field flags laid over it.
Result<json::object> Body(const State& s, const std::string& command) {
  json::object body;
  if (!s.data.empty()) {
    auto text = ReadData(s.data);
    if (!text) return Fail(std::move(text.error()));
    auto parsed = oauth::ParseJsonObject(*text, "--data");
    if (!parsed) return Fail(std::move(parsed.error()));
    body = std::move(*parsed);
  }
  auto it = s.fields.find(command);
  if (it == s.fields.end()) return body;
  for (const auto& f : it->second) {
    if (f.option == nullptr || f.option->count() == 0) continue;
    switch (f.kind) {
      case FieldFlag::kString:
        body[f.key] = f.text;
        break;
      case FieldFlag::kInt:
        body[f.key] = f.number;
        break;
      case FieldFlag::kList: {
        json::array a;
        for (const auto& v : f.list) a.emplace_back(v);
        body[f.key] = std::move(a);
        break;
      }
    }
  }
  return body;
}

std::string Text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "";
  return json::serialize(v);
}

void PrintObject(const json::object& o) {
  for (const auto& [k, v] : o) std::printf("%s: %s\n", std::string(k).c_str(), Text(v).c_str());
}

void PrintTable(const json::array& rows, const std::vector<std::string>& columns) {
  std::string line;
  for (const auto& c : columns) line += (line.empty() ? "" : "\t") + c;
  std::printf("%s\n", line.c_str());
  for (const auto& r : rows) {
    line.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      const auto* v = r.is_object() ? r.as_object().if_contains(columns[i]) : nullptr;
      line += (i ? "\t" : "") + (v ? Text(*v) : std::string());
    }
    std::printf("%s\n", line.c_str());
  }
}

int Output(const State& s, const json::value& v, const std::vector<std::string>& columns = {}) {
  if (s.json) {
    std::printf("%s\n", json::serialize(v).c_str());
  } else if (v.is_object()) {
    PrintObject(v.as_object());
  } else if (v.is_array()) {
    PrintTable(v.as_array(), columns);
  }
  return 0;
}

int Done(const State& s, const std::string& what) {
  if (s.json) {
    json::object o;
    o["ok"] = true;
    o["done"] = what;
    std::printf("%s\n", json::serialize(o).c_str());
  } else {
    std::printf("%s\n", what.c_str());
  }
  return 0;
}

// Everything a command may need, opened once.
struct Env {
  std::unique_ptr<store::Database> db;
  const Clock& clock = SystemClock::Instance();
  std::optional<oauth::SecretHasher> secrets;
  std::string actor = Actor();
};

// ---- commands -------------------------------------------------------------------------------

int ClientCommand(const State& s, const std::string& cmd, Env& env) {
  oauth::ClientService clients(*env.db, env.clock, Random::System(), *env.secrets, nullptr);
  auto with_secret = [&](const oauth::ClientWithSecret& c) {
    json::object o = oauth::ClientToJson(c.client);
    if (c.secret) {
      o["clientSecret"] = c.secret->Reveal();
      std::fprintf(stderr, "portcullis: the client secret is shown once; store it now\n");
    }
    return Output(s, o);
  };
  if (cmd == "create" || cmd == "update") {
    auto body = Body(s, "client " + cmd);
    if (!body) return Refused(body.error());
    if (cmd == "update") (*body)["clientId"] = s.id;
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
    json::array items;
    for (const auto& c : list->clients) items.emplace_back(oauth::ClientToJson(c));
    if (s.json) {
      json::object o;
      o["clients"] = std::move(items);
      o["total"] = list->total;
      return Output(s, o);
    }
    return Output(s, items, {"clientId", "clientName", "clientType", "host", "scope"});
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

int ServiceCommand(const State& s, const std::string& cmd, Env& env) {
  oauth::ServiceRegistry services(*env.db, env.clock, nullptr, nullptr);
  if (cmd == "create" || cmd == "update") {
    auto body = Body(s, "service " + cmd);
    if (!body) return Refused(body.error());
    if (cmd == "update") (*body)["serviceId"] = s.id;
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
    json::array items;
    for (const auto& x : list->services) items.emplace_back(oauth::ServiceToJson(x));
    if (s.json) {
      json::object o;
      o["services"] = std::move(items);
      o["total"] = list->total;
      return Output(s, o);
    }
    return Output(s, items, {"serviceId", "serviceName", "serviceType", "host", "scope"});
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
    json::array a;
    for (const auto& e : *r) a.emplace_back(oauth::EndpointToJson(e));
    return Output(s, a, {"endpoint", "operation", "scope"});
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

int UserCommand(const State& s, const std::string& cmd, Env& env) {
  oauth::UserService users(*env.db, env.clock);
  if (cmd == "create" || cmd == "update") {
    auto body = Body(s, "user " + cmd);
    if (!body) return Refused(body.error());
    if (cmd == "update") {
      (*body)["userId"] = s.id;
      body->erase("password");
      body->erase("passwordConfirm");
    }
    auto patch = oauth::UserPatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    if (cmd == "create" && s.password_stdin) {
      patch->password = ReadSecretLine(std::cin);
      patch->password_confirm = patch->password;
    }
    auto r =
        cmd == "create" ? users.Create(*patch, env.actor) : users.Update(s.id, *patch, env.actor);
    return r ? Output(s, oauth::UserToJson(*r)) : Refused(r.error());
  }
  if (cmd == "list") {
    int64_t page = s.page < 1 ? 1 : s.page;
    auto list = users.List(s.filter, (page - 1) * s.page_size, s.page_size);
    if (!list) return Refused(list.error());
    json::array items;
    for (const auto& u : list->users) items.emplace_back(oauth::UserToJson(u));
    return Output(s, items, {"userId", "userType", "email", "roles"});
  }
  if (cmd == "get") {
    auto r = users.Get(s.id);
    return r ? Output(s, oauth::UserToJson(*r)) : Refused(r.error());
  }
  if (cmd == "delete") {
    auto r = users.Delete(s.id, env.actor);
    return r ? Done(s, "deleted user " + s.id) : Refused(r.error());
  }
  if (cmd == "password") {
    // stdin: the current password, then the new one, one per line.
    oauth::PasswordChange change;
    change.password = ReadSecretLine(std::cin);
    change.new_password = ReadSecretLine(std::cin);
    change.new_password_confirm = change.new_password;
    auto st = users.ChangePassword(s.id, change, env.actor);
    return st ? Done(s, "changed the password of " + s.id) : Refused(st.error());
  }
  if (cmd == "set-password") {
    auto st = users.SetPassword(s.id, ReadSecretLine(std::cin), env.actor);
    return st ? Done(s, "set the password of " + s.id) : Refused(st.error());
  }
  if (cmd == "lock" || cmd == "unlock") {
    // Locking also ends the user's refresh tokens, codes and sessions (UserService::Update).
    oauth::UserPatch patch;
    patch.locked = cmd == "lock";
    auto r = users.Update(s.id, patch, env.actor);
    return r ? Done(s, (cmd == "lock" ? "locked " : "unlocked ") + s.id) : Refused(r.error());
  }
  return Die("user " + cmd + ": unknown command");
}

int ProviderCommand(const State& s, const std::string& cmd, Env& env) {
  oauth::ProviderService providers(*env.db, env.clock);
  if (cmd == "create" || cmd == "update") {
    auto body = Body(s, "provider " + cmd);
    if (!body) return Refused(body.error());
    if (cmd == "update") (*body)["providerId"] = s.id;
    auto patch = oauth::ProviderPatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    auto r =
        cmd == "create" ? providers.Create(*patch, env.actor) : providers.Update(*patch, env.actor);
    return r ? Output(s, oauth::ProviderToJson(*r)) : Refused(r.error());
  }
  if (cmd == "list") {
    auto list = providers.List();
    if (!list) return Refused(list.error());
    json::array items;
    for (const auto& p : *list) items.emplace_back(oauth::ProviderToJson(p));
    return Output(s, items, {"providerId", "serverUrl", "uri", "providerName"});
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

int RefreshTokenCommand(const State& s, const std::string& cmd, Env& env) {
  store::SqlRefreshTokenStore token_store(*env.db);
  store::SqlAuditLog audit_log(*env.db);
  oauth::RefreshTokenAdmin tokens(*env.db, token_store, audit_log, env.clock);
  if (cmd == "list") {
    int64_t page = s.page < 1 ? 1 : s.page;
    auto list = tokens.List(s.filter, (page - 1) * s.page_size, s.page_size);
    if (!list) return Refused(list.error());
    json::array items;
    for (const auto& t : *list) items.emplace_back(oauth::RefreshTokenToJson(t));
    return Output(s, items, {"tokenHash", "userId", "clientId", "scope", "expiresAt"});
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

int AuditCommand(const State& s, Env& env) {
  oauth::audit::Query q;
  q.entity_kind = s.kind;
  q.entity_id = s.entity;
  q.actor = s.actor;
  q.action = s.action;
  if (s.since >= 0) q.since = s.since;
  if (s.until >= 0) q.until = s.until;
  int64_t page = s.page < 0 ? 0 : s.page;
  q.offset = page * s.page_size;
  q.limit = s.page_size;
  auto list = oauth::audit::List(*env.db, q);
  if (!list) return Refused(list.error());
  json::array items;
  for (const auto& e : list->entries) items.emplace_back(oauth::audit::RowToJson(e));
  if (s.json) {
    json::object o;
    o["entries"] = std::move(items);
    o["total"] = list->total;
    return Output(s, o);
  }
  return Output(s, items, {"id", "at", "actor", "action", "entityKind", "entityId"});
}

int ImportCommand(const State& s, const Config& config, Env& env) {
  Result<oauth::legacy::Tables> tables = Fail(Error::Internal("unset"));
  if (s.from.starts_with("postgres://") || s.from.starts_with("postgresql://")) {
    auto source = store::OpenDatabase(s.from);
    if (!source) return Die("import: " + source.error().description);
    tables = oauth::legacy::ReadLightOauth2Database(**source);
  } else {
    std::ifstream f(s.from, std::ios::binary);
    if (!f) return Die("import: cannot read '" + s.from + "'");
    tables = oauth::legacy::ParseSqlDump(ReadAll(f), oauth::legacy::LightOauth2Tables());
  }
  if (!tables) return Refused(tables.error());
  oauth::legacy::ImportOptions options;
  options.refresh_token_ttl = config.token.refresh_token_ttl_s;
  options.actor = env.actor;
  options.dry_run = s.dry_run;
  auto report =
      oauth::legacy::ImportLightOauth2(*env.db, *tables, env.clock, Random::System(), options);
  if (!report) return Refused(report.error());
  if (s.json) {
    json::object o, counts;
    for (const auto& [kind, c] : report->counts) {
      json::object k;
      k["imported"] = c.imported;
      k["skipped"] = c.skipped;
      counts[kind] = std::move(k);
    }
    o["counts"] = std::move(counts);
    json::array warnings;
    for (const auto& w : report->warnings) warnings.emplace_back(w);
    o["warnings"] = std::move(warnings);
    o["dryRun"] = s.dry_run;
    std::printf("%s\n", json::serialize(o).c_str());
  } else {
    for (const auto& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    for (const auto& [kind, c] : report->counts) {
      std::printf("%-15s imported %lld, skipped %lld\n", kind.c_str(),
                  static_cast<long long>(c.imported), static_cast<long long>(c.skipped));
    }
    if (s.dry_run) std::printf("dry run: nothing was written\n");
  }
  return 0;
}

// ---- command-line definition ----------------------------------------------------------------

struct Builder {
  CLI::App& cli;
  const std::function<void(CLI::App*)>& add_common;
  State& s;

  CLI::App* Leaf(CLI::App* group, const std::string& name, const std::string& help) {
    auto* cmd = group->add_subcommand(name, help);
    add_common(cmd);
    cmd->add_flag("--json", s.json, "Print JSON");
    s.commands[group->get_name() + " " + name] = cmd;
    return cmd;
  }
  void Id(CLI::App* cmd, const std::string& what) { cmd->add_option("id", s.id, what)->required(); }
  void Field(CLI::App* cmd, const std::string& command, const std::string& flag,
             const std::string& key, FieldFlag::Kind kind, const std::string& help) {
    auto& f = s.fields[command].emplace_back();
    f.key = key;
    f.kind = kind;
    switch (kind) {
      case FieldFlag::kString:
        f.option = cmd->add_option(flag, f.text, help);
        break;
      case FieldFlag::kList:
        f.option = cmd->add_option(flag, f.list, help + " (repeatable)");
        break;
      case FieldFlag::kInt:
        f.option = cmd->add_option(flag, f.number, help);
        break;
    }
  }
  void Data(CLI::App* cmd) {
    cmd->add_option("--data", s.data, "The model as JSON: text, @file, or - for stdin");
  }
  void Paging(CLI::App* cmd, const std::string& base) {
    cmd->add_option("--page", s.page, "Page, counted from " + base);
    cmd->add_option("--page-size", s.page_size, "Rows per page (default 10)")
        ->check(CLI::Range(1, 1000));
  }
};

void AddClient(Builder& b) {
  auto* g = b.cli.add_subcommand("client", "Client registry");
  g->require_subcommand(1);
  for (std::string name : {"create", "update"}) {
    auto* c = b.Leaf(g, name,
                     name == "create" ? "Register a client (prints its secret once)"
                                      : "Change a client (absent fields stay)");
    std::string cmd = "client " + name;
    if (name == "update") {
      b.Id(c, "Client id");
    } else {
      b.Field(c, cmd, "--id", "clientId", FieldFlag::kString, "Client id (default: a UUID)");
    }
    b.Data(c);
    b.Field(c, cmd, "--type", "clientType", FieldFlag::kString,
            "public | confidential | trusted | external");
    b.Field(c, cmd, "--profile", "clientProfile", FieldFlag::kString,
            "webserver | browser | mobile | service | batch");
    b.Field(c, cmd, "--name", "clientName", FieldFlag::kString, "Name (32 characters)");
    b.Field(c, cmd, "--desc", "clientDesc", FieldFlag::kString, "Description");
    b.Field(c, cmd, "--host", "host", FieldFlag::kString, "Host (tenant)");
    b.Field(c, cmd, "--owner", "ownerId", FieldFlag::kString, "Owner user id");
    b.Field(c, cmd, "--scope", "scope", FieldFlag::kString, "Space-separated scopes");
    b.Field(c, cmd, "--redirect-uri", "redirectUris", FieldFlag::kList, "Redirect URI");
    b.Field(c, cmd, "--grant-type", "grantTypes", FieldFlag::kList, "Allowed grant type");
    b.Field(c, cmd, "--token-profile", "tokenProfile", FieldFlag::kString, "rfc9068 | light-4j");
    b.Field(c, cmd, "--access-token-ttl", "accessTokenTtl", FieldFlag::kInt, "Seconds");
    b.Field(c, cmd, "--auth-method", "authMethod", FieldFlag::kString,
            "client_secret_basic | client_secret_post | private_key_jwt | none");
    b.Field(c, cmd, "--jwks-uri", "jwksUri", FieldFlag::kString, "private_key_jwt keys URL");
    b.Field(c, cmd, "--jwks", "jwks", FieldFlag::kString, "private_key_jwt keys (JWKS JSON)");
    b.Field(c, cmd, "--custom-claim", "customClaim", FieldFlag::kString, "JSON object");
    b.Field(c, cmd, "--authenticate-class", "authenticateClass", FieldFlag::kString,
            "Authenticator selector");
    b.Field(c, cmd, "--deref-client-id", "derefClientId", FieldFlag::kString,
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

void AddService(Builder& b) {
  auto* g = b.cli.add_subcommand("service", "Service (API) registry");
  g->require_subcommand(1);
  for (std::string name : {"create", "update"}) {
    auto* c = b.Leaf(g, name, name == "create" ? "Register a service" : "Change a service");
    std::string cmd = "service " + name;
    if (name == "update") {
      b.Id(c, "Service id");
    } else {
      b.Field(c, cmd, "--id", "serviceId", FieldFlag::kString, "Service id");
    }
    b.Data(c);
    b.Field(c, cmd, "--type", "serviceType", FieldFlag::kString,
            "openapi | swagger | graphql | hybrid");
    b.Field(c, cmd, "--name", "serviceName", FieldFlag::kString, "Name");
    b.Field(c, cmd, "--desc", "serviceDesc", FieldFlag::kString, "Description");
    b.Field(c, cmd, "--host", "host", FieldFlag::kString, "Host (tenant)");
    b.Field(c, cmd, "--owner", "ownerId", FieldFlag::kString, "Owner user id");
    b.Field(c, cmd, "--scope", "scope", FieldFlag::kString, "Service-wide scopes");
    b.Field(c, cmd, "--path-case", "pathCase", FieldFlag::kString,
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

void AddUser(Builder& b) {
  auto* g = b.cli.add_subcommand("user", "Local users");
  g->require_subcommand(1);
  for (std::string name : {"create", "update"}) {
    auto* c = b.Leaf(g, name, name == "create" ? "Create a user" : "Change a user's profile");
    std::string cmd = "user " + name;
    if (name == "update") {
      b.Id(c, "User id");
    } else {
      b.Field(c, cmd, "--id", "userId", FieldFlag::kString, "User id");
      c->add_flag("--password-stdin", b.s.password_stdin, "Read the password from stdin");
    }
    b.Data(c);
    b.Field(c, cmd, "--type", "userType", FieldFlag::kString,
            "admin | employee | customer | partner");
    b.Field(c, cmd, "--first-name", "firstName", FieldFlag::kString, "First name");
    b.Field(c, cmd, "--last-name", "lastName", FieldFlag::kString, "Last name");
    b.Field(c, cmd, "--email", "email", FieldFlag::kString, "E-mail address");
    b.Field(c, cmd, "--roles", "roles", FieldFlag::kString, "Space-separated roles");
  }
  auto* list = b.Leaf(g, "list", "List users by id");
  b.Paging(list, "1");
  list->add_option("--prefix", b.s.filter, "User id prefix");
  for (auto [name, help] :
       {std::pair{"get", "Show a user"}, std::pair{"delete", "Delete a user and their tokens"},
        std::pair{"password", "Change a password: stdin holds the current and the new one"},
        std::pair{"set-password", "Reset a password to one read from stdin; ends their grants"},
        std::pair{"lock", "Lock a user: no sign-in anywhere; ends their tokens and sessions"},
        std::pair{"unlock", "Unlock a user"}}) {
    b.Id(b.Leaf(g, name, help), "User id");
  }
}

void AddProvider(Builder& b) {
  auto* g = b.cli.add_subcommand("provider", "Federation registry");
  g->require_subcommand(1);
  for (std::string name : {"create", "update"}) {
    auto* c = b.Leaf(g, name, name == "create" ? "Register a provider" : "Change a provider");
    std::string cmd = "provider " + name;
    if (name == "update") {
      b.Id(c, "Provider id");
    } else {
      b.Field(c, cmd, "--id", "providerId", FieldFlag::kString, "Two-digit provider id");
    }
    b.Data(c);
    b.Field(c, cmd, "--server-url", "serverUrl", FieldFlag::kString, "Peer URL");
    b.Field(c, cmd, "--uri", "uri", FieldFlag::kString, "Key path on the peer");
    b.Field(c, cmd, "--name", "providerName", FieldFlag::kString, "Name");
  }
  b.Leaf(g, "list", "List providers");
  b.Id(b.Leaf(g, "get", "Show a provider"), "Provider id");
  b.Id(b.Leaf(g, "delete", "Delete a provider"), "Provider id");
}

void AddRefreshToken(Builder& b) {
  auto* g = b.cli.add_subcommand("refresh-token", "Refresh tokens (admin view)");
  g->require_subcommand(1);
  auto* list = b.Leaf(g, "list", "List active refresh tokens by user");
  b.Paging(list, "1");
  list->add_option("--user", b.s.filter, "User id prefix");
  b.Id(b.Leaf(g, "get", "Show a token (by token or tokenHash)"), "Token or tokenHash");
  b.Id(b.Leaf(g, "delete", "Revoke a token's family"), "Token or tokenHash");
}

void AddAudit(Builder& b) {
  auto* g = b.cli.add_subcommand("audit", "The audit trail of admin changes");
  g->require_subcommand(1);
  auto* list = b.Leaf(g, "list", "List audit entries, newest first");
  b.Paging(list, "0");
  list->add_option("--kind", b.s.kind, "Entity kind: client, service, user, provider, ...");
  list->add_option("--id", b.s.entity, "Entity id");
  list->add_option("--actor", b.s.actor, "Actor, e.g. client:<id> or cli:<login>");
  list->add_option("--action", b.s.action, "Action, or a prefix ending in '.' (client.)");
  list->add_option("--since", b.s.since, "Unix seconds, inclusive");
  list->add_option("--until", b.s.until, "Unix seconds, exclusive");
}

void AddImport(Builder& b) {
  auto* g = b.cli.add_subcommand("import", "Migrate another authorization server's data");
  g->require_subcommand(1);
  auto* lo = b.Leaf(g, "light-oauth2",
                    "Import users, clients, services, endpoints, links, providers and refresh "
                    "tokens from light-oauth2");
  lo->add_option("--from", b.s.from, "postgres:// URL of its database, or a SQL dump file")
      ->required();
  lo->add_flag("--dry-run", b.s.dry_run, "Report what would be imported; write nothing");
}

}  // namespace

bool RegistryCommands::Chosen() const {
  if (!state) return false;
  for (const auto& [name, cmd] : state->commands) {
    if (cmd->parsed()) {
      state->chosen = name;
      return true;
    }
  }
  return false;
}

RegistryCommands AddRegistryCommands(CLI::App& cli,
                                     const std::function<void(CLI::App*)>& add_common) {
  RegistryCommands out{std::make_shared<State>()};
  Builder b{cli, add_common, *out.state};
  AddClient(b);
  AddService(b);
  AddUser(b);
  AddProvider(b);
  AddRefreshToken(b);
  AddAudit(b);
  AddImport(b);
  return out;
}

int RunRegistryCommand(const RegistryCommands& commands, const Config& config,
                       StoreCreation creation) {
  if (!commands.Chosen()) return Die("no registry command given");
  const State& s = *commands.state;
  std::string group = s.chosen.substr(0, s.chosen.find(' '));
  std::string cmd = s.chosen.substr(s.chosen.find(' ') + 1);

  log::Level level = log::Level::kWarn;
  log::ParseLevel(config.log.level, &level);
  log::Configure(std::max(level, log::Level::kWarn), log::Format::kText);

  Env env;
  auto db = OpenStore(config, creation);
  if (!db) {
    return Die("store: " +
               (db.error().description.empty() ? db.error().detail : db.error().description));
  }
  env.db = std::move(*db);
  if (config.store.migrate_on_start) {
    if (auto m = env.db->Migrate(); !m) return Die("store: " + m.error().detail);
  }
  if (group == "client") {
    // The same pepper as the servers, or digests written here would not verify there.
    auto pepper = DerivePepper(config, creation == StoreCreation::kCreate);
    if (!pepper) return Die(pepper.error().description);
    env.secrets.emplace(std::move(*pepper));
    return ClientCommand(s, cmd, env);
  }
  if (group == "service") return ServiceCommand(s, cmd, env);
  if (group == "user") return UserCommand(s, cmd, env);
  if (group == "provider") return ProviderCommand(s, cmd, env);
  if (group == "refresh-token") return RefreshTokenCommand(s, cmd, env);
  if (group == "audit") return AuditCommand(s, env);
  if (group == "import") return ImportCommand(s, config, env);
  return Die("unknown command " + s.chosen);
}

}  // namespace portcullis::app
