#pragma once
// The instances of a deployment (table instances): each serving process records itself at
// start and on every heartbeat, and removes itself when it stops cleanly (app/services.cc). The
// console's dashboard lists them through GET /oauth2/instances (README "Console"), marking
// stale the ones whose last heartbeat is too old (stopped without removing themselves).
// The SQL implementation is store::SqlInstanceStore (store/sql/instance_store.h); unit tests
// use MemoryInstanceStore (memory_instance_store.h).
//
// Thread-safety: implementations are safe from many threads at once. Calls block (store I/O):
// never on an I/O thread. Nothing borrowed outlives a call.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::oauth {

// Every serving process beats this often; an instance not seen for kInstanceStaleSeconds (three
// beats missed, and a little) is shown as stale, and one not seen for kInstancePurgeSeconds is
// forgotten.
inline constexpr int64_t kInstanceHeartbeatSeconds = 10;
inline constexpr int64_t kInstanceStaleSeconds = 35;
inline constexpr int64_t kInstancePurgeSeconds = 7 * 86400;

struct Instance {
  std::string instance_id;  // random per process start
  std::string host;
  int64_t pid = 0;
  std::string services;  // space-separated service names
  std::string version;
  int64_t started_at = 0;
  int64_t last_seen = 0;
};

class InstanceStore {
 public:
  virtual ~InstanceStore() = default;

  // Writes the instance's row, replacing the previous one of the same id (one statement).
  virtual Status Beat(const Instance& instance) = 0;
  // Every instance, most recently seen first (ties by id, bytewise).
  virtual Result<std::vector<Instance>> List() = 0;
  // Removes one instance's row (a clean stop); unknown ids are fine.
  virtual Status Remove(std::string_view instance_id) = 0;
  // Removes the rows last seen before `before`; the number removed.
  virtual Result<int64_t> Purge(int64_t before) = 0;
};

}  // namespace portcullis::oauth
