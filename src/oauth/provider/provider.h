#pragma once
// The federation registry (reference §10.3): other Portcullis / light-oauth2 clusters, each
// known by a two-digit provider id that prefixes the kid of every token it signs.
//
// Error codes keep light-oauth2's (all 400): ERR12048 id exists (create), ERR12049 unknown id
// (update), ERR12047 unknown id (delete, get).
//
// Ownership: ProviderService borrows the database, store, audit log and clock it is given;
// each must outlive it.
//
// Thread-safety: safe from any thread; every call blocks on the store (store pool only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "store/db.h"

namespace portcullis::oauth {

namespace audit {
class AuditLog;
}
class ProviderStore;

struct Provider {
  std::string provider_id;  // two digits
  std::string server_url;   // e.g. https://peer.example.com
  std::string uri;          // key path on the peer, e.g. /oauth2/key
  std::string provider_name;
};

struct ProviderPatch {
  std::optional<std::string> provider_id;
  std::optional<std::string> server_url;
  std::optional<std::string> uri;
  std::optional<std::string> provider_name;
};

// JSON: providerId serverUrl uri providerName.
Result<ProviderPatch> ProviderPatchFromJson(const boost::json::object& body);
boost::json::object ProviderToJson(const Provider& p);
// serverUrl: https only; http to a loopback host with `allow_http_loopback` (config
// federation.allow_http_loopback, for tests).
Status ValidateProvider(const Provider& p, bool allow_http_loopback = false);

class ProviderService {
 public:
  // `db` opens the transactions that `store` and `audit` share.
  ProviderService(store::Database& db, ProviderStore& store, audit::AuditLog& audit,
                  const Clock& clock);

  Result<Provider> Create(const ProviderPatch& patch, std::string_view actor);
  Result<Provider> Update(const ProviderPatch& patch, std::string_view actor);
  Result<Provider> Get(std::string_view provider_id);
  // Sorted by id.
  Result<std::vector<Provider>> List();
  Status Delete(std::string_view provider_id, std::string_view actor);

  // config federation.allow_http_loopback: a serverUrl may be http:// to a loopback host (tests,
  // development). Off by default: https only. Set before use; not synchronized.
  void AllowHttpLoopback(bool allow) { allow_http_loopback_ = allow; }

 private:
  bool allow_http_loopback_ = false;
  store::Database& db_;
  ProviderStore& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace portcullis::oauth
