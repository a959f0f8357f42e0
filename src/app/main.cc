// The `portcullis` command: serve, migrate, version, config, jwt, and the store commands of
// the service modules (registry_cli.h).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "app/admin.h"
#include "app/app.h"
#include "app/auth_cli.h"
#include "app/config.h"
#include "app/modules/totp_settings.h"
#include "app/registry_cli.h"
#include "app/store_open.h"
#include "common/log.h"

extern char** environ;

namespace {

using portcullis::app::Config;
using portcullis::app::ConfigSources;

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with("PORTCULLIS_")) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

// Settings shared by every command that touches the configuration.
struct CommonFlags {
  std::string config_file;
  std::string store;
  std::vector<std::string> set;
  bool create = false;

  void Add(CLI::App* cmd) {
    cmd->add_option("--config", config_file, "YAML configuration file");
    cmd->add_option("--store", store, "sqlite:PATH or postgres://... (store.url)");
    cmd->add_option("--set", set, "Any setting as section.key=value (repeatable)");
  }
  // For commands that work on an existing store: without --create they refuse a missing one.
  void AddWithCreate(CLI::App* cmd) {
    Add(cmd);
    cmd->add_flag("--create", create,
                  "Create the store (and, on SQLite, its master key file) if it does not exist");
  }
  portcullis::app::StoreCreation Creation() const {
    return create ? portcullis::app::StoreCreation::kCreate
                  : portcullis::app::StoreCreation::kMustExist;
  }

  ConfigSources Sources() const {
    ConfigSources s;
    if (!config_file.empty()) s.file = config_file;
    s.env = Environment();
    if (!store.empty()) s.flags.emplace_back("store.url", store);
    for (const auto& kv : set) {
      size_t eq = kv.find('=');
      s.flags.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
    return s;
  }
};

// Loads the configuration or prints one line naming the problem. Warnings (an unknown
// PORTCULLIS_* variable) go to stderr here, except for `serve`, which logs them.
std::optional<Config> Load(const ConfigSources& sources, bool print_warnings = true) {
  auto config = portcullis::app::LoadConfig(sources);
  if (!config) {
    std::fprintf(stderr, "portcullis: %s\n", config.error().description.c_str());
    return std::nullopt;
  }
  if (print_warnings) {
    for (const auto& u : config->unknown_env) {
      std::fprintf(stderr, "portcullis: warning: %s\n",
                   portcullis::app::UnknownEnvMessage(u).c_str());
    }
  }
  return std::move(*config);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Portcullis: an OAuth 2.0 authorization server for microservices"};
  cli.require_subcommand(1);

  CommonFlags serve_flags;
  std::string listen, services, issuer, port_file;
  auto* serve = cli.add_subcommand("serve", "Serve the selected services");
  serve_flags.Add(serve);
  serve->add_option("--listen", listen, "HOST:PORT (server.listen)");
  serve->add_option("--services", services, "all or a comma list (server.services)");
  serve->add_option("--issuer", issuer, "issuer URL (server.issuer)");
  serve->add_option("--port-file", port_file, "write the bound port here (server.port_file)");

  CommonFlags migrate_flags;
  auto* migrate = cli.add_subcommand("migrate", "Apply pending schema migrations and exit");
  migrate_flags.Add(migrate);

  cli.add_subcommand("version", "Print the version");

  auto* config_cmd = cli.add_subcommand("config", "Configuration helpers");
  config_cmd->require_subcommand(1);
  config_cmd->add_subcommand("sample", "Print a commented YAML file with every key");
  config_cmd->add_subcommand("reference", "Print the configuration reference (markdown)");
  CommonFlags check_flags;
  auto* check = config_cmd->add_subcommand("check", "Load the configuration and report problems");
  check_flags.Add(check);

  portcullis::app::AdminCommands admin;
  portcullis::app::AddAdminCommands(cli, admin);

  CommonFlags auth_flags;
  portcullis::app::AuthCommands auth;
  portcullis::app::AddAuthCommands(cli, auth, [&](CLI::App* cmd) { auth_flags.Add(cmd); });

  CommonFlags registry_flags;
  auto registry = portcullis::app::AddRegistryCommands(
      cli, [&](CLI::App* cmd) { registry_flags.AddWithCreate(cmd); });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (cli.got_subcommand("version")) {
    std::printf("portcullis %s\n", portcullis::app::Version());
    return 0;
  }
  if (config_cmd->got_subcommand("sample")) {
    std::fputs(portcullis::app::SampleConfig().c_str(), stdout);
    return 0;
  }
  if (config_cmd->got_subcommand("reference")) {
    std::fputs(portcullis::app::ConfigReference().c_str(), stdout);
    return 0;
  }
  if (config_cmd->got_subcommand("check")) {
    auto config = Load(check_flags.Sources());
    if (!config) return 2;
    // Names serve resolves against other sections at start-up (not in Load): check them too.
    if (auto realms = portcullis::app::SecondFactorRealms(*config); !realms) {
      std::fprintf(stderr, "portcullis: config: %s\n", realms.error().detail.c_str());
      return 2;
    }
    // A configuration is ok only when its store answers: try it, as serve would.
    auto store = portcullis::app::CheckStore(*config);
    if (!store) {
      std::fprintf(stderr, "portcullis: %s\n", store.error().description.c_str());
      return 2;
    }
    std::printf("store: %s\nconfiguration ok\n", store->c_str());
    return 0;
  }
  if (cli.got_subcommand("migrate")) {
    auto config = Load(migrate_flags.Sources());
    if (!config) return 2;
    return portcullis::app::Migrate(*config);
  }
  if (cli.got_subcommand("serve")) {
    auto sources = serve_flags.Sources();
    if (!listen.empty()) sources.flags.emplace_back("server.listen", listen);
    if (!services.empty()) sources.flags.emplace_back("server.services", services);
    if (!issuer.empty()) sources.flags.emplace_back("server.issuer", issuer);
    if (!port_file.empty()) sources.flags.emplace_back("server.port_file", port_file);
    auto config = Load(sources, /*print_warnings=*/false);
    if (!config) return 2;
    return portcullis::app::Serve(*config);
  }
  if (admin.jwt_verify->parsed()) return portcullis::app::JwtVerify(admin);
  if (auth.Chosen()) {
    auto config = Load(auth_flags.Sources());
    if (!config) return 2;
    return portcullis::app::RunAuthCommand(auth, *config);
  }
  if (registry.Chosen()) {
    auto config = Load(registry_flags.Sources());
    if (!config) return 2;
    return portcullis::app::RunRegistryCommand(registry, *config, registry_flags.Creation());
  }
  std::fprintf(stderr, "portcullis: no such command\n");
  return 2;
}
