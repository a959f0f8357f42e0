#include "oauth/service/service_catalog.h"

#include <algorithm>
#include <map>

#include "oauth/service/service_store.h"

namespace portcullis::oauth {

const Endpoint* ServiceEntry::FindEndpoint(std::string_view endpoint) const {
  auto it = std::lower_bound(endpoints.begin(), endpoints.end(), endpoint,
                             [](const Endpoint& e, std::string_view v) { return e.endpoint < v; });
  return it != endpoints.end() && it->endpoint == endpoint ? &*it : nullptr;
}

ServiceCatalog::ServiceCatalog(store::Database& db)
    : db_(db), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const ServiceEntry> ServiceCatalog::Find(std::string_view service_id) const {
  auto snap = snapshot_.load(std::memory_order_acquire);
  auto it = snap->services.find(service_id);
  return it == snap->services.end() ? nullptr : it->second;
}

size_t ServiceCatalog::size() const { return snapshot_.load()->services.size(); }

namespace {

void SortEndpoints(std::vector<Endpoint>& endpoints) {
  // Byte order, as FindEndpoint's binary search expects (the SQL collation may differ).
  std::sort(endpoints.begin(), endpoints.end(),
            [](const Endpoint& a, const Endpoint& b) { return a.endpoint < b.endpoint; });
}

}  // namespace

Status ServiceCatalog::Reload() {
  std::lock_guard lock(writer_);
  auto services = db_.Query(std::string("SELECT ") + service_store::kColumns + " FROM services");
  if (!services) return Fail(std::move(services.error()));
  auto endpoints =
      db_.Query("SELECT service_id, endpoint, operation, scope FROM service_endpoints");
  if (!endpoints) return Fail(std::move(endpoints.error()));
  std::map<std::string, std::vector<Endpoint>> by_service;
  for (const auto& r : *endpoints) {
    by_service[r.Str(0)].push_back(Endpoint{r.Str(1), r.Str(2), r.Str(3)});
  }
  auto snap = std::make_shared<Snapshot>();
  for (const auto& r : *services) {
    auto entry = std::make_shared<ServiceEntry>();
    entry->service = service_store::RowToService(r);
    if (auto it = by_service.find(entry->service.service_id); it != by_service.end()) {
      entry->endpoints = std::move(it->second);
      SortEndpoints(entry->endpoints);
    }
    std::string id = entry->service.service_id;
    snap->services.emplace(std::move(id), std::move(entry));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

Status ServiceCatalog::Refresh(std::string_view service_id) {
  std::lock_guard lock(writer_);
  auto row = db_.QueryRow(
      std::string("SELECT ") + service_store::kColumns + " FROM services WHERE service_id = $1",
      {store::Text(service_id)});
  if (!row) return Fail(std::move(row.error()));
  std::shared_ptr<ServiceEntry> entry;
  if (*row) {
    auto endpoints =
        db_.Query("SELECT endpoint, operation, scope FROM service_endpoints WHERE service_id = $1",
                  {store::Text(service_id)});
    if (!endpoints) return Fail(std::move(endpoints.error()));
    entry = std::make_shared<ServiceEntry>();
    entry->service = service_store::RowToService(**row);
    for (const auto& r : *endpoints) {
      entry->endpoints.push_back(Endpoint{r.Str(0), r.Str(1), r.Str(2)});
    }
    SortEndpoints(entry->endpoints);
  }
  auto current = snapshot_.load(std::memory_order_acquire);
  auto it = current->services.find(service_id);
  if (!entry && it == current->services.end()) return {};
  auto snap = std::make_shared<Snapshot>(*current);
  if (entry) {
    snap->services.insert_or_assign(std::string(service_id), std::move(entry));
  } else {
    snap->services.erase(snap->services.find(service_id));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

}  // namespace portcullis::oauth
