#pragma once
// Routes every process serves whatever its services: /health, /health/<serviceId>, /ready,
// /server/info and /metrics.

#include "app/config.h"

namespace portcullis {
namespace http {
class Router;
class Metrics;
}  // namespace http
namespace store {
class Database;
}

namespace app {

void RegisterCoreRoutes(http::Router& router, const Config& config, store::Database& db,
                        http::Metrics& metrics);

}  // namespace app
}  // namespace portcullis
