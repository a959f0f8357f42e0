#include "app/core_routes.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>

#include "app/app.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/db.h"

namespace portcullis::app {

using http::Reply;
using http::Request;
using http::Response;

void RegisterCoreRoutes(http::Router& router, const Config& config, store::Database& db,
                        http::Metrics& metrics) {
  router.Add("GET", "/health", "core", [](Request&) -> Reply { return Response::Text(200, "OK"); });

  // light-oauth2 answers /health/<serviceId> for the service it runs (reference §1).
  std::vector<std::string> ids;
  for (const auto& s : AllServices()) {
    if (config.Serves(s.name)) ids.emplace_back(s.service_id);
  }
  router.Add("GET", "/health/{serviceId}", "core", [ids](Request& req) -> Reply {
    for (const auto& id : ids) {
      if (req.Param("serviceId") == id) return Response::Text(200, "OK");
    }
    return http::RenderError(Error::Status("ERR10007"));
  });

  router.Add("GET", "/ready", "core", [&db](Request&) -> Reply {
    return http::Blocking([&db] {
      if (auto s = db.Ping(); !s) {
        return http::RenderError(Error::Unavailable(s.error().detail));
      }
      return Response::Text(200, "READY");
    });
  });

  boost::json::object info;
  info["name"] = "portcullis";
  info["version"] = Version();
  info["issuer"] = config.server.issuer;
  boost::json::array services;
  for (const auto& s : config.server.services) services.emplace_back(s);
  info["services"] = std::move(services);
  info["store"] = db.dialect() == store::Dialect::kSqlite ? "sqlite" : "postgres";
  info["startedAt"] = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  router.Add("GET", "/server/info", "core",
             [body = boost::json::serialize(info)](Request&) -> Reply {
               return Response::Json(200, body);
             });

  router.Add("GET", "/metrics", "core", [&metrics](Request&) -> Reply {
    return Response::Text(200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace portcullis::app
