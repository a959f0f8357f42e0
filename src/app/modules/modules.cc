#include "app/modules/modules.h"

#include "app/modules/shared.h"

namespace portcullis::app {

const std::vector<const ModuleSpec*>& AllModules() {
  // Built and registered in this order: the token module first, so that a process serving it
  // makes its signing key before anything else, as before modules existed.
  static const std::vector<const ModuleSpec*> modules = {
      &kTokenModule, &kKeyModule, &kClientModule, &kServiceModule, &kUserModule, &kProviderModule,
      &kRefreshTokenModule, &kCodeModule,
      // Last: its /console/api routes mirror the admin routes registered before it.
      &kConsoleModule};
  return modules;
}

Result<std::vector<std::unique_ptr<Module>>> BuildModules(Shared& shared) {
  std::vector<std::unique_ptr<Module>> out;
  for (const ModuleSpec* spec : AllModules()) {
    if (!shared.config().Serves(spec->name)) continue;
    auto m = spec->build(shared);
    if (!m) return Fail(std::move(m.error()));
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace portcullis::app
