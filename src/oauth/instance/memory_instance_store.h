#pragma once
// In-memory InstanceStore for unit tests. Thread-safe.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>

#include "oauth/instance/instance_store.h"

namespace portcullis::oauth {

class MemoryInstanceStore final : public InstanceStore {
 public:
  Status Beat(const Instance& instance) override {
    std::lock_guard lock(mu_);
    rows_[instance.instance_id] = instance;
    return {};
  }
  Result<std::vector<Instance>> List() override {
    std::lock_guard lock(mu_);
    std::vector<Instance> out;
    for (const auto& [id, i] : rows_) out.push_back(i);
    std::stable_sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) {
      return a.last_seen > b.last_seen;  // rows_ is by id already
    });
    return out;
  }
  Status Remove(std::string_view instance_id) override {
    std::lock_guard lock(mu_);
    if (auto it = rows_.find(instance_id); it != rows_.end()) rows_.erase(it);
    return {};
  }
  Result<int64_t> Purge(int64_t before) override {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(
        std::erase_if(rows_, [&](const auto& kv) { return kv.second.last_seen < before; }));
  }

 private:
  std::mutex mu_;
  std::map<std::string, Instance, std::less<>> rows_;
};

}  // namespace portcullis::oauth
