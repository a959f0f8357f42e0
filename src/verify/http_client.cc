#include "verify/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/encoding.h"

namespace portcullis::verify::internal {
namespace {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

std::unexpected<std::string> Fail(std::string why) { return std::unexpected(std::move(why)); }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Rounded up, so that a wait never ends before the deadline (a caller that gave Fetch the time
// left to its own deadline can tell a timeout from a failure by the clock).
int RemainingMs(Deadline deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// Waits for `events` on `fd`; false on timeout or error.
bool WaitFd(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = RemainingMs(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

using AddrInfo = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

// Lookups still running after their caller gave up at its deadline (bounded: each holds a
// thread). Only abandoned ones count: lookups someone still waits for are bounded by the callers.
std::atomic<int> g_abandoned_lookups{0};
constexpr int kMaxAbandonedLookups = 32;

// One getaddrinfo on a helper thread, shared with the caller that may stop waiting for it.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;  // the caller stopped waiting; counted in g_abandoned_lookups
  int rc = 0;
  addrinfo* res = nullptr;
  ~Lookup() {
    if (res) ::freeaddrinfo(res);
  }
};

// getaddrinfo has no timeout: an IP literal is parsed without a lookup, a name is resolved on a
// helper thread that we wait for until `deadline` at most.
std::expected<AddrInfo, std::string> Resolve(const Url& url, const HttpOptions& options,
                                             Deadline deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  std::string port = std::to_string(url.port);
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc == 0) return AddrInfo(res, &::freeaddrinfo);
  if (rc != EAI_NONAME) return Fail("resolve " + url.host + ": " + gai_strerror(rc));
  hints.ai_flags = AI_NUMERICSERV;
  if (g_abandoned_lookups.load() >= kMaxAbandonedLookups) {
    return Fail("resolve " + url.host + ": too many abandoned lookups pending");
  }
  auto lookup = std::make_shared<Lookup>();
  auto resolver = options.resolver;
  try {
    std::thread([lookup, resolver, host = url.host, port, hints] {
      addrinfo* found = nullptr;
      int code = resolver ? resolver(host.c_str(), port.c_str(), &hints, &found)
                          : ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      bool was_abandoned = false;
      {
        std::lock_guard lock(lookup->mu);
        lookup->rc = code;
        lookup->res = code == 0 ? found : nullptr;
        lookup->done = true;
        was_abandoned = lookup->abandoned;
      }
      lookup->cv.notify_all();
      if (was_abandoned) g_abandoned_lookups.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    return Fail("resolve " + url.host + ": no thread");
  }
  std::unique_lock lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    lookup->abandoned = true;
    g_abandoned_lookups.fetch_add(1);
    return Fail("resolve " + url.host + ": timeout");
  }
  if (lookup->rc != 0) return Fail("resolve " + url.host + ": " + gai_strerror(lookup->rc));
  return AddrInfo(std::exchange(lookup->res, nullptr), &::freeaddrinfo);
}

std::expected<int, std::string> Connect(const Url& url, const HttpOptions& options,
                                        Deadline deadline) {
  auto resolved = Resolve(url, options, deadline);
  if (!resolved) return Fail(resolved.error());
  const std::string port = std::to_string(url.port);
  std::string last = "no address";
  for (addrinfo* ai = resolved->get(); ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    FdCloser closer{fd};
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = std::string("connect: ") + std::strerror(errno);
        continue;
      }
      if (!WaitFd(fd, POLLOUT, deadline)) {
        last = "connect: timeout";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = std::string("connect: ") + std::strerror(err);
        continue;
      }
    }
    closer.fd = -1;
    return fd;
  }
  return Fail(url.host + ":" + port + ": " + last);
}

std::string SslErrorText() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "tls error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// OpenSSL writes with write(2), which raises SIGPIPE on a connection the peer has reset (a
// pooled one the server closed, say); a library must not kill its host with that. It writes in
// SSL_write, in the handshake, and in SSL_read too (a TLS 1.2 renegotiation, a TLS 1.3
// KeyUpdate), so Fetch blocks the signal on this thread for the whole TLS exchange, and one it
// raised is consumed (as libpq does).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeBlock() {
    if (!blocked_) return;
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

// SSL objects ~Stream freed; for tests.
std::atomic<size_t> g_tls_frees{0};

// A connected stream, plain or TLS, with deadline-bounded reads and writes.
class Stream {
 public:
  explicit Stream(int fd) : fd_(fd), opened_(Clock::now()) {}
  ~Stream() {
    if (ssl_) {
      SSL_free(ssl_);
      g_tls_frees.fetch_add(1, std::memory_order_relaxed);
    }
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  std::expected<void, std::string> StartTls(const Url& url, const HttpOptions& options,
                                            Deadline deadline) {
    const std::string& ca_file = options.ca_file;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return Fail("tls: " + SslErrorText());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                             : SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    if (ok != 1) return Fail("tls trust store: " + SslErrorText());
    if (!options.cert_file.empty() || !options.key_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(ctx_) != 1) {
        return Fail("tls client certificate: " + SslErrorText());
      }
    }
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return Fail("tls: " + SslErrorText());
    in6_addr a6;
    in_addr a4;
    bool ip = inet_pton(AF_INET, url.host.c_str(), &a4) == 1 ||
              inet_pton(AF_INET6, url.host.c_str(), &a6) == 1;
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, url.host.c_str());  // RFC 6066 §3: no IP literals in SNI
      SSL_set1_host(ssl_, url.host.c_str());
    }
    for (;;) {
      int rc = SSL_connect(ssl_);
      if (rc == 1) return {};
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ && WaitFd(fd_, POLLIN, deadline)) continue;
      if (err == SSL_ERROR_WANT_WRITE && WaitFd(fd_, POLLOUT, deadline)) continue;
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return Fail("tls handshake: timeout");
      }
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        ERR_clear_error();
        return Fail(std::string("tls handshake: ") + X509_verify_cert_error_string(verify));
      }
      return Fail("tls handshake: " + SslErrorText());
    }
  }

  std::expected<void, std::string> WriteAll(std::string_view data, Deadline deadline) {
    while (!data.empty()) {
      if (ssl_) {
        size_t written = 0;
        int rc = SSL_write_ex(ssl_, data.data(), data.size(), &written);  // SIGPIPE: see Fetch
        if (rc == 1) {
          data.remove_prefix(written);
          continue;
        }
        int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_WANT_READ && WaitFd(fd_, POLLIN, deadline)) continue;
        if (err == SSL_ERROR_WANT_WRITE && WaitFd(fd_, POLLOUT, deadline)) continue;
        return Fail("send: " + SslErrorText());
      }
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!WaitFd(fd_, POLLOUT, deadline)) return Fail("send: timeout");
      } else {
        return Fail(std::string("send: ") + std::strerror(errno));
      }
    }
    return {};
  }

  // Appends up to `max` bytes; 0 at the end of the stream.
  std::expected<size_t, std::string> ReadSome(std::string& out, size_t max, Deadline deadline) {
    char buf[16 * 1024];
    max = std::min(max, sizeof buf);
    for (;;) {
      if (ssl_) {
        size_t got = 0;
        int rc = SSL_read_ex(ssl_, buf, max, &got);
        if (rc == 1) {
          out.append(buf, got);
          return got;
        }
        int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        if (err == SSL_ERROR_WANT_READ) {
          if (!WaitFd(fd_, POLLIN, deadline)) return Fail("receive: timeout");
          continue;
        }
        if (err == SSL_ERROR_WANT_WRITE) {
          if (!WaitFd(fd_, POLLOUT, deadline)) return Fail("receive: timeout");
          continue;
        }
        // A peer that closes without close_notify: treat as the end (framing decides).
        if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL) {
          std::string why = SslErrorText();
          if (why.find("unexpected eof") != std::string::npos || why == "tls error") return 0;
          return Fail("receive: " + why);
        }
        return Fail("receive: " + SslErrorText());
      }
      ssize_t n = ::recv(fd_, buf, max, 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        return static_cast<size_t>(n);
      }
      if (n == 0) return 0;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFd(fd_, POLLIN, deadline)) return Fail("receive: timeout");
        continue;
      }
      return Fail(std::string("receive: ") + std::strerror(errno));
    }
  }

  // True when nothing has arrived since the last response: no buffered TLS record, and the
  // socket neither readable nor closed. Anything else (the peer's FIN or RST, stray bytes, a
  // TLS alert) makes the connection unfit for another request.
  bool Quiet() const {
    if (ssl_ && SSL_has_pending(ssl_)) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // In a forked child, on a connection inherited from the parent: the destructor then only
  // closes the socket. Freeing the SSL objects would take OpenSSL's internal locks, which
  // another parent thread may have held at fork time (held for good in the child: a
  // deadlock). They are leaked instead, at most the pool's cap per fork.
  void AbandonAfterFork() {
    ssl_ = nullptr;
    ctx_ = nullptr;
  }

  // For the pool's limits: when the connection was made, and the requests sent on it.
  Clock::time_point opened() const { return opened_; }
  int requests() const { return requests_; }
  void CountRequest() { ++requests_; }

 private:
  int fd_;
  const Clock::time_point opened_;
  int requests_ = 0;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// Where a Reader gets bytes: appends at most `max` bytes to `out`; 0 at the end of the stream.
using ReadFn = std::function<std::expected<size_t, std::string>(std::string& out, size_t max)>;

// Buffered reader over a byte source (a connection, or memory for the fuzz target).
// Keeps only unread bytes, and fails once more than `budget` bytes have arrived in all, so
// neither a flood of small lines nor framing overhead can grow memory past the limits.
class Reader {
 public:
  Reader(ReadFn read, size_t budget) : read_(std::move(read)), budget_(budget) {}

  // A line without its CRLF (a bare LF is tolerated), at most `max` bytes.
  std::expected<std::string, std::string> Line(size_t max) {
    for (;;) {
      size_t lf = buf_.find('\n', pos_);
      if (lf != std::string::npos) {
        std::string line = buf_.substr(pos_, lf - pos_);
        pos_ = lf + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > max) return Fail("line too long");
        return line;
      }
      if (buf_.size() - pos_ > max + 1) return Fail("line too long");  // +1: a pending CR
      if (auto n = Fill(); !n) {
        return Fail(n.error());
      } else if (*n == 0) {
        return Fail("connection closed mid-line");
      }
    }
  }

  std::expected<void, std::string> Exact(size_t n, std::string& out) {
    while (buf_.size() - pos_ < n) {
      auto got = Fill();
      if (!got) return Fail(got.error());
      if (*got == 0) return Fail("connection closed mid-body");
    }
    out.append(buf_, pos_, n);
    pos_ += n;
    return {};
  }

  // Bytes received so far, and bytes received but not consumed.
  size_t received() const { return received_; }
  size_t unread() const { return buf_.size() - pos_; }

  // Everything until the peer closes, at most `max` bytes in `out` in all.
  std::expected<void, std::string> ToEnd(std::string& out, size_t max) {
    for (;;) {
      out.append(buf_, pos_);
      buf_.clear();
      pos_ = 0;
      if (out.size() > max) return Fail("body too large");
      auto got = Fill();
      if (!got) return Fail(got.error());
      if (*got == 0) return {};
    }
  }

 private:
  std::expected<size_t, std::string> Fill() {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    auto got = read_(buf_, 16 * 1024);
    if (got && (received_ += *got) > budget_) return Fail("response too large");
    return got;
  }

  ReadFn read_;
  const size_t budget_;
  size_t received_ = 0;
  std::string buf_;
  size_t pos_ = 0;
};

std::optional<uint64_t> ParseUint(std::string_view s, int base = 10) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::expected<void, std::string> ReadChunked(Reader& r, std::string& body, size_t max) {
  // RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF.
  for (;;) {
    auto line = r.Line(1024);
    if (!line) return Fail(line.error());
    std::string_view size_text = *line;
    if (size_t semi = size_text.find(';'); semi != std::string_view::npos) {
      size_text = size_text.substr(0, semi);
    }
    auto size = ParseUint(Trim(size_text), 16);
    if (!size) return Fail("bad chunk size");
    if (*size == 0) break;
    if (*size > max || body.size() + *size > max) return Fail("body too large");
    if (auto s = r.Exact(static_cast<size_t>(*size), body); !s) return s;
    auto crlf = r.Line(0);
    if (!crlf) return Fail("bad chunk end");
  }
  for (int i = 0; i < 64; ++i) {  // trailer fields, ignored
    auto line = r.Line(8 * 1024);
    if (!line) return Fail(line.error());
    if (line->empty()) return {};
  }
  return Fail("too many trailer fields");
}

constexpr int kMaxInterimResponses = 8;

// Everything read from one connection: status lines, headers, chunk framing, trailers and
// body together.
size_t ResponseBudget(const HttpOptions& o) { return 2 * (o.max_header_bytes + o.max_body_bytes); }

std::string HostHeader(const Url& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
  return host;
}

// The items of a comma-separated field value (RFC 9110 §5.6.1), trimmed; empty ones skipped.
std::vector<std::string_view> ListItems(std::string_view value) {
  std::vector<std::string_view> items;
  for (;;) {
    size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) return items;
    value.remove_prefix(comma + 1);
  }
}

// Whether a Connection field lists `close` (RFC 9112 §9.6); every field line counts.
bool SaysClose(const HttpResponse& response) {
  for (const auto& [k, v] : response.headers) {
    if (k != "connection") continue;
    for (std::string_view item : ListItems(v)) {
      if (EqualsIgnoreCase(item, "close")) return true;
    }
  }
  return false;
}

// How a response body is delimited: chunked, a length, or neither (until the server closes).
struct Framing {
  bool chunked = false;
  std::optional<uint64_t> length;
  // Read as older servers mean it, but the connection is not reused after it: a proxy on the
  // path could have read it differently and be out of step with us from here on.
  bool lenient = false;
};

// RFC 9112 §6.3. Refused, as framing two parties could read differently: chunked together with
// Content-Length, differing Content-Length values, chunked not last or twice, and any coding
// but chunked. Tolerated but lenient: "identity" codings (ignored, as before RFC 9112 dropped
// them), several Transfer-Encoding fields, and one Content-Length value repeated (read as one,
// which §6.3 allows).
std::expected<Framing, std::string> ParseFraming(const HttpResponse& response) {
  Framing f;
  std::vector<std::string_view> codings;
  int te_fields = 0;
  for (const auto& [k, v] : response.headers) {
    if (k == "transfer-encoding") {
      auto items = ListItems(v);
      if (items.empty()) return Fail("unsupported transfer-encoding");
      if (++te_fields > 1) f.lenient = true;
      codings.insert(codings.end(), items.begin(), items.end());
    } else if (k == "content-length") {
      auto items = ListItems(v);
      if (items.empty()) return Fail("bad content-length");
      for (std::string_view item : items) {
        auto n = ParseUint(item);
        if (!n) return Fail("bad content-length");
        if (f.length && *f.length != *n) return Fail("differing content-length values");
        if (f.length) f.lenient = true;
        f.length = n;
      }
    }
  }
  size_t chunked = 0;
  for (std::string_view c : codings) {
    if (EqualsIgnoreCase(c, "chunked")) {
      ++chunked;
    } else if (EqualsIgnoreCase(c, "identity")) {
      f.lenient = true;
    } else {
      return Fail("unsupported transfer-encoding");
    }
  }
  if (chunked > 1) return Fail("chunked applied twice");
  if (chunked == 1 && !EqualsIgnoreCase(codings.back(), "chunked")) {
    return Fail("chunked is not the last transfer coding");
  }
  f.chunked = chunked == 1;
  if (f.chunked && f.length) return Fail("both transfer-encoding and content-length");
  return f;
}

// Reads the status line, the header block and the body of one response (RFC 9112). On success,
// `*persistent` says whether the connection may carry another request: an HTTP/1.1 response
// with clean framing (none, Content-Length or chunked; see ParseFraming) and no "Connection:
// close".
std::expected<HttpResponse, std::string> ReadResponse(Reader& reader, std::string_view method,
                                                      const HttpOptions& options,
                                                      bool* persistent) {
  *persistent = false;
  HttpResponse response;
  bool http11 = false;
  for (int interim = 0;; ++interim) {  // 1xx interim responses are skipped (RFC 9110 §15.2)
    if (interim > kMaxInterimResponses) return Fail("too many interim responses");
    size_t header_bytes = 0;
    auto status_line = reader.Line(options.max_header_bytes);
    if (!status_line) return Fail("status line: " + status_line.error());
    std::string_view sl = *status_line;
    if (!sl.starts_with("HTTP/1.") || sl.size() < 12 || sl[8] != ' ' ||
        (sl.size() > 12 && sl[12] != ' ')) {
      return Fail("not an HTTP/1.x response");
    }
    http11 = !sl.starts_with("HTTP/1.0");
    auto status = ParseUint(sl.substr(9, 3));
    if (!status || *status < 100 || *status > 599) return Fail("bad status code");
    response.status = static_cast<int>(*status);
    response.headers.clear();
    header_bytes += sl.size();
    for (;;) {
      auto line = reader.Line(options.max_header_bytes);
      if (!line) return Fail("header: " + line.error());
      if (line->empty()) break;
      header_bytes += line->size() + 2;
      if (header_bytes > options.max_header_bytes) return Fail("header block too large");
      size_t colon = line->find(':');
      if (colon == std::string::npos || colon == 0) return Fail("malformed header field");
      response.headers.emplace_back(LowerCopy(std::string_view(*line).substr(0, colon)),
                                    std::string(Trim(std::string_view(*line).substr(colon + 1))));
    }
    if (response.status >= 200) break;
  }

  const bool keep = http11 && !SaysClose(response);
  auto framing = ParseFraming(response);
  if (method == "HEAD" || response.status == 204 || response.status == 304) {
    // No body, whatever the framing fields say (RFC 9112 §6.3), so none of them is refused
    // here. Reused only when they are clean and a 204 announces no body (a server that sends
    // one anyway would leave it on the connection as the next response).
    *persistent = keep && framing && !framing->lenient &&
                  !(response.status == 204 && (framing->chunked || framing->length.value_or(0)));
    return response;
  }
  if (!framing) return Fail(framing.error());
  const bool reusable = keep && !framing->lenient;
  if (framing->chunked) {
    if (auto s = ReadChunked(reader, response.body, options.max_body_bytes); !s) {
      return Fail("body: " + s.error());
    }
    *persistent = reusable;
    return response;
  }
  if (framing->length) {
    const uint64_t n = *framing->length;
    if (n > options.max_body_bytes) return Fail("body too large");
    if (auto s = reader.Exact(static_cast<size_t>(n), response.body); !s) {
      return Fail("body: " + s.error());
    }
    *persistent = reusable;
    return response;
  }
  // Delimited by the end of the connection: nothing left to reuse.
  if (auto s = reader.ToEnd(response.body, options.max_body_bytes); !s) {
    return Fail("body: " + s.error());
  }
  return response;
}

// Idle keep-alive connections, shared by every Fetch in the process.
constexpr size_t kMaxIdlePerKey = 8;
constexpr size_t kMaxIdle = 64;
// Below most server idle timeouts (nginx 75 s), so that we seldom pick a connection the server
// is closing; for shorter ones (Apache's and Node's 5 s) Take's check and Fetch's retry rule.
constexpr auto kIdleLifetime = std::chrono::seconds(30);
// Whatever a caller's limits, no connection stays pooled past the default age.
const auto kMaxConnectionAge = HttpOptions{}.max_connection_age;

// `path` and, when it exists, the identity of the file it names: a file replaced or rewritten
// in place (a rotated CA bundle or client certificate) gives another key, so connections whose
// handshake used the old contents are never picked again.
void AppendFile(std::string& key, const std::string& path) {
  key += '\0' + path;
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return;
  for (auto n :
       {uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size), uint64_t(st.st_mtim.tv_sec),
        uint64_t(st.st_mtim.tv_nsec), uint64_t(st.st_ctim.tv_sec), uint64_t(st.st_ctim.tv_nsec)}) {
    key += ':' + std::to_string(n);
  }
}

// Everything that decides what a connection is: where it goes and, for TLS, whom it trusted
// and who it claimed to be. NUL separates the parts (no path or host contains one).
std::string PoolKey(const Url& url, const HttpOptions& options) {
  std::string key = url.tls ? "https" : "http";
  key += '\0' + url.host + '\0' + std::to_string(url.port);
  if (url.tls) {
    AppendFile(key, options.ca_file);
    AppendFile(key, options.cert_file);
    AppendFile(key, options.key_file);
  }
  return key;
}

// Whether `stream` may carry another request under `options`' limits.
bool Reusable(const Stream& stream, const HttpOptions& options) {
  return stream.requests() < options.max_connection_requests &&
         Clock::now() - stream.opened() < options.max_connection_age;
}

class ConnectionPool {
 public:
  ConnectionPool() : pid_(::getpid()) {}

  // The most recently used live connection for `key` within `options`' limits, or null.
  // Connections that have expired, or on which anything arrived while idle (the server's
  // close, say), are closed.
  std::unique_ptr<Stream> Take(const std::string& key, const HttpOptions& options) {
    for (;;) {
      std::vector<std::unique_ptr<Stream>> dead;  // closed outside the lock
      std::unique_ptr<Stream> found;
      {
        std::lock_guard lock(mu_);
        DropExpired(dead);
        for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
          if (it->key == key) {
            found = std::move(it->stream);
            idle_.erase(std::next(it).base());
            break;
          }
        }
      }
      if (!found || (found->Quiet() && Reusable(*found, options))) return found;
    }
  }

  void Put(std::string key, std::unique_ptr<Stream> stream) {
    std::vector<std::unique_ptr<Stream>> dead;
    std::lock_guard lock(mu_);
    DropExpired(dead);
    size_t same = 0;
    for (const Entry& e : idle_) same += e.key == key;
    if (same >= kMaxIdlePerKey) {
      auto oldest =
          std::find_if(idle_.begin(), idle_.end(), [&](const Entry& e) { return e.key == key; });
      dead.push_back(std::move(oldest->stream));
      idle_.erase(oldest);
    }
    if (idle_.size() >= kMaxIdle) {
      dead.push_back(std::move(idle_.front().stream));
      idle_.pop_front();
    }
    idle_.push_back({std::move(key), std::move(stream), Clock::now()});
  }

  // The pthread_atfork handlers: fork waits for mu_, and the child, which holds it, notes the
  // fork before letting go.
  void Lock() { mu_.lock(); }
  void Unlock() { mu_.unlock(); }
  void UnlockInChild() {
    forked_ = true;
    mu_.unlock();
  }

  void SetOwnerForTest(pid_t pid) {
    std::lock_guard lock(mu_);
    pid_ = pid;
  }

  size_t Count(const std::string& key) {
    std::vector<std::unique_ptr<Stream>> dead;
    std::lock_guard lock(mu_);
    DropExpired(dead);
    return std::count_if(idle_.begin(), idle_.end(), [&](const Entry& e) { return e.key == key; });
  }

 private:
  struct Entry {
    std::string key;
    std::unique_ptr<Stream> stream;
    Clock::time_point since;
  };

  // Under mu_: entries idle too long or too old. And in a forked child (fork copies the pool),
  // every entry: those sockets are the parent's too, and two processes writing requests on one
  // socket would read each other's responses. The child only closes its copies of the sockets
  // (no TLS close_notify, no OpenSSL call: see AbandonAfterFork), which leaves the parent's
  // connections intact. A fork is known by the flag the atfork child handler sets, which a
  // child with the parent's pid (a new PID namespace, a recycled pid) also gets, and by the pid,
  // for a raw clone() that runs no atfork handlers.
  void DropExpired(std::vector<std::unique_ptr<Stream>>& dead) {
    const pid_t pid = ::getpid();
    const bool forked = forked_ || pid != pid_;
    forked_ = false;
    pid_ = pid;
    const auto now = Clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (forked || now - it->since >= kIdleLifetime ||
          now - it->stream->opened() >= kMaxConnectionAge) {
        if (forked) it->stream->AbandonAfterFork();
        dead.push_back(std::move(it->stream));
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Guards the members below. The atfork prepare handler takes it, while glibc holds its own
  // fork lock: nothing may call out while holding mu_ (no I/O, no OpenSSL, no other lock, no
  // callback), or fork could deadlock. Dead streams are closed after the lock is released.
  std::mutex mu_;
  std::deque<Entry> idle_;
  pid_t pid_;            // the process the entries belong to
  bool forked_ = false;  // set in a forked child, before its first use of the pool
};

// Never destroyed: Fetch may run on threads that outlive static destruction.
ConnectionPool& Pool() {
  static ConnectionPool* pool = [] {
    auto* p = new ConnectionPool;
    // mu_ is held only briefly and never across I/O, but a fork at that moment would leave it
    // locked for good in the child (whose copy of the holder thread never runs): fork waits
    // for it instead.
    pthread_atfork([] { Pool().Lock(); }, [] { Pool().Unlock(); }, [] { Pool().UnlockInChild(); });
    return p;
  }();
  return *pool;
}

bool Replayable(const HttpRequest& request) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (request.method == m) return true;
  }
  return request.replayable;
}

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<Url> ParseUrl(std::string_view text) {
  Url url;
  if (text.size() > 4096) return std::nullopt;
  if (text.starts_with("http://")) {
    text.remove_prefix(7);
    url.port = 80;
  } else if (text.starts_with("https://")) {
    text.remove_prefix(8);
    url.tls = true;
    url.port = 443;
  } else {
    return std::nullopt;
  }
  size_t slash = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? "" : text.substr(slash);
  if (rest.find('#') != std::string_view::npos) return std::nullopt;
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::nullopt;
  for (char c : url.host) {
    if (c <= ' ' || c == '/' || c == '\\' || c == '\x7f') return std::nullopt;
  }
  if (!port.empty()) {
    auto p = ParseUint(port);
    if (!p || *p == 0 || *p > 65535) return std::nullopt;
    url.port = static_cast<uint16_t>(*p);
  }
  url.target = rest.empty() ? "/" : std::string(rest);
  if (url.target.front() == '?') url.target.insert(0, "/");
  for (char c : url.target) {
    if (c <= ' ' || c == '\x7f') return std::nullopt;
  }
  return url;
}

std::expected<HttpResponse, std::string> Fetch(const HttpRequest& request,
                                               const HttpOptions& options) {
  auto url = ParseUrl(request.url);
  if (!url) return Fail("bad url");
  const bool reuse = options.reuse_connections && !options.resolver;
  std::string head = request.method + " " + url->target + " HTTP/1.1\r\nHost: " + HostHeader(*url) +
                     "\r\nUser-Agent: portcullis-verify/0.1\r\n";
  if (!reuse) head += "Connection: close\r\n";
  for (const auto& [k, v] : request.headers) {
    if (k.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos) {
      return Fail("bad request header");
    }
    head += k + ": " + v + "\r\n";
  }
  if (!request.body.empty() || request.method == "POST") {
    head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  head += "\r\n";
  head += request.body;
  const Deadline deadline = Clock::now() + options.timeout;
  const std::string key = reuse ? PoolKey(*url, options) : std::string();

  // Retry rule (RFC 9112 §9.3.1): a server may close an idle connection just as we reuse it.
  // When a pooled connection fails before any byte of the response arrived (the write fails,
  // or the read ends or is reset), the request goes once more on a fresh connection, within the
  // same deadline. A failed write means the server never got the whole request, so any request
  // is retried; after a complete write, only replayable ones are (the server might have acted
  // on it before closing). Never after a response byte, and never on a fresh connection.
  std::optional<SigpipeBlock> no_sigpipe;  // plain sockets send with MSG_NOSIGNAL instead
  if (url->tls) no_sigpipe.emplace();
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Stream> stream = reuse && attempt == 0 ? Pool().Take(key, options) : nullptr;
    const bool reused = stream != nullptr;
    if (!stream) {
      auto fd = Connect(*url, options, deadline);
      if (!fd) return Fail(fd.error());
      stream = std::make_unique<Stream>(*fd);
      if (url->tls) {
        if (auto s = stream->StartTls(*url, options, deadline); !s) return Fail(s.error());
      }
    }
    stream->CountRequest();
    if (auto s = stream->WriteAll(head, deadline); !s) {
      if (reused && Clock::now() < deadline) continue;
      return Fail(s.error());
    }
    Reader reader(
        [&](std::string& out, size_t max) { return stream->ReadSome(out, max, deadline); },
        ResponseBudget(options));
    bool persistent = false;
    auto response = ReadResponse(reader, request.method, options, &persistent);
    if (!response) {
      if (reused && reader.received() == 0 && Clock::now() < deadline && Replayable(request)) {
        continue;
      }
      return response;
    }
    // Bytes past the response would be taken for the next one: such a connection is dropped.
    if (reuse && persistent && reader.unread() == 0 && stream->Quiet() &&
        Reusable(*stream, options)) {
      Pool().Put(key, std::move(stream));
    }
    return response;
  }
}

size_t IdleConnections(std::string_view url, const HttpOptions& options) {
  auto parsed = ParseUrl(url);
  if (!parsed) return 0;
  return Pool().Count(PoolKey(*parsed, options));
}

void SetPoolOwnerForTest(pid_t pid) { Pool().SetOwnerForTest(pid); }

size_t TlsObjectsFreedForTest() { return g_tls_frees.load(); }

std::expected<HttpResponse, std::string> ParseResponse(std::string_view raw,
                                                       std::string_view method,
                                                       const HttpOptions& options,
                                                       bool* persistent) {
  Reader reader(
      [raw](std::string& out, size_t max) mutable -> std::expected<size_t, std::string> {
        size_t n = std::min(max, raw.size());
        out.append(raw.substr(0, n));
        raw.remove_prefix(n);
        return n;
      },
      ResponseBudget(options));
  bool ignored = false;
  return ReadResponse(reader, method, options, persistent ? persistent : &ignored);
}

std::optional<int64_t> MaxAge(std::string_view cache_control) {
  std::optional<int64_t> max_age;
  size_t pos = 0;
  while (pos <= cache_control.size()) {
    size_t comma = cache_control.find(',', pos);
    std::string_view item = Trim(cache_control.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    std::string_view name = item, value;
    if (size_t eq = item.find('='); eq != std::string_view::npos) {
      name = Trim(item.substr(0, eq));
      value = Trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
    }
    if (EqualsIgnoreCase(name, "no-store") || EqualsIgnoreCase(name, "no-cache")) return 0;
    if (EqualsIgnoreCase(name, "max-age") && !max_age) {
      // RFC 9111 §1.2.2: a delta-seconds too large to represent counts as 2^31.
      if (auto v = ParseUint(value)) {
        max_age = static_cast<int64_t>(std::min<uint64_t>(*v, 2147483648ull));
      } else if (!value.empty() && std::all_of(value.begin(), value.end(),
                                               [](char c) { return c >= '0' && c <= '9'; })) {
        max_age = 2147483648ll;
      }
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return max_age;
}

std::string BasicAuth(std::string_view id, std::string_view secret) {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
  return "Basic " + Base64Encode(PercentEncode(id) + ":" + PercentEncode(secret));
}

}  // namespace portcullis::verify::internal
