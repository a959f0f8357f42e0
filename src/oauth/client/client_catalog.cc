#include "oauth/client/client_catalog.h"

namespace portcullis::oauth {
namespace {

std::shared_ptr<const Client> SnapshotEntry(Client c) {
  c.custom_claims = ParseCustomClaims(c.custom_claim);
  return std::make_shared<const Client>(std::move(c));
}

}  // namespace

ClientCatalog::ClientCatalog(ClientStore& store)
    : store_(store), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Client> ClientCatalog::Find(std::string_view client_id) const {
  auto snap = snapshot_.load(std::memory_order_acquire);
  auto it = snap->clients.find(client_id);
  return it == snap->clients.end() ? nullptr : it->second;
}

size_t ClientCatalog::size() const { return snapshot_.load()->clients.size(); }

Status ClientCatalog::Reload() {
  std::lock_guard lock(writer_);
  auto all = store_.FindAll();
  if (!all) return Fail(std::move(all.error()));
  auto snap = std::make_shared<Snapshot>();
  snap->clients.reserve(all->size());
  for (auto& c : *all) {
    std::string id = c.client_id;
    snap->clients.emplace(std::move(id), SnapshotEntry(std::move(c)));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

Status ClientCatalog::Refresh(std::string_view client_id) {
  std::lock_guard lock(writer_);
  auto loaded = store_.Find(client_id);
  if (!loaded) return Fail(std::move(loaded.error()));
  auto current = snapshot_.load(std::memory_order_acquire);
  auto it = current->clients.find(client_id);
  if (!*loaded && it == current->clients.end()) return {};
  auto snap = std::make_shared<Snapshot>(*current);
  if (*loaded) {
    snap->clients.insert_or_assign(std::string(client_id), SnapshotEntry(std::move(**loaded)));
  } else {
    snap->clients.erase(snap->clients.find(client_id));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

}  // namespace portcullis::oauth
