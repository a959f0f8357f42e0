#pragma once
// A minimal blocking HTTP/1.1 client for libportcullis-verify's background fetches (JWKS, PEM
// keys, endpoint table, deny-list, client-credentials tokens). No Beast: the library depends
// only on OpenSSL and Boost.JSON.
//
// http:// over POSIX sockets, https:// over OpenSSL with the peer certificate and host name
// verified. Every call is bounded: one overall deadline for resolving, connecting, sending and
// receiving (a retry included), a header-block limit, a body limit, at most 8 interim (1xx)
// responses, and at most 2 × (max_header_bytes + max_body_bytes) bytes read in all (framing and
// interim responses included); memory stays within that. Bodies are framed by Content-Length,
// chunked transfer coding (RFC 9112 §7.1) or the end of the connection.
//
// HTTP/1.1 keep-alive (RFC 9112 §9.3): idle connections are pooled process-wide, keyed by
// scheme, host and port and, for https, the CA file and client certificate (their paths and
// the identity of the files: device, inode, size, modification time), so that no connection
// is shared across TLS identities or trust settings, and a replaced file takes effect on the
// next call. At most 8 idle per key and 64 in all, each idle for at most 30 s (less than common
// server idle timeouts); a connection is closed once it is 5 minutes old or has carried 100
// requests, so that DNS changes and re-checked trust reach busy connections too. A forked
// child never uses its parent's connections: it drops them without writing to them. The retry
// rule for a reused connection the server closed is in Fetch (http_client.cc).
//
// SIGPIPE: plain sockets send with MSG_NOSIGNAL; over TLS (OpenSSL writes with write(2), in the
// handshake and in reads too) SIGPIPE is blocked on the calling thread for the whole exchange,
// and one it raised is consumed, so a reset connection never kills the host process.
//
// Name resolution is within the deadline too: an IP literal is parsed without any lookup, and a
// name is resolved by getaddrinfo (which has no timeout of its own) on a helper thread that
// Fetch stops waiting for at the deadline; the thread ends, and frees its result, on its own.
// At most 32 such lookups may be left running; past that, names fail at once.
//
// Thread-safety: Fetch is reentrant, and safe on a caller's thread (libportcullis-client's
// Call and Sign run it there, with the caller's time left as the timeout); the pool takes one
// mutex briefly per call, never across I/O.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct addrinfo;

namespace portcullis::verify::internal {

struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};

// http://host[:port]/path?query or https://... ; no user-info, no fragment.
std::optional<Url> ParseUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Length when not empty
  // The request may be sent twice even if the server might have acted on it (RFC 9110 §9.2.2
  // makes GET, HEAD, OPTIONS, TRACE, PUT and DELETE so already): see the retry rule in Fetch.
  bool replayable = false;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // Case-insensitive; the first occurrence.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpOptions {
  std::chrono::milliseconds timeout{3000};
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::string ca_file;  // https: PEM bundle; empty: system default paths
  // https: a client certificate (PEM chain) and its private key (PEM) for mutual TLS (RFC 8705);
  // both or neither. libportcullis-client sends them to the token endpoint.
  std::string cert_file;
  std::string key_file;
  // Test seam: stands in for ::getaddrinfo on host names (never on IP literals); its result is
  // released with ::freeaddrinfo. Empty: ::getaddrinfo.
  std::function<int(const char* host, const char* port, const addrinfo* hints, addrinfo** res)>
      resolver;
  // Keep connections open for later requests (the pool above). Off: "Connection: close", one
  // request per connection. A custom `resolver` turns it off too: two resolvers may send one
  // name to different places, and a pool cannot tell them apart.
  bool reuse_connections = true;
  // A pooled connection is not used again once it is this old or has carried this many
  // requests. Lowered by tests; the defaults are the documented limits.
  std::chrono::milliseconds max_connection_age = std::chrono::minutes(5);
  int max_connection_requests = 100;
};

// Fails with a one-line reason (for logs) on a bad URL, resolution, connection, TLS, timeout,
// limit or framing error. Any HTTP status is a success here.
std::expected<HttpResponse, std::string> Fetch(const HttpRequest& request,
                                               const HttpOptions& options);

// Idle pooled connections Fetch would reuse for `url` with `options`. For tests.
size_t IdleConnections(std::string_view url, const HttpOptions& options);

// Test seams: makes the pool take `pid` for the process its connections belong to (as a child
// in a new PID namespace, or with a recycled pid, would look); and how many TLS connections
// were freed with OpenSSL calls.
void SetPoolOwnerForTest(pid_t pid);
size_t TlsObjectsFreedForTest();

// Fetch's response parser on `raw` as the whole byte stream of a connection: the response to a
// `method` request. For the fuzz target and tests. `persistent`, when given, tells whether the
// connection could carry another request after it (clean framing, no "Connection: close").
std::expected<HttpResponse, std::string> ParseResponse(std::string_view raw,
                                                       std::string_view method,
                                                       const HttpOptions& options,
                                                       bool* persistent = nullptr);

// Cache-Control max-age (RFC 9111 §5.2.2.1) in seconds: nullopt without max-age; 0 for
// no-cache or no-store.
std::optional<int64_t> MaxAge(std::string_view cache_control);

// RFC 7617 Basic credentials with light-oauth2's URL-encoding of id and secret.
std::string BasicAuth(std::string_view id, std::string_view secret);

}  // namespace portcullis::verify::internal
