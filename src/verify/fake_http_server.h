#pragma once
// Test-only: an in-process HTTP/1.1 server on 127.0.0.1:0 that answers with a handler you
// control, so tests can serve a JWKS, rotate it, count fetches and answer 304. By default one
// thread and one request per connection ("Connection: close"); with set_keep_alive(true), a
// thread per connection that serves requests until the client or the server closes it.
// Header-only so that pc_verify does not ship it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace portcullis::verify::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;    // send the body with chunked transfer coding
  bool no_length = false;  // no Content-Length: the body ends with the connection
  std::string raw;         // when set, sent verbatim instead of the above
  // Keep-alive mode only (without it every connection closes after one response):
  bool close = false;  // "Connection: close" (unless raw), and close after this response
  bool drop = false;   // close the connection without answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  // With `cert_pem` and `key_pem`, it speaks TLS.
  explicit FakeHttpServer(Handler handler, const std::string& cert_pem = {},
                          const std::string& key_pem = {})
      : handler_(std::move(handler)) {
    if (!cert_pem.empty()) {
      ctx_ = SSL_CTX_new(TLS_server_method());
      BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
      BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      SSL_CTX_use_certificate(ctx_, cert);
      SSL_CTX_use_PrivateKey(ctx_, key);
      X509_free(cert);
      EVP_PKEY_free(key);
      BIO_free(cb);
      BIO_free(kb);
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    thread_.join();
    for (auto& w : workers_) w.join();
    ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }

  int port() const { return port_; }
  std::string url(std::string_view path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int requests() const { return requests_.load(); }
  // Requests whose target starts with `prefix`.
  int requests(std::string_view prefix) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& t : targets_) n += t.starts_with(prefix);
    return n;
  }
  void set_handler(Handler h) {
    std::lock_guard lock(mu_);
    handler_ = std::move(h);
  }
  // Serve many requests per connection (HTTP/1.1 persistence). Set before the first request.
  void set_keep_alive(bool on) { keep_alive_ = on; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Keep-alive mode: closes every connection that waits for its next request, as a server's
  // idle timeout does, and returns once they are closed. Call it when no request is in flight.
  void CloseIdle() {
    std::unique_lock lock(mu_);
    closing_ = true;
    open_cv_.wait(lock, [&] { return open_ == 0; });
    closing_ = false;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      if (keep_alive_) {
        std::lock_guard lock(mu_);
        ++open_;
        workers_.emplace_back([this, c] {
          Connection(c, true);
          std::lock_guard done(mu_);
          --open_;
          open_cv_.notify_all();
        });
      } else {
        Connection(c, false);
      }
    }
  }

  void Connection(int c, bool keep) {
    SSL* ssl = nullptr;
    bool accepted = true;
    if (ctx_) {
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      accepted = SSL_accept(ssl) == 1;
    }
    std::string data;  // received and not yet served
    if (accepted) {
      while (Serve(c, ssl, data, keep) && WaitForNext(c, ssl, data)) {
      }
    }
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    ::close(c);
  }

  // Between requests on a kept-alive connection: true once more bytes are there; false when the
  // client closed, the server stops, or CloseIdle asks.
  bool WaitForNext(int c, SSL* ssl, const std::string& data) {
    for (;;) {
      if (!data.empty() || (ssl && SSL_pending(ssl) > 0)) return true;
      if (stop_) return false;
      {
        std::lock_guard lock(mu_);
        if (closing_) return false;
      }
      pollfd p{c, POLLIN, 0};
      int n = ::poll(&p, 1, 20);
      if (n > 0) {
        char probe;
        return ::recv(c, &probe, 1, MSG_PEEK) > 0;
      }
    }
  }

  // One request and its answer; true if the connection stays open for another.
  bool Serve(int c, SSL* ssl, std::string& data, bool keep) {
    auto recv_some = [&](char* buf, size_t n) -> ssize_t {
      return ssl ? SSL_read(ssl, buf, static_cast<int>(n)) : ::recv(c, buf, n, 0);
    };
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    size_t end;
    while ((end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv_some(buf, sizeof buf);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    FakeRequest req;
    size_t eol = data.find("\r\n");
    std::string line = data.substr(0, eol);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    for (size_t pos = eol + 2; pos < end;) {
      size_t e = data.find("\r\n", pos);
      std::string f = data.substr(pos, e - pos);
      pos = e + 2;
      size_t colon = f.find(':');
      std::string name = f.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = f.substr(f.find_first_not_of(' ', colon + 1));
      if (name == "content-length") content_length = std::stoul(value);
      req.headers.emplace_back(name, value);
    }
    while (data.size() < end + 4 + content_length) {
      ssize_t n = recv_some(buf, sizeof buf);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    req.body = data.substr(end + 4, content_length);
    data.erase(0, end + 4 + content_length);
    Handler h;
    {
      std::lock_guard lock(mu_);
      targets_.push_back(req.target);
      h = handler_;
    }
    ++requests_;
    FakeResponse r = h(req);
    if (keep && r.drop) return false;
    const bool close = !keep || r.close || (r.no_length && r.raw.empty());
    std::string out = r.raw;
    if (out.empty()) {
      out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
      if (close) out += "Connection: close\r\n";
      for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
      if (r.chunked) {
        out += "Transfer-Encoding: chunked\r\n\r\n";
        for (size_t i = 0; i < r.body.size(); i += 7) {
          std::string part = r.body.substr(i, 7);
          char size[16];
          std::snprintf(size, sizeof size, "%zx", part.size());
          out += std::string(size) + ";ext=1\r\n" + part + "\r\n";
        }
        out += "0\r\nX-Trailer: t\r\n\r\n";
      } else if (r.no_length) {
        out += "\r\n" + r.body;
      } else {
        out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
      }
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ssl ? SSL_write(ssl, out.data() + off, static_cast<int>(out.size() - off))
                      : ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return !close;
  }

  Handler handler_;
  mutable std::mutex mu_;
  std::vector<std::string> targets_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> keep_alive_{false};
  std::atomic<int> connections_{0};
  int open_ = 0;          // kept-alive connections not yet closed; guarded by mu_
  bool closing_ = false;  // CloseIdle is waiting; guarded by mu_
  std::condition_variable open_cv_;
  std::vector<std::thread> workers_;
  int fd_ = -1;
  int port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
};

}  // namespace portcullis::verify::testing
