#pragma once
// The module registry: every service module, and the composition of the selected ones.

#include <memory>
#include <vector>

#include "app/modules/module.h"

namespace portcullis::app {

// In a fixed order: the order in which they are built and their routes registered.
const std::vector<const ModuleSpec*>& AllModules();

// Builds the modules named in shared.config().server.services, in AllModules() order. Shared
// parts are built on the way, as the modules ask for them.
Result<std::vector<std::unique_ptr<Module>>> BuildModules(Shared& shared);

}  // namespace portcullis::app
