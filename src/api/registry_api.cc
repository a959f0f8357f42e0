#include "api/registry_api.h"

#include <algorithm>
#include <charconv>

#include <boost/json/serialize.hpp>

#include "api/registry_support.h"
#include "common/log.h"
#include "oauth/client/validation.h"
#include "oauth/service/service_catalog.h"

namespace portcullis::api {
namespace registry {

Context::Context(const RegistryDeps& d)
    : deps(d),
      audit(d.db),
      user_store(d.db),
      service_store(d.db),
      provider_store(d.db),
      refresh_token_store(d.db),
      code_store(d.db),
      session_store(d.db),
      consent_store(d.db),
      device_store(d.db),
      revocation(refresh_token_store, code_store, session_store, device_store),
      clients(d.db, d.client_store, audit, d.clock, d.random, d.secrets, &d.clients, d.grant_types),
      services(d.db, service_store, d.client_store, audit, d.clock, d.services, &d.clients),
      users(d.db, user_store, audit, d.clock, d.throttle, revocation.ForUser()),
      user_access(d.db, user_store, session_store, consent_store, audit, d.clock,
                  {d.on_session_end, d.on_user_sessions_end, revocation.ForUserClient(),
                   revocation.ForUserSession(), revocation.ForUserSessions()}),
      providers(d.db, provider_store, audit, d.clock),
      refresh_tokens(d.db, refresh_token_store, audit, d.clock) {
  // Set before any request: UserService calls it through revocation.ForUser().
  if (d.on_user_sessions_end) revocation.OnUserSessionsEnd(d.on_user_sessions_end);
  clients.SetIdTokenAlgs(d.id_token_algs);
  clients.AllowHttpLoopbackJwksUri(d.jwks_uri_http_loopback);
  providers.AllowHttpLoopback(d.federation_http_loopback);
}

Result<Caller> Authorize(const Context& ctx, const http::Request& req, std::string_view read,
                         std::string_view write) {
  auto caller = ctx.deps.auth.Authorize(req, read);
  if (caller || write.empty() || caller.error().http_status != 403) return caller;
  auto with_write = ctx.deps.auth.Authorize(req, write);
  if (with_write) return with_write;
  return caller;  // name the read scope in the 403
}

std::string ActorOf(const Caller& c) {
  if (!c.user_id.empty()) return "user:" + c.user_id + " client:" + c.client_id;
  return "client:" + c.client_id;
}

std::string OwnerOf(const Caller& c) { return c.user_id.empty() ? c.client_id : c.user_id; }

http::Response Json(int status, const boost::json::value& body) {
  return http::Response::Json(status, boost::json::serialize(body));
}

http::Response Empty() { return http::Response::Text(200, "", "text/plain"); }

http::Response ErrorResponse(const Error& e, std::string_view op) {
  if (e.http_status >= 500) {
    log::Error("registry.failed", {{"op", op}, {"code", e.code}, {"detail", e.detail}});
  }
  return http::RenderError(e);
}

http::Response NoStore(http::Response r) {
  r.With("Cache-Control", "no-store").With("Pragma", "no-cache");
  return r;
}

boost::json::object PageJson(std::string_view name, boost::json::array items, int64_t total) {
  boost::json::object o;
  o[name] = std::move(items);
  o["total"] = total;
  return o;
}

namespace {

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

Result<Paging> ParsePaging(const http::Request& req, int base, bool page_required) {
  Paging p;
  p.page = base;
  auto page = req.QueryParam("page");
  if (!page || page->empty()) {
    if (page_required) {
      return Fail(Error::Status("ERR11000", "page: the query parameter is required"));
    }
  } else {
    auto v = ParseInt(*page);
    if (!v || *v < base || *v > 1'000'000'000) {
      return Fail(oauth::FieldError("page", "must be an integer >= " + std::to_string(base)));
    }
    p.page = *v;
  }
  if (auto size = req.QueryParam("pageSize"); size && !size->empty()) {
    auto v = ParseInt(*size);
    if (!v || *v < 1 || *v > 1000) {
      return Fail(oauth::FieldError("pageSize", "must be an integer from 1 to 1000"));
    }
    p.page_size = *v;
  }
  p.offset = (p.page - base) * p.page_size;
  return p;
}

Result<std::string> QueryText(const http::Request& req, std::string_view name, size_t max) {
  auto v = req.QueryParam(name);
  if (!v) return std::string();
  if (auto st = oauth::CheckText(name, *v, max, false); !st) return Fail(std::move(st.error()));
  return std::move(*v);
}

}  // namespace registry

RegistryRoutes::RegistryRoutes(const RegistryDeps& deps)
    : ctx_(std::make_shared<registry::Context>(deps)) {}

void RegistryRoutes::AddClient(http::Router& router) {
  registry::RegisterClientRoutes(router, ctx_);
  AddAudit(router);
}

void RegistryRoutes::AddService(http::Router& router) {
  registry::RegisterServiceRoutes(router, ctx_);
  AddAudit(router);
}

void RegistryRoutes::AddUser(http::Router& router) {
  registry::RegisterUserRoutes(router, ctx_);
  AddAudit(router);
}

void RegistryRoutes::AddProvider(http::Router& router) {
  registry::RegisterProviderRoutes(router, ctx_);
  AddAudit(router);
}

void RegistryRoutes::AddRefreshToken(http::Router& router) {
  registry::RegisterRefreshTokenRoutes(router, ctx_);
  AddAudit(router);
}

void RegistryRoutes::AddAudit(http::Router& router) {
  if (audit_added_) return;
  registry::RegisterAuditRoutes(router, ctx_);
  audit_added_ = true;
}

void RegisterRegistryApis(http::Router& router, const RegistryDeps& deps,
                          const std::vector<std::string>& services) {
  auto serves = [&](std::string_view s) {
    return std::find(services.begin(), services.end(), s) != services.end() ||
           std::find(services.begin(), services.end(), "all") != services.end();
  };
  RegistryRoutes routes(deps);
  if (serves("client")) routes.AddClient(router);
  if (serves("service")) routes.AddService(router);
  if (serves("user")) routes.AddUser(router);
  if (serves("provider")) routes.AddProvider(router);
  if (serves("refresh-token")) routes.AddRefreshToken(router);
}

}  // namespace portcullis::api
