#include "app/services.h"

#include <algorithm>
#include <vector>

#include "app/master_key.h"
#include "app/modules/background.h"
#include "app/modules/modules.h"
#include "app/modules/shared.h"
#include "common/clock.h"
#include "store/db.h"
#include "store/sql/job_lease.h"

namespace portcullis::app {
namespace {

class ModuleSet final : public Services {
 public:
  ModuleSet(const Config& config, store::Database& db, oauth::MasterKey master)
      : config_(config),
        db_(db),
        lease_(db),
        // Leases are renewed every tick; due jobs run then (purges every purge_interval_s).
        background_(lease_, SystemClock::Instance(),
                    std::min<int64_t>(5, config_.store.purge_interval_s)),
        shared_(config_, db, std::move(master), background_) {}

  ~ModuleSet() override { Stop(); }

  Status Init() {
    auto modules = BuildModules(shared_);
    if (!modules) return Fail(std::move(modules.error()));
    modules_ = std::move(*modules);
    return {};
  }

  Status Register(http::Router& router) override {
    for (auto& m : modules_) {
      if (auto s = m->Register(router); !s) return s;
    }
    return {};
  }

  void Start() override { background_.Start(db_); }
  void Stop() override { background_.Stop(); }

 private:
  // Destroyed in reverse: the modules first, then the shared parts they borrow, then the
  // background thread (already stopped) whose handlers point into the shared parts.
  const Config config_;
  store::Database& db_;
  store::SqlJobLease lease_;
  Background background_;
  Shared shared_;
  std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace

Result<std::unique_ptr<Services>> BuildServices(const Config& config, store::Database& db) {
  auto master = LoadMasterKey(config);
  if (!master) return Fail(master.error());
  auto set = std::make_unique<ModuleSet>(config, db, std::move(*master));
  if (auto s = set->Init(); !s) {
    Error e = s.error();
    if (e.description.empty() || e.http_status >= 500) {
      e.description = "start-up failed: " + (e.detail.empty() ? e.description : e.detail);
    }
    return Fail(e);
  }
  return std::unique_ptr<Services>(std::move(set));
}

}  // namespace portcullis::app
