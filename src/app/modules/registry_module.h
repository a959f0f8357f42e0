#pragma once
// The shape the admin-registry modules share (client, service, user, provider, refresh-token):
// building one needs admin-token checking (the published keys, read-only; the deny-list; the
// client catalog), and registering it adds its area of the registry routes (`kArea`), which
// all of them share through Shared::Registry().
//
// Ownership: borrows Shared (module.h).

#include <memory>

#include "api/registry_api.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"

namespace portcullis::app {

using RegistryArea = void (api::RegistryRoutes::*)(http::Router&);

template <RegistryArea kArea>
class RegistryModule : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    if (auto auth = shared.AdminAuth(); !auth) return Fail(std::move(auth.error()));
    return std::unique_ptr<Module>(new RegistryModule(shared));
  }

  Status Register(http::Router& router) override {
    auto routes = shared_.Registry();
    if (!routes) return Fail(std::move(routes.error()));
    ((**routes).*kArea)(router);
    return {};
  }

 protected:
  explicit RegistryModule(Shared& shared) : shared_(shared) {}
  Shared& shared_;
};

}  // namespace portcullis::app
