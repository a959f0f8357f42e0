#include "oauth/provider/provider.h"

#include <cctype>

#include <boost/json/value.hpp>

#include "oauth/audit/audit.h"
#include "oauth/client/validation.h"
#include "oauth/provider/provider_store.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

Error NotExisting(std::string_view id) {
  return Error::Status("ERR12047", "Provider " + std::string(id) + " does not exist.");
}

}  // namespace

Error ProviderExists(std::string_view provider_id) {
  return Error::Status("ERR12048", "Provider " + std::string(provider_id) + " already exists.");
}

Result<ProviderPatch> ProviderPatchFromJson(const boost::json::object& body) {
  JsonFields f(body);
  ProviderPatch p;
  p.provider_id = f.Str("providerId");
  p.server_url = f.Str("serverUrl");
  p.uri = f.Str("uri");
  p.provider_name = f.Str("providerName");
  if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));
  return p;
}

boost::json::object ProviderToJson(const Provider& p) {
  json::object o;
  o["providerId"] = p.provider_id;
  o["serverUrl"] = p.server_url;
  o["uri"] = p.uri;
  o["providerName"] = p.provider_name.empty() ? json::value(nullptr) : json::value(p.provider_name);
  return o;
}

Status ValidateProvider(const Provider& p, bool allow_http_loopback) {
  if (p.provider_id.size() != 2 || !std::isdigit(static_cast<unsigned char>(p.provider_id[0])) ||
      !std::isdigit(static_cast<unsigned char>(p.provider_id[1]))) {
    return Fail(FieldError("providerId", "must be two digits, e.g. \"05\""));
  }
  if (auto st = CheckHttpUrl("serverUrl", p.server_url, false, 256); !st) return st;
  // Peer certificates are fetched from here: https only (light-oauth2's own example used http),
  // or http to a loopback host with federation.allow_http_loopback (tests, development).
  if (!HttpsOrLoopbackHttp(p.server_url, allow_http_loopback)) {
    return Fail(FieldError("serverUrl", allow_http_loopback
                                            ? "must use https unless the host is loopback"
                                            : "must use https"));
  }
  if (auto st = CheckText("uri", p.uri, 64, true); !st) return st;
  if (p.uri[0] != '/' || p.uri.find_first_of(" ?#") != std::string::npos) {
    return Fail(FieldError("uri", "must be a path starting with '/'"));
  }
  if (auto st = CheckText("providerName", p.provider_name, 64, false); !st) return st;
  return {};
}

ProviderService::ProviderService(store::Database& db, ProviderStore& store, audit::AuditLog& audit,
                                 const Clock& clock)
    : db_(db), store_(store), audit_(audit), clock_(clock) {}

Result<Provider> ProviderService::Create(const ProviderPatch& patch, std::string_view actor) {
  if (!patch.provider_id || patch.provider_id->empty()) {
    return Fail(FieldError("providerId", "is required"));
  }
  if (!patch.server_url || patch.server_url->empty()) {
    return Fail(FieldError("serverUrl", "is required"));
  }
  Provider p{*patch.provider_id, *patch.server_url,
             patch.uri && !patch.uri->empty() ? *patch.uri : "/oauth2/key",
             patch.provider_name.value_or("")};
  if (auto st = ValidateProvider(p, allow_http_loopback_); !st) return Fail(std::move(st.error()));
  auto st = db_.Transact("provider.create", [&](store::Tx& tx) -> Status {
    if (auto r = store_.Insert(tx, p); !r) return r;
    return audit_.Record(tx, clock_.Now(),
                         {std::string(actor), "provider.create", "provider", p.provider_id,
                          std::nullopt, json::value(ProviderToJson(p))});
  });
  if (!st) return Fail(std::move(st.error()));
  return p;
}

Result<Provider> ProviderService::Update(const ProviderPatch& patch, std::string_view actor) {
  if (!patch.provider_id || patch.provider_id->empty()) {
    return Fail(FieldError("providerId", "is required"));
  }
  const std::string id = *patch.provider_id;
  return db_.TransactValue<Provider>("provider.update", [&](store::Tx& tx) -> Result<Provider> {
    auto loaded = store_.LoadForUpdate(tx, id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (!*loaded) return Fail(Error::Status("ERR12049", "Provider " + id + " does not exist."));
    Provider before = **loaded;
    Provider p = before;
    if (patch.server_url) p.server_url = *patch.server_url;
    if (patch.uri) p.uri = patch.uri->empty() ? "/oauth2/key" : *patch.uri;
    if (patch.provider_name) p.provider_name = *patch.provider_name;
    if (auto st = ValidateProvider(p, allow_http_loopback_); !st) {
      return Fail(std::move(st.error()));
    }
    if (auto r = store_.Update(tx, p); !r) return Fail(std::move(r.error()));
    if (auto a =
            audit_.Record(tx, clock_.Now(),
                          {std::string(actor), "provider.update", "provider", p.provider_id,
                           json::value(ProviderToJson(before)), json::value(ProviderToJson(p))});
        !a) {
      return Fail(std::move(a.error()));
    }
    return p;
  });
}

Result<Provider> ProviderService::Get(std::string_view provider_id) {
  auto p = store_.Get(provider_id);
  if (!p) return Fail(std::move(p.error()));
  if (!*p) return Fail(NotExisting(provider_id));
  return std::move(**p);
}

Result<std::vector<Provider>> ProviderService::List() { return store_.List(); }

Status ProviderService::Delete(std::string_view provider_id, std::string_view actor) {
  return db_.Transact("provider.delete", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, provider_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (!*loaded) return Fail(NotExisting(provider_id));
    if (auto r = store_.Delete(tx, provider_id); !r) return r;
    return audit_.Record(
        tx, clock_.Now(),
        {std::string(actor), "provider.delete", "provider", std::string(provider_id),
         json::value(ProviderToJson(**loaded)), std::nullopt});
  });
}

}  // namespace portcullis::oauth
