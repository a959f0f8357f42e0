#pragma once
// The service modules selected for this process (config.server.services), built over one
// store: only those modules, and only the shared parts they need (modules/shared.h). Each
// module registers its own routes, jobs and change kinds (modules/module.h); the background
// thread (modules/background.h) runs the jobs and follows the changes.

#include <memory>

#include "app/config.h"
#include "common/error.h"

namespace portcullis {
namespace http {
class Router;
}
namespace store {
class Database;
}

namespace app {

// Owns the modules and the parts they share. The router borrows from them: keep this object
// alive while the server runs. Register, then Start; Stop before destroying it.
class Services {
 public:
  virtual ~Services() = default;
  virtual Status Register(http::Router& router) = 0;
  // Starts the background thread (jobs, reloads after changes made elsewhere).
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

// `config` is copied; `db` must outlive the result.
Result<std::unique_ptr<Services>> BuildServices(const Config& config, store::Database& db);

}  // namespace app
}  // namespace portcullis
