#include "http/metrics.h"

#include <cstdio>

#include "http/router.h"

namespace portcullis::http {
namespace {

void AppendHistogram(std::string& out, std::string_view name, const std::string& labels,
                     const std::array<std::atomic<uint64_t>, Metrics::kBuckets.size() + 1>& counts,
                     uint64_t sum_micros) {
  uint64_t cumulative = 0;
  char buf[64];
  for (size_t i = 0; i <= Metrics::kBuckets.size(); ++i) {
    cumulative += counts[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{";
    out += labels;
    if (i < Metrics::kBuckets.size()) {
      std::snprintf(buf, sizeof buf, ",le=\"%g\"} ", Metrics::kBuckets[i]);
    } else {
      std::snprintf(buf, sizeof buf, ",le=\"+Inf\"} ");
    }
    out += buf;
    out += std::to_string(cumulative);
    out += '\n';
  }
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(sum_micros) / 1e6);
  out += name;
  out += "_sum{" + labels + "} ";
  out += buf;
  out += '\n';
  out += name;
  out += "_count{" + labels + "} " + std::to_string(cumulative) + '\n';
}

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  counts[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::Bind(const Router& router) {
  router_ = &router;
  routes_.clear();
  for (size_t i = 0; i <= router.routes().size(); ++i) {
    routes_.push_back(std::make_unique<RouteStats>());
  }
}

void Metrics::RecordRequest(size_t route_index, int status, double seconds) {
  if (routes_.empty()) return;
  if (route_index >= routes_.size()) route_index = routes_.size() - 1;
  auto& r = *routes_[route_index];
  int slot = (status >= 100 && status <= 599) ? status - 100 : 499;
  r.by_status[slot].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(seconds);
}

void Metrics::RecordStore(std::string_view op, double seconds, bool ok) {
  std::lock_guard lock(store_mu_);
  auto it = store_.find(op);
  if (it == store_.end())
    it = store_.emplace(std::string(op), std::make_unique<StoreStats>()).first;
  it->second->latency.Observe(seconds);
  if (!ok) it->second->errors.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(16 * 1024);
  out += "# HELP portcullis_build_info Build information.\n# TYPE portcullis_build_info gauge\n";
  out += "portcullis_build_info{version=\"" + EscapeLabel(version_) + "\"} 1\n";
  out += "# HELP portcullis_http_requests_in_flight Requests being handled.\n";
  out += "# TYPE portcullis_http_requests_in_flight gauge\n";
  out += "portcullis_http_requests_in_flight " + std::to_string(in_flight_.load()) + "\n";
  out += "# HELP portcullis_http_connections_open Open client connections.\n";
  out += "# TYPE portcullis_http_connections_open gauge\n";
  out += "portcullis_http_connections_open " + std::to_string(connections_.load()) + "\n";

  auto labels_for = [&](size_t i) {
    const auto& routes = router_->routes();
    if (i < routes.size()) {
      return "service=\"" + EscapeLabel(routes[i]->service) + "\",method=\"" +
             EscapeLabel(routes[i]->method) + "\",route=\"" + EscapeLabel(routes[i]->pattern) +
             "\"";
    }
    return std::string("service=\"\",method=\"\",route=\"unmatched\"");
  };

  out += "# HELP portcullis_http_requests_total Requests by route and status.\n";
  out += "# TYPE portcullis_http_requests_total counter\n";
  for (size_t i = 0; i < routes_.size(); ++i) {
    std::string labels = labels_for(i);
    for (size_t s = 0; s < routes_[i]->by_status.size(); ++s) {
      uint64_t n = routes_[i]->by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "portcullis_http_requests_total{" + labels + ",status=\"" + std::to_string(s + 100) +
             "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP portcullis_http_request_duration_seconds Request latency by route.\n";
  out += "# TYPE portcullis_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& h = routes_[i]->latency;
    uint64_t total = 0;
    for (const auto& c : h.counts) total += c.load(std::memory_order_relaxed);
    if (total == 0) continue;
    AppendHistogram(out, "portcullis_http_request_duration_seconds", labels_for(i), h.counts,
                    h.sum_micros.load());
  }
  out += "# HELP portcullis_store_call_duration_seconds Store call latency by operation.\n";
  out += "# TYPE portcullis_store_call_duration_seconds histogram\n";
  std::lock_guard lock(store_mu_);
  for (const auto& [op, s] : store_) {
    AppendHistogram(out, "portcullis_store_call_duration_seconds", "op=\"" + EscapeLabel(op) + "\"",
                    s->latency.counts, s->latency.sum_micros);
  }
  out += "# HELP portcullis_store_errors_total Failed store calls by operation.\n";
  out += "# TYPE portcullis_store_errors_total counter\n";
  for (const auto& [op, s] : store_) {
    out += "portcullis_store_errors_total{op=\"" + EscapeLabel(op) + "\"} " +
           std::to_string(s->errors.load()) + "\n";
  }
  return out;
}

}  // namespace portcullis::http
