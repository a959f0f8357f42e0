#pragma once
// In-memory ClientStore for unit tests over fake stores (with store::FakeDatabase). Ignores the
// transaction handle: writes apply at once and a failed transaction does not roll them back.
// It knows no other domain: the services and endpoints that links may name are declared with
// AddService/AddEndpoint, and Delete removes only the client and its links.
// Thread-safe (one mutex).

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "oauth/client/client_store.h"

namespace portcullis::oauth {

class MemoryClientStore final : public ClientStore {
 public:
  // Declares a service (and an endpoint of it with its scope) that links may name.
  void AddService(std::string_view service_id) {
    std::lock_guard lock(mu_);
    services_.emplace(service_id);
  }
  void AddEndpoint(std::string_view service_id, std::string_view endpoint, std::string_view scope) {
    std::lock_guard lock(mu_);
    services_.emplace(service_id);
    endpoints_[{std::string(service_id), std::string(endpoint)}] = std::string(scope);
  }

  Result<std::optional<Client>> Find(std::string_view client_id) override {
    std::lock_guard lock(mu_);
    return Get(client_id);
  }
  Result<std::vector<Client>> FindAll() override {
    std::lock_guard lock(mu_);
    std::vector<Client> out;
    for (const auto& [id, c] : clients_) out.push_back(c);
    return out;
  }
  Result<std::optional<Client>> Load(store::Tx&, std::string_view client_id) override {
    return Find(client_id);
  }
  Result<std::optional<Client>> LoadForUpdate(store::Tx&, std::string_view client_id) override {
    return Find(client_id);
  }
  Status Insert(store::Tx&, const Client& c) override {
    std::lock_guard lock(mu_);
    if (!clients_.emplace(c.client_id, Stored(c)).second) return Fail(ClientExists(c.client_id));
    return {};
  }
  Result<bool> InsertIfAbsent(store::Tx&, const Client& c) override {
    std::lock_guard lock(mu_);
    return clients_.emplace(c.client_id, Stored(c)).second;
  }
  Result<bool> Update(store::Tx&, const Client& c) override {
    std::lock_guard lock(mu_);
    auto it = clients_.find(c.client_id);
    if (it == clients_.end()) return false;
    int64_t created_at = it->second.created_at;
    it->second = Stored(c);
    it->second.created_at = created_at;
    return true;
  }
  Result<bool> UpdateSecretHash(store::Tx&, std::string_view client_id,
                                std::string_view secret_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client_id);
    if (it == clients_.end()) return false;
    it->second.secret_hash = std::string(secret_hash);
    it->second.updated_at = now;
    return true;
  }
  Result<bool> ReplaceSecretHash(store::Tx&, std::string_view client_id, std::string_view from,
                                 std::string_view to, int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client_id);
    if (it == clients_.end() || it->second.secret_hash != from) return false;
    it->second.secret_hash = std::string(to);
    it->second.updated_at = now;
    return true;
  }
  Result<bool> Delete(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(links_, [&](const Link& l) { return std::get<0>(l) == client_id; });
    auto it = clients_.find(client_id);
    if (it == clients_.end()) return false;
    clients_.erase(it);
    return true;
  }

  Result<std::vector<Client>> List(store::Tx&, const ClientListQuery& q) override {
    std::lock_guard lock(mu_);
    std::vector<Client> all;
    for (const auto& [id, c] : clients_) {
      if (c.host.starts_with(q.host_prefix)) all.push_back(c);
    }
    std::sort(all.begin(), all.end(), [](const Client& a, const Client& b) {
      return std::tie(a.client_name, a.client_id) < std::tie(b.client_name, b.client_id);
    });
    std::vector<Client> out;
    for (int64_t i = q.offset; i < static_cast<int64_t>(all.size()) && i < q.offset + q.limit;
         ++i) {
      out.push_back(std::move(all[i]));
    }
    return out;
  }
  Result<int64_t> Count(store::Tx&, std::string_view host_prefix) override {
    std::lock_guard lock(mu_);
    int64_t n = 0;
    for (const auto& [id, c] : clients_) n += c.host.starts_with(host_prefix) ? 1 : 0;
    return n;
  }

  Result<ClientLinkMap> Links(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    ClientLinkMap out;
    for (const auto& [c, s, e] : links_) {
      if (c == client_id) out[s].push_back(e);
    }
    return out;
  }
  Result<std::vector<std::string>> ServiceLinks(store::Tx&, std::string_view client_id,
                                                std::string_view service_id) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [c, s, e] : links_) {
      if (c == client_id && s == service_id) out.push_back(e);
    }
    return out;
  }
  Status ReplaceServiceLinks(store::Tx&, std::string_view client_id, std::string_view service_id,
                             const std::vector<std::string>& endpoints) override {
    std::lock_guard lock(mu_);
    EraseLinks(client_id, service_id);
    for (const auto& e : endpoints) {
      links_.emplace(std::string(client_id), std::string(service_id), e);
    }
    return {};
  }
  Status DeleteLinks(store::Tx&, std::string_view client_id,
                     std::optional<std::string_view> service_id) override {
    std::lock_guard lock(mu_);
    EraseLinks(client_id, service_id);
    return {};
  }
  Result<std::vector<std::string>> ClientsLinkedTo(store::Tx&,
                                                   std::string_view service_id) override {
    std::lock_guard lock(mu_);
    std::set<std::string> ids;
    for (const auto& [c, s, e] : links_) {
      if (s == service_id) ids.insert(c);
    }
    return std::vector<std::string>(ids.begin(), ids.end());
  }
  Result<std::vector<std::string>> LinkedScope(store::Tx&, std::string_view client_id) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [c, s, e] : links_) {
      if (c != client_id) continue;
      auto it = endpoints_.find({s, e});
      if (it == endpoints_.end()) continue;
      for (auto& item : SplitScope(it->second)) {
        if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
      }
    }
    return out;
  }
  Status SetScope(store::Tx&, std::string_view client_id, const std::vector<std::string>& scope,
                  int64_t now) override {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client_id);
    if (it == clients_.end()) return {};
    it->second.scope = scope;
    it->second.updated_at = now;
    return {};
  }
  Result<bool> LockService(store::Tx&, std::string_view service_id) override {
    std::lock_guard lock(mu_);
    return services_.contains(service_id);
  }
  Result<bool> EndpointExists(store::Tx&, std::string_view service_id,
                              std::string_view endpoint) override {
    std::lock_guard lock(mu_);
    return endpoints_.contains({std::string(service_id), std::string(endpoint)});
  }

 private:
  using Link = std::tuple<std::string, std::string, std::string>;  // client, service, endpoint

  // What a store keeps: the parsed claims are the snapshot's business.
  static Client Stored(const Client& c) {
    Client out = c;
    out.custom_claims.clear();
    return out;
  }
  std::optional<Client> Get(std::string_view client_id) const {
    auto it = clients_.find(client_id);
    if (it == clients_.end()) return std::nullopt;
    return it->second;
  }
  void EraseLinks(std::string_view client_id, std::optional<std::string_view> service_id) {
    std::erase_if(links_, [&](const Link& l) {
      return std::get<0>(l) == client_id && (!service_id || std::get<1>(l) == *service_id);
    });
  }

  std::mutex mu_;
  std::map<std::string, Client, std::less<>> clients_;
  std::set<Link> links_;
  std::set<std::string, std::less<>> services_;
  std::map<std::pair<std::string, std::string>, std::string> endpoints_;  // -> scope
};

}  // namespace portcullis::oauth
