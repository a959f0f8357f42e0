#include "app/app.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "app/core_routes.h"
#include "app/services.h"
#include "app/store_open.h"
#include "common/log.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "store/db.h"

namespace portcullis::app {
namespace {

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

void ConfigureLogging(const Config& c) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(c.log.level, &level);
  log::Configure(level, c.log.format == "json" ? log::Format::kJson : log::Format::kText);
}

std::string StoreError(const Error& e) {
  return "store: " + (e.detail.empty() ? e.description : e.detail);
}

}  // namespace

const char* Version() { return PORTCULLIS_VERSION; }

int Migrate(const Config& config) {
  ConfigureLogging(config);
  auto db = OpenStore(config);
  if (!db) return Die(StoreError(db.error()));
  auto applied = (*db)->Migrate();
  if (!applied) return Die(StoreError(applied.error()));
  auto version = (*db)->SchemaVersion();
  std::printf("applied %d migration(s); schema version %d\n", *applied, version ? *version : -1);
  return 0;
}

int Serve(const Config& config_in) {
  auto started = std::chrono::steady_clock::now();
  Config config = config_in;
  ConfigureLogging(config);
  for (const auto& u : config.unknown_env) {
    log::Warn("config.unknown_env",
              {{"variable", u.name}, {"nearest", u.nearest}, {"message", UnknownEnvMessage(u)}});
  }

  // Bind first: a taken port is the most common start-up failure and needs no store.
  http::Router router;
  http::Metrics metrics(Version());

  http::ServerOptions so;
  so.host = config.server.host;
  so.port = config.server.port;
  so.io_threads = config.server.io_threads;
  so.store_threads = config.server.store_threads;
  so.hash_threads = config.server.hash_threads;
  so.header_limit = static_cast<size_t>(config.server.header_limit);
  so.body_limit = static_cast<size_t>(config.server.body_limit);
  so.read_timeout_ms = config.server.read_timeout_ms;
  so.idle_timeout_ms = config.server.idle_timeout_ms;
  so.max_connections = config.server.max_connections;
  so.max_connections_per_ip = config.server.max_connections_per_ip;
  so.max_headers = static_cast<size_t>(config.server.max_headers);
  so.max_params = static_cast<size_t>(config.server.max_params);
  if (auto proxies = http::AddressRanges::Parse(config.server.trusted_proxies)) {
    so.trusted_proxies = std::move(*proxies);  // validated when the config was read
  }
  so.client_ip_header = config.server.client_ip_header == "forwarded"
                            ? http::ForwardedHeader::kForwarded
                            : http::ForwardedHeader::kXForwardedFor;
  so.shutdown_grace_ms = config.server.shutdown_grace_ms;
  so.tls_cert_file = config.server.tls_cert;
  so.tls_key_file = config.server.tls_key;
  so.tls_client_certs = config.server.tls_client_certs;
  so.tls_client_ca_file = config.server.tls_client_ca;
  // Header names are compared lower-case (Request::headers).
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  so.client_cert_header = lower(config.server.client_cert_header);
  so.client_cert_verify_header = lower(config.server.client_cert_verify_header);
  so.access_log = config.log.access;
  auto server = http::Server::Create(so, router, metrics);
  if (!server) return Die(server.error().detail);
  auto db_result = OpenStore(config);
  if (!db_result) return Die(StoreError(db_result.error()));
  std::unique_ptr<store::Database> db = std::move(*db_result);
  if (config.store.migrate_on_start) {
    auto applied = db->Migrate();
    if (!applied) return Die(StoreError(applied.error()));
  }

  db->SetObserver([&metrics](std::string_view op, double seconds, bool ok) {
    metrics.RecordStore(op, seconds, ok);
  });

  uint16_t port = (*server)->port();
  if (config.server.issuer.empty()) {
    bool wildcard = false;
    config.server.issuer =
        DefaultIssuer(config.server.host, port, !config.server.tls_cert.empty(), &wildcard);
    if (wildcard) {
      log::Warn("server.issuer_defaulted",
                {{"issuer", config.server.issuer},
                 {"hint",
                  "listening on a wildcard address: set server.issuer (--issuer) to the "
                  "URL that browsers and clients on other machines use"}});
    }
  }

  auto services = BuildServices(config, *db);
  if (!services) return Die(services.error().description);
  RegisterCoreRoutes(router, config, *db, metrics);
  if (auto s = (*services)->Register(router); !s) return Die(s.error().description);
  metrics.Bind(router);

  if (!config.server.port_file.empty()) {
    std::ofstream f(config.server.port_file, std::ios::trunc);
    f << port << "\n";
    if (!f) return Die("server.port_file: cannot write '" + config.server.port_file + "'");
  }
  double startup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::string list;
  for (const auto& s : config.server.services) list += (list.empty() ? "" : ",") + s;
  log::Info("server.ready",
            {{"listen", config.server.host + ":" + std::to_string(port)},
             {"services", list},
             {"issuer", config.server.issuer},
             {"store", db->dialect() == store::Dialect::kSqlite ? "sqlite" : "postgres"},
             {"startup_ms", startup_ms},
             {"version", Version()}});
  (*services)->Start();
  (*server)->Run();
  (*services)->Stop();
  log::Info("server.stopped");
  return 0;
}

}  // namespace portcullis::app
