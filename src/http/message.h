#pragma once
// Plain request and response types. Handlers see only these, never Beast, so they are pure
// functions from request to reply and can be tested without sockets.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.h"

namespace portcullis::http {

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as received: path and query
  std::string_view path;
  std::string_view query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The client's address: the peer's, or, when the peer is a trusted proxy, the one it reported
  // (client_ip.h). Use it for throttles and logs.
  std::string remote_ip;
  std::string peer_ip;  // the address of the connection's other end
  bool tls = false;
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
