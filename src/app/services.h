#pragma once
// The service modules selected for this process, built over one store. Each module registers
// its own routes; background jobs (key rotation, cache refresh, purging) start and stop here.

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

class Services {
 public:
  virtual ~Services() = default;
  virtual void Register(http::Router& router) = 0;
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

Result<std::unique_ptr<Services>> BuildServices(const Config& config, store::Database& db);

}  // namespace app
}  // namespace portcullis
