#include "app/modules/background.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"
#include "common/random.h"
#include "store/db.h"

namespace portcullis::app {

namespace {
constexpr int64_t kLeaseSeconds = 15;
}  // namespace

Background::Background(oauth::JobLease& lease, const Clock& clock, int64_t tick_s,
                       int64_t full_reload_s)
    : lease_(lease),
      clock_(clock),
      tick_s_(std::clamp<int64_t>(tick_s, 1, 5)),
      full_reload_s_(std::max<int64_t>(full_reload_s, 1)),
      instance_id_(Random::System().Token(12)) {}

Background::~Background() { Stop(); }

void Background::OnChange(std::string kind, std::string task,
                          std::function<Status(std::string_view)> fn) {
  inbox_->kinds.insert(kind);
  handlers_.push_back({std::move(kind), std::move(task), std::move(fn), nullptr});
}

void Background::OnAnyChange(std::string kind, std::string task, std::function<Status()> fn) {
  inbox_->kinds.insert(kind);
  handlers_.push_back({std::move(kind), std::move(task), nullptr, std::move(fn)});
}

void Background::OnFullReload(std::string task, std::function<Status()> fn) {
  reloads_.emplace_back(std::move(task), std::move(fn));
}

void Background::AddJob(std::string name, int64_t every_s, std::function<Status()> fn) {
  jobs_.push_back({std::move(name), every_s, std::move(fn), 0});
}

void Background::AddLocalJob(std::string name, int64_t every_s, std::function<Status()> fn) {
  jobs_.push_back({std::move(name), every_s, std::move(fn), 0, true});
}

void Background::RunJobOn(std::string kind, std::string job) {
  inbox_->kinds.insert(kind);
  job_triggers_.emplace_back(std::move(kind), std::move(job));
}

void Background::Changed(std::string_view kind, std::string_view id) { Deliver(*inbox_, kind, id); }

void Background::Deliver(Inbox& inbox, std::string_view kind, std::string_view id) {
  std::lock_guard lock(inbox.mu);
  if (kind == "*") {
    inbox.pending_all = true;
  } else if (inbox.kinds.contains(kind)) {
    auto it = inbox.pending.find(kind);
    if (it == inbox.pending.end()) {
      it = inbox.pending.emplace(std::string(kind), std::vector<std::string>{}).first;
    }
    it->second.emplace_back(id);
  } else {
    return;  // nobody here follows this kind
  }
  inbox.cv.notify_one();
}

void Background::Start(store::Database& db) {
  db.Subscribe(
      [inbox = inbox_](std::string_view kind, std::string_view id) { Deliver(*inbox, kind, id); });
  worker_ = std::thread([this] { Loop(); });
}

void Background::Stop() {
  {
    std::lock_guard lock(inbox_->mu);
    inbox_->stopping = true;
  }
  inbox_->cv.notify_one();
  if (worker_.joinable()) worker_.join();
}

void Background::Loop() {
  std::unique_lock lock(inbox_->mu);
  while (!inbox_->stopping) {
    inbox_->cv.wait_for(lock, std::chrono::seconds(1));
    if (inbox_->stopping) break;
    lock.unlock();
    RunOnce(clock_.Now());
    lock.lock();
  }
}

void Background::RunOnce(int64_t now) {
  std::map<std::string, std::vector<std::string>, std::less<>> changed;
  bool all = false;
  {
    std::lock_guard lock(inbox_->mu);
    changed = std::exchange(inbox_->pending, {});
    all = std::exchange(inbox_->pending_all, false);
  }
  if (all || now >= next_full_) {
    for (const auto& [task, fn] : reloads_) Report(task, fn());
    next_full_ = now + full_reload_s_;
  } else {
    for (const auto& h : handlers_) {
      auto it = changed.find(h.kind);
      if (it == changed.end()) continue;
      if (h.any) {
        Report(h.task, h.any());
        continue;
      }
      std::vector<std::string> seen;
      for (const auto& id : it->second) {
        if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
        seen.push_back(id);
        Report(h.task, h.each(id));
      }
    }
  }
  std::set<std::string_view> woken;  // jobs a notification asked to run now
  for (const auto& [kind, job] : job_triggers_) {
    if (changed.contains(kind)) woken.insert(job);
  }
  const bool tick = now >= next_tick_;
  if (!tick && woken.empty()) return;
  if (tick) next_tick_ = now + tick_s_;
  for (auto& job : jobs_) {
    const bool wake = woken.contains(job.name);
    if (tick) {
      // The holder renews its lease on every tick, due or not, so it keeps the job.
      job.held = job.local || HoldLease(job.name, now);
    } else if (!wake) {
      continue;
    }
    // Between ticks a wake-up writes nothing: the lease renewed at the last tick still runs
    // (it lasts three ticks), so a notification costs the other instances no store write. Were
    // it lost meanwhile, the job's own claims (e.g. the logout outbox's) keep work single.
    if (!job.held) continue;
    if (!wake && now < job.next_run) continue;
    Report(job.name, job.fn());
    job.next_run = now + job.every_s;
  }
}

bool Background::HoldLease(const std::string& name, int64_t now) {
  auto held = lease_.Hold(name, instance_id_, now, now + kLeaseSeconds);
  if (!held) {
    Report("jobs.lease", Fail(std::move(held.error())));
    return false;
  }
  return *held;
}

void Background::Report(std::string_view task, const Status& s) {
  if (!s) {
    log::Warn("background.failed",
              {{"task", task},
               {"error", s.error().detail.empty() ? s.error().description : s.error().detail}});
  }
}

}  // namespace portcullis::app
