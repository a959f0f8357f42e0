#include "http/server.h"

#include <strings.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/encoding.h"
#include "common/log.h"
#include "http/beast_request.h"
#include "http/client_ip.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/request_head.h"
#include "http/router.h"

namespace portcullis::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What Stop() needs to reach a connection: whether it is between requests, and how to cut it.
struct SessionControl {
  bool idle = true;
  std::function<void()> cancel;
};

// One I/O thread: its own io_context, acceptor and set of connections. Everything in a Worker
// is touched only from its own thread, so nothing here needs a lock.
struct Worker {
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::unordered_set<SessionControl*> sessions;
};

class BlockingPool {
 public:
  BlockingPool(int threads, int limit) : pool_(threads), limit_(limit) {}
  bool TryReserve() {
    if (pending_.fetch_add(1, std::memory_order_relaxed) >= limit_) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void Release() { pending_.fetch_sub(1, std::memory_order_relaxed); }
  asio::thread_pool& pool() { return pool_; }

 private:
  asio::thread_pool pool_;
  std::atomic<int> pending_{0};
  const int limit_;
};

Response InternalError(std::string_view what) {
  return RenderError(Error::Internal(std::string(what)));
}

// What the per-address connection cap counts: an IPv4 address, or an IPv6 /64 (one host
// usually owns a whole /64 and can pick any address in it).
std::string SlotKey(const IpAddress& a) {
  if (a.v4) return a.ToString();
  IpAddress prefix = a;
  std::fill(prefix.bytes.begin() + 8, prefix.bytes.end(), 0);
  return prefix.ToString() + "/64";
}

// The address as IpAddress prints it, so that "::ffff:10.0.0.1" and "10.0.0.1" are one peer.
std::string CanonicalAddress(const asio::ip::address& a) {
  std::string text = a.to_string();
  auto parsed = IpAddress::Parse(text);
  return parsed ? parsed->ToString() : text;
}

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& o, const Router& router, Metrics& metrics)
      : options_(o),
        router_(router),
        metrics_(metrics),
        store_pool_(o.store_threads, o.store_queue_limit),
        hash_pool_(o.hash_threads, o.hash_queue_limit) {}

  Status Init() {
    RaiseFileLimit();
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (auto s = InitTls(); !s) return s;
    }
    int n = options_.io_threads > 0
                ? options_.io_threads
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return Fail(Error::Internal("server.listen: bad address '" + options_.host + "'"));
    }
    uint16_t port = options_.port;
    if (port != 0) {
      // SO_REUSEPORT would let this process silently share a port with another server of the
      // same user; a plain bind first turns that into a clear "address in use".
      tcp::acceptor probe(workers_probe_ioc_);
      probe.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
      // SO_REUSEADDR still refuses a port another socket listens on, but not one held only by
      // TIME_WAIT connections of a server that just stopped: a restart binds at once.
      if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) probe.bind(tcp::endpoint(address, port), ec);
      if (ec) {
        return Fail(Error::Internal("server.listen: cannot listen on " + options_.host + ":" +
                                    std::to_string(port) + ": " + ec.message()));
      }
    }
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      tcp::endpoint ep(address, port);
      tcp::acceptor a(w->ioc);
      a.open(ep.protocol(), ec);
      if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
          ec.assign(errno, boost::system::system_category());
        }
      }
      if (!ec) a.bind(ep, ec);
      if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        return Fail(Error::Internal("server.listen: cannot listen on " + options_.host + ":" +
                                    std::to_string(port) + ": " + ec.message()));
      }
      // Port 0: every later acceptor joins the port the kernel picked for the first one.
      port = a.local_endpoint().port();
      w->acceptor.emplace(std::move(a));
      workers_.push_back(std::move(w));
    }
    port_ = port;
    // Installed now, not in Run(): the caller announces readiness (the port file) before Run(),
    // and a SIGTERM in between must stop the server gracefully, not kill it (exit -15).
    signals_ = std::make_unique<asio::signal_set>(workers_[0]->ioc, SIGINT, SIGTERM);
    return {};
  }

  uint16_t port() const override { return port_; }

  void Run() override {
    for (auto& w : workers_) {
      asio::co_spawn(w->ioc, AcceptLoop(*w), asio::detached);
    }
    signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log::Info("shutdown.signal", {{"signal", sig}});
      Stop();
    });
    std::vector<std::thread> threads;
    for (size_t i = 1; i < workers_.size(); ++i) {
      threads.emplace_back([w = workers_[i].get()] { w->ioc.run(); });
    }
    workers_[0]->ioc.run();
    for (auto& t : threads) t.join();
    {
      std::lock_guard lock(stop_mu_);
      drained_ = true;
    }
    stop_cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    store_pool_.pool().join();
    hash_pool_.pool().join();
  }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i].get();
      asio::post(w->ioc, [this, w, first = i == 0] {
        boost::system::error_code ec;
        if (w->acceptor) w->acceptor->close(ec);
        for (auto* s : w->sessions) {
          if (s->idle) s->cancel();
        }
        if (first && signals_) signals_->cancel();
      });
    }
    // Requests in flight get the grace period; then whatever is left is cut.
    watchdog_ = std::thread([this] {
      std::unique_lock lock(stop_mu_);
      if (!stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.shutdown_grace_ms),
                             [this] { return drained_; })) {
        log::Warn("shutdown.forced", {{"grace_ms", options_.shutdown_grace_ms}});
        for (auto& w : workers_) w->ioc.stop();
      }
    });
  }

 private:
  struct PeerCertificate {
    std::string der;
    bool verified = false;
  };

  // The leaf certificate the client presented in the handshake, and whether its chain verified
  // against server.tls_client_ca (none configured: never).
  void ReadPeerCertificate(SSL* ssl, PeerCertificate& out) const {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return;
    int n = i2d_X509(cert, nullptr);
    if (n > 0) {
      out.der.resize(static_cast<size_t>(n));
      auto* p = reinterpret_cast<unsigned char*>(out.der.data());
      if (i2d_X509(cert, &p) != n) out.der.clear();
    }
    X509_free(cert);
    out.verified = !out.der.empty() && !options_.tls_client_ca_file.empty() &&
                   SSL_get_verify_result(ssl) == X509_V_OK;
  }

  static void RaiseFileLimit() {
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }

  Status InitTls() {
    tls_.emplace(asio::ssl::context::tls_server);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code ec;
    tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (ec) {
      return Fail(Error::Internal("server.tls_cert: cannot load '" + options_.tls_cert_file +
                                  "': " + ec.message()));
    }
    tls_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return Fail(Error::Internal("server.tls_key: cannot load '" + options_.tls_key_file +
                                  "': " + ec.message()));
    }
    if (options_.tls_client_certs) {
      // RFC 8705 §2.2: self-signed client certificates must get through the handshake, so the
      // callback accepts every chain; its verdict against the CA is read after the handshake
      // (SSL_get_verify_result) and only marks the certificate verified.
      tls_->set_verify_mode(asio::ssl::verify_peer);
      tls_->set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
      static constexpr unsigned char kSessionContext[] = "portcullis";
      SSL_CTX_set_session_id_context(tls_->native_handle(), kSessionContext,
                                     sizeof(kSessionContext) - 1);
      if (!options_.tls_client_ca_file.empty()) {
        tls_->load_verify_file(options_.tls_client_ca_file, ec);
        if (ec) {
          return Fail(Error::Internal("server.tls_client_ca: cannot load '" +
                                      options_.tls_client_ca_file + "': " + ec.message()));
        }
      }
    }
    return {};
  }

  asio::awaitable<void> AcceptLoop(Worker& w) {
    for (;;) {
      auto [ec, socket] = co_await w.acceptor->async_accept(kTuple);
      if (stopping_) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        // Out of file descriptors: back off briefly instead of spinning.
        asio::steady_timer t(w.ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(kTuple);
        continue;
      }
      if (metrics_.connections() >= options_.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      boost::system::error_code ignored;
      auto endpoint = socket.remote_endpoint(ignored);
      if (ignored) {
        socket.close(ignored);
        continue;
      }
      auto remote = CanonicalAddress(endpoint.address());
      // One address may not take every connection: past its share it is closed at once,
      // before any byte is read (a proxy we trust speaks for many clients and is exempt).
      auto parsed = IpAddress::Parse(remote);
      bool counted = !parsed || !options_.trusted_proxies.Contains(*parsed);
      std::string slot = parsed ? SlotKey(*parsed) : remote;
      if (counted && !TakeIpSlot(slot)) {
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        asio::co_spawn(w.ioc,
                       Session(w, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls_),
                               std::move(remote), true, counted ? std::move(slot) : std::string()),
                       asio::detached);
      } else {
        asio::co_spawn(w.ioc,
                       Session(w, beast::tcp_stream(std::move(socket)), std::move(remote), false,
                               counted ? std::move(slot) : std::string()),
                       asio::detached);
      }
    }
  }

  bool TakeIpSlot(const std::string& ip) {
    std::lock_guard lock(ip_mu_);
    int& n = per_ip_[ip];
    if (n >= options_.max_connections_per_ip) {
      if (n == 0) per_ip_.erase(ip);
      return false;
    }
    ++n;
    return true;
  }

  void ReleaseIpSlot(const std::string& ip) {
    std::lock_guard lock(ip_mu_);
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && --it->second <= 0) per_ip_.erase(it);
  }

  Response Options() const {
    // RFC 9110 §9.3.7: OPTIONS * asks about the server as a whole.
    std::string allow = "OPTIONS";
    for (const auto& r : router_.routes()) {
      if (allow.find(r->method) == std::string::npos) allow += ", " + r->method;
    }
    Response r = Response::Text(200, "", "");
    r.With("Allow", std::move(allow));
    return r;
  }

  template <class Stream>
  // `slot`: the per-address connection slot this connection holds (TakeIpSlot), or empty.
  asio::awaitable<void> Session(Worker& w, Stream stream, std::string peer_ip, bool tls,
                                std::string slot) {
    metrics_.ConnectionOpened();
    auto& lowest = beast::get_lowest_layer(stream);
    SessionControl control;
    control.cancel = [&lowest] { lowest.cancel(); };
    w.sessions.insert(&control);
    struct Cleanup {
      ServerImpl& server;
      Worker& w;
      SessionControl* c;
      const std::string& slot;
      ~Cleanup() {
        w.sessions.erase(c);
        server.metrics_.ConnectionClosed();
        if (!slot.empty()) server.ReleaseIpSlot(slot);
      }
    } cleanup{*this, w, &control, slot};

    const auto read_timeout = std::chrono::milliseconds(options_.read_timeout_ms);
    // The client certificate of this TLS connection (RFC 8705), when it presented one.
    PeerCertificate peer_cert;
    const auto idle_timeout = std::chrono::milliseconds(options_.idle_timeout_ms);

    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      lowest.expires_after(read_timeout);
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
      if (ec) co_return;
      if (options_.tls_client_certs) ReadPeerCertificate(stream.native_handle(), peer_cert);
    }

    beast::flat_buffer buffer;
    for (;;) {
      if (stopping_) break;
      // Between requests the connection is idle: it waits for a first byte under the idle
      // timeout, and can be cut by a graceful stop.
      control.idle = true;
      if (buffer.size() == 0) {
        lowest.expires_after(idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (ec) break;
        buffer.commit(n);
      }
      control.idle = false;
      auto started = std::chrono::steady_clock::now();
      // From its first byte a request must arrive whole within the read timeout, which cuts
      // off clients that send slowly.
      lowest.expires_after(read_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.header_limit));
      parser.body_limit(options_.body_limit);
      auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      boost::system::error_code ec = hec;
      if (!ec && !parser.is_done()) {
        auto expect = parser.get()[bhttp::field::expect];
        if (beast::iequals(expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
          auto [wec, wn] = co_await bhttp::async_write(stream, cont, kTuple);
          if (wec) break;
        }
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        ec = bec;
      }
      if (ec) {
        int status = StatusForParseError(ec);
        if (status == 0) break;  // timeout, reset or close: nothing useful to answer
        Response r = RejectedRequest(status);
        metrics_.RecordRequest(router_.routes().size(), status, Seconds(started));
        if (options_.access_log) {
          log::Info("http.request", {{"method", "-"},
                                     {"route", "-"},
                                     {"status", status},
                                     {"remote", peer_ip},
                                     {"error", ec.message()}});
        }
        co_await Write(stream, r, false, false);
        break;
      }

      auto& msg = parser.get();
      bool keep_alive = msg.keep_alive() && !stopping_;
      const unsigned version = msg.version();
      const size_t host_fields = msg.count(bhttp::field::host);
      Request req = FromBeast(parser.release(), peer_ip, tls, options_);
      // A trusted proxy's header (FromBeast) speaks for the client behind it; else the
      // connection's own certificate.
      if (!peer_cert.der.empty() && req.client_cert.empty()) {
        req.client_cert = peer_cert.der;
        req.client_cert_verified = peer_cert.verified;
      }

      metrics_.RequestStarted();
      size_t route_index = router_.routes().size();
      Response res;
      if (auto refused = Admit(req, version, host_fields, options_)) {
        res = RenderError(*refused);
        keep_alive = false;
      } else if (req.path == "*") {
        res = Options();
      } else {
        res = co_await Dispatch(req, route_index);
      }
      metrics_.RequestFinished();
      bool head = req.method == "HEAD";
      double secs = Seconds(started);
      metrics_.RecordRequest(route_index, res.status, secs);
      if (options_.access_log) {
        std::string_view route = route_index < router_.routes().size()
                                     ? std::string_view(router_.routes()[route_index]->pattern)
                                     : std::string_view("unmatched");
        log::Info("http.request", {{"method", req.method},
                                   {"route", route},
                                   {"status", res.status},
                                   {"ms", secs * 1000.0},
                                   {"bytes", static_cast<uint64_t>(res.body.size())},
                                   {"remote", req.remote_ip},
                                   {"peer", peer_ip}});
      }
      lowest.expires_after(read_timeout);
      if (!co_await Write(stream, res, keep_alive, head)) break;
      if (!keep_alive) break;
    }

    boost::system::error_code ignored;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      lowest.expires_after(std::chrono::seconds(1));
      co_await stream.async_shutdown(kTuple);
    }
  }

  static double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }

  static Response RejectedRequest(int status) {
    Error e = Error::OAuth(status, "invalid_request",
                           status == 431   ? "Request header fields too large."
                           : status == 413 ? "Request body too large."
                                           : "Malformed HTTP request.");
    return RenderError(e);
  }

  asio::awaitable<Response> Dispatch(Request& req, size_t& route_index) {
    auto match = router_.Find(req);
    if (!match.route) {
      if (match.status == 405) {
        Response r = RenderError(Error::Status("ERR10008"));
        r.With("Allow", match.allow);
        co_return r;
      }
      co_return RenderError(Error::Status("ERR10007"));
    }
    route_index = match.route->index;
    Reply reply;
    try {
      reply = match.route->handler(req);
    } catch (const std::exception& e) {
      log::Error("http.handler_exception", {{"route", match.route->pattern}, {"what", e.what()}});
      co_return InternalError(e.what());
    }
    if (auto* r = std::get_if<Response>(&reply)) co_return std::move(*r);
    auto& deferred = std::get<Deferred>(reply);
    BlockingPool& pool = deferred.pool == Pool::kHash ? hash_pool_ : store_pool_;
    if (!pool.TryReserve()) {
      co_return RenderError(Error::Unavailable("blocking pool queue full"));
    }
    // Keep the I/O context alive while the work is away on the pool.
    auto guard = asio::make_work_guard(co_await asio::this_coro::executor);
    try {
      Response r = co_await asio::co_spawn(
          pool.pool(), [&deferred]() -> asio::awaitable<Response> { co_return deferred.work(); },
          asio::use_awaitable);
      pool.Release();
      co_return r;
    } catch (const std::exception& e) {
      pool.Release();
      log::Error("http.handler_exception", {{"route", match.route->pattern}, {"what", e.what()}});
      co_return InternalError(e.what());
    }
  }

  // The response head as Beast's serializer wrote it (status line with Beast's reason phrase;
  // Server, Content-Type, the handler's fields in order, Connection: close when the connection
  // ends, Content-Length), built in one string instead of a Beast field list (one allocation per
  // field) and sent with the body in one gathered write.
  static std::string ResponseHead(const Response& r, bool keep_alive) {
    std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    size_t size = 64 + reason.size() + r.content_type.size();
    for (const auto& [k, v] : r.headers) size += k.size() + v.size() + 4;
    std::string out;
    out.reserve(size);
    out += "HTTP/1.1 ";
    out += std::to_string(r.status);
    out += ' ';
    out += reason;
    out += "\r\nServer: portcullis\r\n";
    if (!r.content_type.empty()) {
      out += "Content-Type: ";
      out += r.content_type;
      out += "\r\n";
    }
    for (const auto& [k, v] : r.headers) {
      out += k;
      out += ": ";
      out += v;
      out += "\r\n";
    }
    if (!keep_alive) out += "Connection: close\r\n";
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n\r\n";
    return out;
  }

  template <class Stream>
  asio::awaitable<bool> Write(Stream& stream, Response& r, bool keep_alive, bool head) {
    std::string head_bytes = ResponseHead(r, keep_alive);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_bytes),
                                              head ? asio::const_buffer() : asio::buffer(r.body)};
    auto [ec, n] = co_await asio::async_write(stream, buffers, kTuple);
    co_return !ec;
  }

  ServerOptions options_;
  const Router& router_;
  Metrics& metrics_;
  BlockingPool store_pool_;
  BlockingPool hash_pool_;
  std::optional<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<Worker>> workers_;
  asio::io_context workers_probe_ioc_{1};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<asio::signal_set> signals_;  // after workers_: destroyed before its ioc
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool drained_ = false;
  std::thread watchdog_;
  std::mutex ip_mu_;
  std::unordered_map<std::string, int> per_ip_;  // open connections per counted peer address
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, const Router& router,
                                               Metrics& metrics) {
  auto server = std::make_unique<ServerImpl>(options, router, metrics);
  if (auto s = server->Init(); !s) return Fail(s.error());
  return server;
}

}  // namespace portcullis::http
