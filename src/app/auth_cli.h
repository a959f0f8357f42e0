#pragma once
// `portcullis auth list` and `portcullis auth test NAME [--user USER]`: the configured
// authenticators (Config::authenticators), and a connection / sign-in test against one. The
// password for --user is read from the terminal without echo, or from the first line of stdin,
// or from the environment variable --password-env names; never from the command line, where
// other users and shell histories could read it.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "app/config.h"

namespace portcullis::app {

struct AuthCommands {
  CLI::App* group = nullptr;
  CLI::App* list = nullptr;
  CLI::App* test = nullptr;
  std::string name;
  std::string user;
  std::string password_env;

  bool Chosen() const { return group != nullptr && group->parsed(); }
};

// Adds `auth list` and `auth test`; `add_flags` adds the configuration flags to each.
void AddAuthCommands(CLI::App& cli, AuthCommands& auth,
                     const std::function<void(CLI::App*)>& add_flags);
// 0: success; 1: the test failed (refused or unavailable); 2: usage or configuration.
int RunAuthCommand(const AuthCommands& auth, const Config& config);

}  // namespace portcullis::app
