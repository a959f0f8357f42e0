#include "oauth/service/service_catalog.h"

namespace portcullis::oauth {

ServiceCatalog::ServiceCatalog(ServiceStore& store)
    : store_(store), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const ServiceEntry> ServiceCatalog::Find(std::string_view service_id) const {
  auto snap = snapshot_.load(std::memory_order_acquire);
  auto it = snap->services.find(service_id);
  return it == snap->services.end() ? nullptr : it->second;
}

size_t ServiceCatalog::size() const { return snapshot_.load()->services.size(); }

Status ServiceCatalog::Reload() {
  std::lock_guard lock(writer_);
  auto all = store_.LoadAll();  // endpoints sorted in byte order, as FindEndpoint expects
  if (!all) return Fail(std::move(all.error()));
  auto snap = std::make_shared<Snapshot>();
  for (auto& e : *all) {
    std::string id = e.service.service_id;
    snap->services.emplace(std::move(id), std::make_shared<const ServiceEntry>(std::move(e)));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

Status ServiceCatalog::Refresh(std::string_view service_id) {
  std::lock_guard lock(writer_);
  auto loaded = store_.LoadEntry(service_id);
  if (!loaded) return Fail(std::move(loaded.error()));
  auto current = snapshot_.load(std::memory_order_acquire);
  auto it = current->services.find(service_id);
  if (!*loaded && it == current->services.end()) return {};
  auto snap = std::make_shared<Snapshot>(*current);
  if (*loaded) {
    snap->services.insert_or_assign(std::string(service_id),
                                    std::make_shared<const ServiceEntry>(std::move(**loaded)));
  } else {
    snap->services.erase(snap->services.find(service_id));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

}  // namespace portcullis::oauth
