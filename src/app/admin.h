#pragma once
// Admin commands of the `portcullis` CLI. They work directly on the configured store.

#include <CLI/CLI.hpp>
#include <functional>

#include "app/config.h"

namespace portcullis::app {

struct AdminCommands {
  std::vector<CLI::App*> commands;
};

// Adds the admin subcommands; `add_common` adds --config/--store/--set to each.
AdminCommands AddAdminCommands(CLI::App& cli, const std::function<void(CLI::App*)>& add_common);
int RunAdmin(const AdminCommands& admin, const Config& config);

}  // namespace portcullis::app
