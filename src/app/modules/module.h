#pragma once
// A service module: one of code, token, client, user, service, key, refresh-token, provider
// (config.server.services). A module is one file, <name>_module.cc, holding everything the
// service adds to the product:
//
//   * Build(shared): builds what the service needs, asking Shared for the parts it uses
//     (which builds them on first use) and registering its own jobs and change kinds on
//     shared.background(). A process builds only the modules it serves (modules.h).
//   * Module::Register(router): its routes, called after every selected module is built.
//   * cli: its `portcullis <group> ...` commands (cli_support.h), if it has any.
//
// Adding a service is one new file, its line in AllModules() (modules.cc), its `extern` below
// and its source in src/app/CMakeLists.txt.
//
// Ownership: the Module borrows from Shared, which outlives it; the router borrows from both
// (routes capture references), so both outlive the server's run (services.cc).

#include <memory>
#include <string_view>

#include "common/error.h"

namespace portcullis {
namespace http {
class Router;
}

namespace app {

class Shared;
namespace cli {
struct Group;
}

class Module {
 public:
  virtual ~Module() = default;
  // Adds the routes; fails only if a shared part cannot be built.
  virtual Status Register(http::Router& router) = 0;
};

struct ModuleSpec {
  std::string_view name;  // as in server.services
  Result<std::unique_ptr<Module>> (*build)(Shared& shared);
  const cli::Group* cli = nullptr;  // its CLI commands; null when it has none
};

// The specs, one per service; each defined in its module's file.
extern const ModuleSpec kCodeModule;
extern const ModuleSpec kTokenModule;
extern const ModuleSpec kClientModule;
extern const ModuleSpec kUserModule;
extern const ModuleSpec kServiceModule;
extern const ModuleSpec kKeyModule;
extern const ModuleSpec kRefreshTokenModule;
extern const ModuleSpec kProviderModule;
extern const ModuleSpec kConsoleModule;

}  // namespace app
}  // namespace portcullis
