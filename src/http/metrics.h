#pragma once
// Prometheus metrics for the HTTP layer and the store. Request counters are lock-free atomics
// indexed by route, so recording costs a few relaxed increments on the hot path.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::http {

class Router;

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  explicit Metrics(std::string version) : version_(std::move(version)) {}
  // Sizes the per-route counters. Call once all routes are added and before serving.
  void Bind(const Router& router);

  // route_index == routes().size() means "no route matched".
  void RecordRequest(size_t route_index, int status, double seconds);
  void RecordStore(std::string_view op, double seconds, bool ok);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void RequestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // The Prometheus text exposition format, version 0.0.4.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> counts{};
    std::atomic<uint64_t> sum_micros{0};
    void Observe(double seconds);
  };
  struct RouteStats {
    // Index status - 100; statuses outside 100..599 are counted as 599.
    std::array<std::atomic<uint64_t>, 500> by_status{};
    Histogram latency;
  };
  struct StoreStats {
    std::atomic<uint64_t> errors{0};
    Histogram latency;
  };

  const Router* router_ = nullptr;
  std::string version_;
  std::vector<std::unique_ptr<RouteStats>> routes_;  // one extra for unmatched
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> connections_{0};
  mutable std::mutex store_mu_;
  std::map<std::string, std::unique_ptr<StoreStats>, std::less<>> store_;
};

}  // namespace portcullis::http
