#pragma once
// The HTTP/1.1 server: Boost.Beast with C++20 coroutines, one io_context per I/O thread, each
// with its own SO_REUSEPORT acceptor so connections never migrate between threads. Blocking
// work runs on two bounded pools (store, hash) and resumes on the connection's thread.
// Beast and Asio stay inside server.cc; this header is cheap to include.

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "http/client_ip.h"

namespace portcullis::http {

class Router;
class Metrics;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6880;  // 0 picks a free port; see Server::port()
  int io_threads = 0;    // 0: one per core
  int store_threads = 8;
  int hash_threads = 2;
  int store_queue_limit = 1024;  // waiting jobs beyond this get 503
  int hash_queue_limit = 64;
  size_t header_limit = 8 * 1024;
  size_t body_limit = 64 * 1024;
  int read_timeout_ms = 10'000;  // whole request, from its first byte
  int idle_timeout_ms = 60'000;  // keep-alive connection waiting for its next request
  int max_connections = 10'000;
  // Open connections from one peer address (IPv6: one /64); more are closed at once. Trusted
  // proxies are exempt: every client behind them shares their address.
  int max_connections_per_ip = 256;
  // Requests with more header fields, or more query or form-body parameters, get 400.
  size_t max_headers = 100;
  size_t max_params = 100;
  // Peers whose X-Forwarded-For / Forwarded is believed (see client_ip.h).
  AddressRanges trusted_proxies;
  ForwardedHeader client_ip_header = ForwardedHeader::kXForwardedFor;
  int shutdown_grace_ms = 5'000;
  std::string tls_cert_file;  // PEM; TLS is on when both files are set
  std::string tls_key_file;
  // Mutual TLS (RFC 8705, README "mTLS"). With tls_client_certs the listener asks every client
  // for a certificate without requiring one, and accepts whatever chain it sends at the TLS
  // layer: self-signed certificates must pass (self_signed_tls_client_auth, RFC 8705 §2.2) and
  // the token endpoint decides. The chain's check against tls_client_ca_file (PEM; empty: none
  // is trusted) only sets Request::client_cert_verified, which tls_client_auth requires.
  bool tls_client_certs = false;
  std::string tls_client_ca_file;
  // Behind a TLS-terminating proxy: the header (lower-case) carrying the client certificate as
  // URL-encoded PEM, believed from trusted_proxies only (client_cert.h); empty: off. When
  // client_cert_verify_header is set, the proxy's verdict there must be "SUCCESS" for the
  // certificate to count as verified.
  std::string client_cert_header;
  std::string client_cert_verify_header;
  bool access_log = true;
};

class Server {
 public:
  // Binds the listening sockets; fails with a clear error when the address is taken or the TLS
  // files cannot be read.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options, const Router& router,
                                                Metrics& metrics);
  virtual ~Server() = default;

  virtual uint16_t port() const = 0;
  // Serves until Stop() and the graceful drain complete. Installs SIGTERM/SIGINT handlers that
  // call Stop().
  virtual void Run() = 0;
  // Thread-safe. Refuses new connections, lets requests in flight finish, closes idle
  // connections, and forces the rest closed after the grace period.
  virtual void Stop() = 0;
};

}  // namespace portcullis::http
