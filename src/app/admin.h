#pragma once
// JWT tools of the `portcullis` CLI; they need no configuration and no store. Store commands
// (registries, keys, audit, import) live in registry_cli.h.

#include <CLI/CLI.hpp>
#include <string>

namespace portcullis::app {

struct AdminCommands {
  CLI::App* jwt_verify = nullptr;
  std::string jwks;     // a file, or an http:// or https:// URL
  std::string ca_file;  // https: PEM CA bundle; empty: the system store
  std::string issuer;
  std::string audience;
  std::string token;
};

// Adds `jwt verify`.
void AddAdminCommands(CLI::App& cli, AdminCommands& admin);
int JwtVerify(const AdminCommands& admin);

}  // namespace portcullis::app
