#pragma once
// Admin commands of the `portcullis` CLI that belong to the lead's modules: keys and JWT
// tools. They work directly on the configured store. Registry commands live in registry_cli.h.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/store_open.h"

namespace portcullis::app {

struct AdminCommands {
  CLI::App* keys = nullptr;
  CLI::App* keys_list = nullptr;
  CLI::App* keys_rotate = nullptr;
  CLI::App* keys_revoke = nullptr;
  CLI::App* jwt_verify = nullptr;
  std::string kid;
  std::string jwks_file;
  std::string issuer;
  std::string audience;
  std::string token;
  bool json = false;
};

// Adds the admin subcommands; `add_common` adds --config/--store/--set to each.
void AddAdminCommands(CLI::App& cli, AdminCommands& admin,
                      const std::function<void(CLI::App*)>& add_common);
// nullopt when none of these commands was chosen.
// `creation`: kMustExist unless --create was given (store_open.h).
std::optional<int> RunAdmin(const AdminCommands& admin, const Config& config,
                            StoreCreation creation = StoreCreation::kMustExist);
// Needs no configuration.
int JwtVerify(const AdminCommands& admin);

}  // namespace portcullis::app
