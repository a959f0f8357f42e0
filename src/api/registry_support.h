#pragma once
// Shared pieces of the registry handlers (internal to src/api).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "api/admin_auth.h"
#include "api/registry_api.h"
#include "common/error.h"
#include "common/json_array.h"
#include "http/message.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_service.h"
#include "oauth/client/validation.h"
#include "oauth/provider/provider.h"
#include "oauth/refresh/grant_revocation.h"
#include "oauth/refresh/refresh_admin.h"
#include "oauth/service/service_registry.h"
#include "oauth/user/user_access.h"
#include "oauth/user/user_service.h"
#include "store/sql/audit_log.h"
#include "store/sql/code_store.h"
#include "store/sql/consent_store.h"
#include "store/sql/device_store.h"
#include "store/sql/provider_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/service_store.h"
#include "store/sql/session_store.h"
#include "store/sql/user_store.h"

namespace portcullis::api::registry {

// The domain services behind the routes; shared by every handler of one RegistryRoutes, which
// keep it alive (a shared_ptr captured by each route). It holds a copy of the deps; what they
// refer to must outlive the router.
struct Context {
  explicit Context(const RegistryDeps& d);
  RegistryDeps deps;
  // The SQL stores the registries below borrow (declared first: built first, gone last).
  store::SqlAuditLog audit;
  store::SqlUserStore user_store;
  store::SqlServiceStore service_store;
  store::SqlProviderStore provider_store;
  store::SqlRefreshTokenStore refresh_token_store;
  store::SqlAuthCodeStore code_store;
  store::SqlSessionStore session_store;
  store::SqlConsentStore consent_store;
  store::SqlDeviceGrantStore device_store;
  oauth::GrantRevocation revocation;
  oauth::ClientService clients;
  oauth::ServiceRegistry services;
  oauth::UserService users;
  oauth::UserAccess user_access;
  oauth::ProviderService providers;
  oauth::RefreshTokenAdmin refresh_tokens;
};
using ContextPtr = std::shared_ptr<Context>;

// A write scope grants its read scope too: `read` is tried first, then `write` when given.
Result<Caller> Authorize(const Context& ctx, const http::Request& req, std::string_view read,
                         std::string_view write = {});
// Recorded as the audit actor: "client:<id>", or "user:<id> client:<id>" for user tokens.
std::string ActorOf(const Caller& caller);
// The owner of entities a caller creates without naming one.
std::string OwnerOf(const Caller& caller);

http::Response Json(int status, const boost::json::value& body);
http::Response Empty();
// RenderError, logging server-side failures with their internal detail.
http::Response ErrorResponse(const Error& e, std::string_view op);
// A response that reveals a secret: never cached.
http::Response NoStore(http::Response r);

// The request body as a JSON object, read by `parse` (e.g. oauth::ClientPatchFromJson).
template <typename Parse>
auto ParseBody(const http::Request& req, Parse parse) -> decltype(parse(boost::json::object())) {
  auto body = oauth::ParseJsonObject(req.body);
  if (!body) return Fail(std::move(body.error()));
  return parse(*body);
}

// One page of a list: {"<name>": items, "total": total}.
boost::json::object PageJson(std::string_view name, boost::json::array items, int64_t total);

struct Paging {
  int64_t page = 0;  // as given
  int64_t page_size = 10;
  int64_t offset = 0;
};
// `page` is required (ERR11000) and counts from `base` (0 or 1); pageSize 1..1000 (ERR11004).
Result<Paging> ParsePaging(const http::Request& req, int base, bool page_required = true);
// A query parameter with a length bound (ERR11004 naming it); empty when absent.
Result<std::string> QueryText(const http::Request& req, std::string_view name, size_t max);

// Route registration per area.
void RegisterClientRoutes(http::Router& r, const ContextPtr& ctx);
void RegisterServiceRoutes(http::Router& r, const ContextPtr& ctx);
void RegisterUserRoutes(http::Router& r, const ContextPtr& ctx);
void RegisterProviderRoutes(http::Router& r, const ContextPtr& ctx);
void RegisterRefreshTokenRoutes(http::Router& r, const ContextPtr& ctx);
void RegisterAuditRoutes(http::Router& r, const ContextPtr& ctx);

}  // namespace portcullis::api::registry
