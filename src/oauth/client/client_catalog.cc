#include "oauth/client/client_catalog.h"

#include "oauth/client/client_store.h"

namespace portcullis::oauth {

ClientCatalog::ClientCatalog(store::Database& db)
    : db_(db), snapshot_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Client> ClientCatalog::Find(std::string_view client_id) const {
  auto snap = snapshot_.load(std::memory_order_acquire);
  auto it = snap->clients.find(client_id);
  return it == snap->clients.end() ? nullptr : it->second;
}

size_t ClientCatalog::size() const { return snapshot_.load()->clients.size(); }

Status ClientCatalog::Reload() {
  std::lock_guard lock(writer_);
  // Autocommit reads: on SQLite a transaction would take the write lock.
  auto rows = db_.Query(std::string("SELECT ") + client_store::kColumns + " FROM clients");
  if (!rows) return Fail(std::move(rows.error()));
  auto snap = std::make_shared<Snapshot>();
  snap->clients.reserve(rows->size());
  for (const auto& row : *rows) {
    auto c = std::make_shared<const Client>(client_store::RowToClient(row));
    std::string id = c->client_id;
    snap->clients.emplace(std::move(id), std::move(c));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

Status ClientCatalog::Refresh(std::string_view client_id) {
  std::lock_guard lock(writer_);
  auto row = db_.QueryRow(
      std::string("SELECT ") + client_store::kColumns + " FROM clients WHERE client_id = $1",
      {store::Text(client_id)});
  if (!row) return Fail(std::move(row.error()));
  std::optional<Client> loaded;
  if (*row) loaded = client_store::RowToClient(**row);
  auto current = snapshot_.load(std::memory_order_acquire);
  auto it = current->clients.find(client_id);
  if (!loaded && it == current->clients.end()) return {};
  auto snap = std::make_shared<Snapshot>(*current);
  if (loaded) {
    snap->clients.insert_or_assign(std::string(client_id),
                                   std::make_shared<const Client>(std::move(*loaded)));
  } else {
    snap->clients.erase(snap->clients.find(client_id));
  }
  snapshot_.store(std::move(snap), std::memory_order_release);
  return {};
}

}  // namespace portcullis::oauth
