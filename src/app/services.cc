#include "app/services.h"

#include "http/router.h"
#include "store/db.h"

namespace portcullis::app {
namespace {

class ServiceSet final : public Services {
 public:
  ServiceSet(const Config& config, store::Database& db) : config_(config), db_(db) {}
  void Register(http::Router&) override {}
  void Start() override {}
  void Stop() override {}

 private:
  Config config_;
  store::Database& db_;
};

}  // namespace

Result<std::unique_ptr<Services>> BuildServices(const Config& config, store::Database& db) {
  return std::make_unique<ServiceSet>(config, db);
}

}  // namespace portcullis::app
