#pragma once
// Plain request and response types. Handlers see only these, never Beast, so they are pure
// functions from request to reply and can be tested without sockets.

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.h"

namespace portcullis::http {

// A request's header fields, in the order received, as (name, value) views; names lower-case.
// The server fills it without copying a byte: the views point into the parsed message, which
// the Headers keeps alive (shared, immutable). Fields added with emplace_back are copied into
// storage of the Headers' own. So every view lives as long as the Headers (or a copy of it)
// that handed it out; copies and moves are safe. Not thread-safe for writes.
class Headers {
 public:
  using Field = std::pair<std::string_view, std::string_view>;

  Headers() = default;
  // Copies the fields (tests, clients): {{"authorization", "Bearer x"}}.
  Headers(std::initializer_list<Field> fields);
  Headers(const Headers& o);
  Headers& operator=(const Headers& o);
  Headers(Headers&&) noexcept = default;
  Headers& operator=(Headers&&) noexcept = default;

  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void reserve(size_t n) { fields_.reserve(n); }

  // Appends a copy of the field; `name` should be lower-case.
  void emplace_back(std::string_view name, std::string_view value);
  // Case-insensitive lookup; the first occurrence.
  std::optional<std::string_view> Find(std::string_view name) const;

  // For the server: fields that view into `storage`, which this Headers keeps alive. Replaces
  // what was there.
  void Adopt(std::shared_ptr<const void> storage, std::vector<Field> fields);

 private:
  std::vector<Field> fields_;
  // Per field: the index in own_ of its copied name (the value is next), or -1 for a view.
  std::vector<int32_t> owned_;
  std::deque<std::string> own_;  // a deque: adding never moves the strings the views point at
  std::shared_ptr<const void> storage_;
};

// Header names compare case-insensitively (RFC 9110 §5.1).
bool EqualsNoCase(std::string_view a, std::string_view b);

// `path` and `query` view into `target` (or, set by hand, into whatever the caller pointed them
// at); copying or moving a Request re-points views into `target` at the copy's own target, so a
// Request is safe to copy and move. `params` names view into the router's patterns, which live
// as long as the Router.
struct Request {
  Request() = default;
  Request(const Request& o);
  Request& operator=(const Request& o);
  Request(Request&& o) noexcept;
  Request& operator=(Request&& o) noexcept;

  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received: path and query
  std::string_view path;
  std::string_view query;
  Headers headers;  // names lower-cased
  std::string body;
  // The client's address: the peer's, or, when the peer is a trusted proxy, the one it reported
  // (client_ip.h). Use it for throttles and logs.
  std::string remote_ip;
  std::string peer_ip;  // the address of the connection's other end
  bool tls = false;
  // The client certificate (DER) of mutual TLS (RFC 8705), empty when there is none: the one
  // the connection presented (server.tls_client_certs), or the one a trusted proxy passed in
  // server.client_cert_header. `client_cert_verified`: its chain verified against
  // server.tls_client_ca (or the proxy vouched for it); self-signed certificates are kept
  // unverified, for self_signed_tls_client_auth.
  std::string client_cert;
  bool client_cert_verified = false;
  // Filled by the router: values of `{name}` segments, percent-decoded.
  std::vector<std::pair<std::string_view, std::string>> params;

  // Case-insensitive header lookup; the first occurrence.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::string_view Param(std::string_view name) const;
  // Decoded query parameter. nullopt when absent or malformed.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
  Response& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// One error body for every service: the RFC 6749 `error`/`error_description` pair and, where
// light-oauth2 defines a status, its Status fields (reference §2.1), so clients of either world
// can read it. The internal detail is not rendered.
Response RenderError(const Error& error);

// Blocking work (store calls, password hashing) must not run on an I/O thread. A handler that
// needs it returns Deferred; the server runs `work` on the named pool and resumes the
// connection on its I/O thread with the result. When the pool's queue is full the caller gets
// 503 with Retry-After.
enum class Pool { kStore, kHash };
struct Deferred {
  Pool pool = Pool::kStore;
  std::function<Response()> work;
};
using Reply = std::variant<Response, Deferred>;
using Handler = std::function<Reply(Request&)>;

// Runs `work` on the store pool; the common case of a handler that needs the store.
inline Reply Blocking(std::function<Response()> work) {
  return Deferred{Pool::kStore, std::move(work)};
}

}  // namespace portcullis::http
