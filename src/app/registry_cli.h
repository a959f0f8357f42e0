#pragma once
// Store commands of the `portcullis` CLI. They work directly on the configured store (no
// server needed) through the same domain services as the admin API, with the same validation,
// audit trail (actor "cli:<login>") and JSON models. Each service module defines its own group
// (app/modules/<name>_module.cc, machinery in cli_support.h); audit and import, which belong
// to no module, are defined in registry_cli.cc:
//
//   portcullis client   create|update ID|list|get ID|delete ID|rotate-secret ID
//                       links ID|link ID SERVICE ENDPOINT...|unlink ID [SERVICE]|verify-secret ID
//   portcullis service  create|update ID|list|get ID|delete ID
//                       endpoints ID|set-endpoints ID --data JSON|delete-endpoints ID
//   portcullis user     create|update ID|list|get ID|delete ID|password ID|set-password ID
//   portcullis provider create|update ID|list|get ID|delete ID
//   portcullis refresh-token list|get TOKEN|delete TOKEN
//   portcullis keys     list|rotate|revoke KID
//   portcullis audit    list [--kind --id --actor --action --since --until]
//   portcullis import   light-oauth2 --from <postgres URL or SQL dump file> [--dry-run]
//
// Create and update take the model as JSON with --data (text, @file, or - for stdin) and/or
// one flag per common field (flags win). Every command takes --json for machine-readable
// output (the API's JSON); otherwise output is `key: value` lines or a tab-separated table.
// Secrets: a new client secret is printed once (create, rotate-secret); passwords and secrets to
// check are read from stdin, never from arguments (they would show in `ps` and shell history).
//
// Changes reach running servers through the store notification: LISTEN/NOTIFY on PostgreSQL,
// the store_changes log on SQLite (a server polls it a few times a second).
//
// Exit codes: 0 done; 1 refused (validation, not found, wrong secret); 2 configuration or store.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "app/config.h"
#include "app/store_open.h"

namespace portcullis::app {

namespace cli {
struct State;
}

struct RegistryCommands {
  std::shared_ptr<cli::State> state;
  // Whether one of these commands was given on the command line (after parsing).
  bool Chosen() const;
};

// Adds the commands above; `add_common` adds --config/--store/--set to each leaf command.
RegistryCommands AddRegistryCommands(CLI::App& cli,
                                     const std::function<void(CLI::App*)>& add_common);
// Runs the chosen command; 2 when none was chosen. `creation`: kMustExist unless --create was
// given: a missing store (or, on SQLite, a missing master key file) is refused with exit 2.
int RunRegistryCommand(const RegistryCommands& commands, const Config& config,
                       StoreCreation creation = StoreCreation::kMustExist);

}  // namespace portcullis::app
