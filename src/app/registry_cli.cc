#include "app/registry_cli.h"

#include <cstdio>
#include <fstream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "app/authenticators.h"
#include "app/cli_support.h"
#include "app/modules/modules.h"
#include "app/store_open.h"
#include "common/log.h"
#include "common/random.h"
#include "oauth/audit/audit.h"
#include "oauth/client/import/light_oauth2_import.h"
#include "oauth/token/grant_registry.h"
#include "store/db.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"
#include "store/sql/light_oauth2_source.h"
#include "store/sql/sql_dump.h"

namespace portcullis::app {

namespace json = boost::json;

namespace {

using cli::Die;
using cli::OutputPage;
using cli::ReadAll;
using cli::Refused;

// ---- groups that belong to no service module: audit, import ----

int RunAuditCommand(const cli::State& s, const std::string&, cli::Env& env) {
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
  auto list = store::SqlAuditLog(*env.db).List(q);
  if (!list) return Refused(list.error());
  json::array items;
  for (const auto& e : list->entries) {
    json::object row = oauth::audit::RowToJson(e);
    // People read ISO 8601 UTC (as `keys list` prints); --json keeps the API's unix seconds.
    if (!s.json) row["at"] = cli::IsoUtc(e.at);
    items.emplace_back(std::move(row));
  }
  return OutputPage(s, "entries", std::move(items), list->total,
                    {"id", "at", "actor", "action", "entityKind", "entityId"});
}

int RunImportCommand(const cli::State& s, const std::string&, cli::Env& env) {
  Result<oauth::legacy::Tables> tables = Fail(Error::Internal("unset"));
  if (s.from.starts_with("postgres://") || s.from.starts_with("postgresql://")) {
    auto source = store::OpenDatabase(s.from);
    if (!source) return Die("import: " + source.error().description);
    tables = store::ReadLightOauth2Database(**source);
  } else {
    std::ifstream f(s.from, std::ios::binary);
    if (!f) return Die("import: cannot read '" + s.from + "'");
    tables = store::ParseSqlDump(ReadAll(f), oauth::legacy::LightOauth2Tables());
  }
  if (!tables) return Refused(tables.error());
  oauth::legacy::ImportOptions options;
  options.refresh_token_ttl = env.config.token.refresh_token_ttl_s;
  options.actor = env.actor;
  options.dry_run = s.dry_run;
  // light-oauth2's LDAP class names become the configured LDAP authenticator's name.
  options.authenticate_classes = LegacyClassMap(env.config.authenticators);
  options.grant_types = oauth::GrantRegistry::Default().types();
  store::SqlClientStore client_store(*env.db);
  store::SqlImportTarget import_target;
  store::SqlAuditLog audit(*env.db);
  auto report = oauth::legacy::ImportLightOauth2(*env.db, client_store, import_target, audit,
                                                 *tables, env.clock, Random::System(), options);
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

void AddAudit(cli::Builder& b) {
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

void AddImport(cli::Builder& b) {
  auto* g = b.cli.add_subcommand("import", "Migrate another authorization server's data");
  g->require_subcommand(1);
  auto* lo = b.Leaf(g, "light-oauth2",
                    "Import users, clients, services, endpoints, links, providers and refresh "
                    "tokens from light-oauth2");
  lo->add_option("--from", b.s.from, "postgres:// URL of its database, or a SQL dump file")
      ->required();
  lo->add_flag("--dry-run", b.s.dry_run, "Report what would be imported; write nothing");
}

const cli::Group kAudit{"audit", &AddAudit, &RunAuditCommand};
const cli::Group kImport{"import", &AddImport, &RunImportCommand};

// The service modules' groups, in module order, then the others.
std::vector<const cli::Group*> Groups() {
  std::vector<const cli::Group*> out;
  for (const ModuleSpec* m : AllModules()) {
    if (m->cli != nullptr) out.push_back(m->cli);
  }
  out.push_back(&kAudit);
  out.push_back(&kImport);
  return out;
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
  RegistryCommands out{std::make_shared<cli::State>()};
  cli::Builder b{cli, add_common, *out.state};
  for (const cli::Group* g : Groups()) g->add(b);
  return out;
}

int RunRegistryCommand(const RegistryCommands& commands, const Config& config,
                       StoreCreation creation) {
  if (!commands.Chosen()) return Die("no registry command given");
  const cli::State& s = *commands.state;
  std::string group = s.chosen.substr(0, s.chosen.find(' '));
  std::string cmd = s.chosen.substr(s.chosen.find(' ') + 1);
  const cli::Group* chosen = nullptr;
  for (const cli::Group* g : Groups()) {
    if (g->name == group) chosen = g;
  }
  if (chosen == nullptr) return Die("unknown command " + s.chosen);

  if (chosen->quiet_log) {
    log::Level level = log::Level::kWarn;
    log::ParseLevel(config.log.level, &level);
    log::Configure(std::max(level, log::Level::kWarn), log::Format::kText);
  }

  cli::Env env{config, creation};
  env.actor = cli::Actor();
  auto db = OpenStore(config, creation);
  if (!db) {
    return Die("store: " +
               (db.error().description.empty() ? db.error().detail : db.error().description));
  }
  env.db = std::move(*db);
  if (config.store.migrate_on_start) {
    if (auto m = env.db->Migrate(); !m) return Die("store: " + m.error().detail);
  }
  return chosen->run(s, cmd, env);
}

}  // namespace portcullis::app
