#pragma once
// The background thread of a serving process. Modules and the shared parts they use register
// here, while they are built, what they react to:
//
//   OnChange(kind, ...)   store notifications of one kind ("client", "service", "key",
//                         "revoked"; see store::Database::Notify), applied in batches;
//   OnFullReload(...)     the periodic full refresh (every store.full_reload_s, and when the store
//   reports
//                         that notifications may have been missed: kind "*"), which covers
//                         missed notifications and reconnects (ARCHITECTURE.md);
//   AddJob(name, ...)     scheduled jobs (key rotation, purging expired rows) that run on one
//                         instance at a time: the holder of the job's lease (oauth::JobLease);
//   AddLocalJob(name, ...) jobs every instance runs for itself, without a lease (the instance
//                         heartbeat, app/services.cc).
//
// There is no central switch over kinds: a kind nobody registered for is ignored. Store
// notifications only record what changed; handlers run on this thread, never inside the
// notifier's transaction.
//
// Lifetime and threads: register everything before Start() (registration is not
// synchronised); Start() subscribes to the store and starts the thread, Stop() joins it. The
// handlers' captures must outlive Stop(). Handlers run only on this object's thread (or in
// RunOnce); the store's listener thread only records notifications (Changed), so the store may
// outlive this object and keep delivering to its subscription harmlessly.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/schedule/job_lease.h"

namespace portcullis {
namespace store {
class Database;
}

namespace app {

class Background {
 public:
  // `tick_s`: how often leases are renewed and due jobs run (at most 5 s: a lease lasts 15 s).
  // `lease` and `clock` must outlive this object.
  // `full_reload_s`: how often OnFullReload handlers run without being asked (store.full_reload_s).
  Background(oauth::JobLease& lease, const Clock& clock, int64_t tick_s,
             int64_t full_reload_s = 60);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Per notification of `kind`: `fn(id)`, once per distinct id in a batch.
  void OnChange(std::string kind, std::string task, std::function<Status(std::string_view)> fn);
  // Per batch that holds at least one notification of `kind`: `fn()` once.
  void OnAnyChange(std::string kind, std::string task, std::function<Status()> fn);
  void OnFullReload(std::string task, std::function<Status()> fn);
  // Runs `fn` every `every_s` seconds (0: on every tick) on the instance holding the lease
  // named `name`. One lease per job: an instance contends only for the jobs it runs, so
  // every job has a runner among the instances that serve it.
  void AddJob(std::string name, int64_t every_s, std::function<Status()> fn);
  // Runs the job `job` (added with AddJob) in the next pass when a notification of `kind`
  // arrives, without waiting for its tick: work another instance queued is taken up at once.
  void RunJobOn(std::string kind, std::string job);
  // Runs `fn` every `every_s` seconds on this instance, whoever holds which lease.
  void AddLocalJob(std::string name, int64_t every_s, std::function<Status()> fn);

  // This process's id among the instances (the lease holder name; random per start).
  const std::string& instance_id() const { return instance_id_; }

  // Records a notification, as the store subscription does (Start); for tests too.
  void Changed(std::string_view kind, std::string_view id);

  void Start(store::Database& db);
  void Stop();

  // One pass of the loop as if `now` had come: applies the pending changes, the full reload
  // when due, and the due jobs. For tests; Start() calls it from the thread.
  void RunOnce(int64_t now);

 private:
  struct Handler {
    std::string kind, task;
    std::function<Status(std::string_view)> each;  // or
    std::function<Status()> any;
  };
  struct Job {
    std::string name;
    int64_t every_s = 0;
    std::function<Status()> fn;
    int64_t next_run = 0;
    bool local = false;  // no lease: AddLocalJob
    bool held = false;   // this instance held the lease at its last tick
  };

  void Loop();
  bool HoldLease(const std::string& name, int64_t now);
  static void Report(std::string_view task, const Status& s);

  oauth::JobLease& lease_;
  const Clock& clock_;
  const int64_t tick_s_;
  const int64_t full_reload_s_;
  const std::string instance_id_;

  std::vector<Handler> handlers_;
  std::vector<std::pair<std::string, std::function<Status()>>> reloads_;
  std::vector<Job> jobs_;
  std::vector<std::pair<std::string, std::string>> job_triggers_;  // kind, job name
  int64_t next_tick_ = 0, next_full_ = 0;

  // What the store's listener thread touches. The store keeps its subscribers for its whole
  // life (there is no unsubscribe), so the subscription holds the inbox, not this object: a
  // notification that arrives after this object is gone lands in an inbox nobody reads.
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    bool stopping = false;  // guarded by mu
    // Guarded by mu: what changed since the last pass, ids per kind in arrival order.
    std::map<std::string, std::vector<std::string>, std::less<>> pending;
    bool pending_all = false;
    // The kinds somebody registered for; written before Start only.
    std::set<std::string, std::less<>> kinds;
  };
  static void Deliver(Inbox& inbox, std::string_view kind, std::string_view id);
  const std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  std::thread worker_;
};

}  // namespace app
}  // namespace portcullis
