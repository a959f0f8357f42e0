#include "app/services.h"

#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "app/app.h"
#include "app/master_key.h"
#include "app/modules/background.h"
#include "app/modules/modules.h"
#include "app/modules/shared.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/db.h"
#include "store/sql/instance_store.h"
#include "store/sql/job_lease.h"

namespace portcullis::app {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// This process as the instances table shows it (oauth/instance/instance_store.h).
oauth::Instance Self(const Config& config, const std::string& id) {
  oauth::Instance self;
  self.instance_id = id;
  self.host = HostName();
  self.pid = static_cast<int64_t>(getpid());
  for (const auto& s : config.server.services)
    self.services += (self.services.empty() ? "" : " ") + s;
  self.version = Version();
  self.started_at = self.last_seen = SystemClock::Instance().Now();
  return self;
}

class ModuleSet final : public Services {
 public:
  ModuleSet(const Config& config, store::Database& db, oauth::MasterKey master)
      : config_(config),
        db_(db),
        lease_(db),
        instances_(db),
        // Leases are renewed every tick; due jobs run then (purges every purge_interval_s).
        background_(lease_, SystemClock::Instance(),
                    std::min<int64_t>(5, config_.store.purge_interval_s),
                    config_.store.full_reload_s),
        shared_(config_, db, std::move(master), background_),
        self_(Self(config_, background_.instance_id())) {}

  ~ModuleSet() override { Stop(); }

  Status Init() {
    auto modules = BuildModules(shared_);
    if (!modules) return Fail(std::move(modules.error()));
    modules_ = std::move(*modules);
    // Every instance records itself (the console's "instances seen"); one of them forgets the
    // instances gone for long.
    background_.AddLocalJob("instance.heartbeat", oauth::kInstanceHeartbeatSeconds,
                            [this]() -> Status { return Beat(); });
    background_.AddJob("instance.purge", 3600, [this]() -> Status {
      auto n = instances_.Purge(SystemClock::Instance().Now() - oauth::kInstancePurgeSeconds);
      if (!n) return Fail(std::move(n.error()));
      return {};
    });
    return {};
  }

  Status Register(http::Router& router) override {
    for (auto& m : modules_) {
      if (auto s = m->Register(router); !s) return s;
    }
    return {};
  }

  void Start() override {
    // Seen at once, not only at the first tick; a failure is retried by the heartbeat.
    if (auto st = Beat(); !st) {
      log::Warn(
          "instance.heartbeat_failed",
          {{"error", st.error().detail.empty() ? st.error().description : st.error().detail}});
    }
    started_ = true;
    background_.Start(db_);
  }
  void Stop() override {
    background_.Stop();
    // A clean stop removes this instance from the list; a crash leaves it to turn stale.
    if (std::exchange(started_, false)) {
      if (auto st = instances_.Remove(self_.instance_id); !st) {
        log::Warn("instance.remove_failed", {{"error", st.error().detail}});
      }
    }
  }

 private:
  // Destroyed in reverse: the modules first, then the shared parts they borrow, then the
  // background thread (already stopped) whose handlers point into the shared parts.
  const Config config_;
  store::Database& db_;
  Status Beat() {
    self_.last_seen = SystemClock::Instance().Now();
    return instances_.Beat(self_);
  }

  store::SqlJobLease lease_;
  store::SqlInstanceStore instances_;
  Background background_;
  Shared shared_;
  oauth::Instance self_;  // written by Start and the background thread, never both at once
  bool started_ = false;
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
