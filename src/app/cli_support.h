#pragma once
// The shared machinery of the store commands of the `portcullis` CLI (registry_cli.h): the
// parsed command line (State), the builder that defines leaf commands and their field flags,
// the opened store (Env), and output helpers. Each service module defines its command group
// (a cli::Group) in its own file (app/modules/<name>_module.cc); registry_cli.cc adds the
// groups that belong to no module (audit, import) and dispatches.
//
// Single-threaded: one command per process. State is filled by CLI11 while parsing (it writes
// into the members, whose addresses must stay stable) and read when the command runs.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "app/config.h"
#include "app/store_open.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/secret.h"

namespace portcullis {
namespace store {
class Database;
}

namespace app::cli {

// A flag that sets one member of the JSON model.
struct FieldFlag {
  enum Kind { kString, kList, kInt, kBool, kJson };  // kBool: true|false; kJson: any JSON value
  std::string key;
  Kind kind = kString;
  CLI::Option* option = nullptr;
  std::string text;
  std::vector<std::string> list;
  int64_t number = 0;
};

struct State {
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
  std::string client_filter;                // refresh-token list --client
  bool password_stdin = false;              // user create --password-stdin
  bool admin = false;                       // user create --admin
  std::string password_file;                // user create --admin --password-file
  std::string password_env;                 // user reset-password --password-env
  std::string from;                         // import --from
  bool dry_run = false;                     // import --dry-run
  std::string kind, entity, actor, action;  // audit filters
  int64_t since = -1, until = -1;

  std::string chosen;  // "<group> <command>", filled by RegistryCommands::Chosen()
};

struct Builder {
  CLI::App& cli;
  const std::function<void(CLI::App*)>& add_common;
  State& s;

  // A leaf command of `group`, with the common flags and, when `json`, --json.
  CLI::App* Leaf(CLI::App* group, const std::string& name, const std::string& help,
                 bool json = true);
  void Id(CLI::App* cmd, const std::string& what);
  void Field(CLI::App* cmd, const std::string& command, const std::string& flag,
             const std::string& key, FieldFlag::Kind kind, const std::string& help);
  void Data(CLI::App* cmd);
  // A command group that needs one of its leaves.
  CLI::App* AddGroup(const std::string& name, const std::string& help);
  // The `create` or `update` leaf of a registry group: `update` names the entity by its
  // argument, `create` by --id (`id_key` in the body). The caller adds --data and the fields.
  CLI::App* Upsert(CLI::App* group, const std::string& name, const std::string& help,
                   const std::string& id_key, const std::string& id_help,
                   const std::string& create_id_help);
  void Paging(CLI::App* cmd, const std::string& base);
};

// What a command works on: the store, opened once before the command runs. `config` outlives
// the Env.
struct Env {
  const Config& config;
  StoreCreation creation = StoreCreation::kMustExist;
  std::unique_ptr<store::Database> db;
  const Clock& clock = SystemClock::Instance();
  std::string actor;  // "cli:<login>"
};

// One command group (`portcullis <name> <command> ...`).
struct Group {
  std::string name;
  // Adds the group and its leaf commands.
  void (*add)(Builder& b);
  // Runs `cmd` (the leaf's name); returns the exit code.
  int (*run)(const State& s, const std::string& cmd, Env& env);
  // Registry commands print only warnings and errors; others keep the configured log level.
  bool quiet_log = true;
};

// Exit codes: 0 done; 1 refused (validation, not found, wrong secret); 2 configuration or store.
int Refused(const Error& e);
int Die(const std::string& line);
std::string Actor();
// A time for people: ISO 8601 in UTC, e.g. "2026-12-07T09:46:30Z".
std::string IsoUtc(int64_t unix_seconds);

std::string ReadAll(std::istream& in);
// A secret from stdin: the first line, without its line ending.
Secret ReadSecretLine(std::istream& in);
// A password never taken from argv (it would show in `ps` and shell history): from the
// environment variable `env_var` names when given, else the terminal without echo (after
// `prompt` on stderr), else the first line of stdin. nullopt, with the reason on stderr, when
// there is none.
std::optional<Secret> ReadPassword(const std::string& env_var, const std::string& prompt);
// --data: text, @file, or - for stdin.
Result<std::string> ReadData(const std::string& data);
// --data (if any) with the field flags of `command` laid over it.
Result<boost::json::object> Body(const State& s, const std::string& command);
// Body of `<group> create|update`; for update the id argument is set as `id_key`.
Result<boost::json::object> UpsertBody(const State& s, const std::string& group,
                                       const std::string& cmd, std::string_view id_key);

// JSON with --json, otherwise `key: value` lines (objects) or a table of `columns` (arrays).
int Output(const State& s, const boost::json::value& v,
           const std::vector<std::string>& columns = {});
// One page of a list: {"<member>": items, "total": total} with --json, otherwise a table of
// `columns`.
int OutputPage(const State& s, std::string_view member, boost::json::array items, int64_t total,
               const std::vector<std::string>& columns);
// {"ok":true,"done":what} with --json, otherwise `what`.
int Done(const State& s, const std::string& what);

}  // namespace app::cli
}  // namespace portcullis
