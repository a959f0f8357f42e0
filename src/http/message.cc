#include "http/message.h"

#include <strings.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"

namespace portcullis::http {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// --- Headers ---

Headers::Headers(std::initializer_list<Field> fields) {
  fields_.reserve(fields.size());
  for (const auto& [k, v] : fields) emplace_back(k, v);
}

Headers::Headers(const Headers& o) : storage_(o.storage_) {
  fields_.reserve(o.fields_.size());
  for (size_t i = 0; i < o.fields_.size(); ++i) {
    if (o.owned_[i] < 0) {
      fields_.push_back(o.fields_[i]);  // a view into the shared, immutable storage
      owned_.push_back(-1);
    } else {
      emplace_back(o.fields_[i].first, o.fields_[i].second);
    }
  }
}

Headers& Headers::operator=(const Headers& o) {
  if (this != &o) *this = Headers(o);
  return *this;
}

void Headers::emplace_back(std::string_view name, std::string_view value) {
  owned_.push_back(static_cast<int32_t>(own_.size()));
  const std::string& n = own_.emplace_back(name);
  const std::string& v = own_.emplace_back(value);
  fields_.emplace_back(n, v);
}

std::optional<std::string_view> Headers::Find(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (EqualsNoCase(k, name)) return v;
  }
  return std::nullopt;
}

void Headers::Adopt(std::shared_ptr<const void> storage, std::vector<Field> fields) {
  own_.clear();
  storage_ = std::move(storage);
  fields_ = std::move(fields);
  owned_.assign(fields_.size(), -1);
}

// --- Request ---

namespace {

// `v` re-pointed from `from` to the same place in `to`, when it points into `from`.
std::string_view Rebase(std::string_view v, const std::string& from, const std::string& to) {
  if (v.data() == nullptr || v.data() < from.data() ||
      v.data() + v.size() > from.data() + from.size()) {
    return v;
  }
  return std::string_view(to.data() + (v.data() - from.data()), v.size());
}

}  // namespace

Request::Request(const Request& o)
    : method(o.method),
      target(o.target),
      path(Rebase(o.path, o.target, target)),
      query(Rebase(o.query, o.target, target)),
      headers(o.headers),
      body(o.body),
      remote_ip(o.remote_ip),
      peer_ip(o.peer_ip),
      tls(o.tls),
      client_cert(o.client_cert),
      client_cert_verified(o.client_cert_verified),
      params(o.params) {}

Request& Request::operator=(const Request& o) {
  if (this != &o) *this = Request(o);
  return *this;
}

// Through the move assignment, which knows where the moved target's bytes were.
Request::Request(Request&& o) noexcept { *this = std::move(o); }

Request& Request::operator=(Request&& o) noexcept {
  if (this == &o) return *this;
  // Moving a short string copies its bytes into this object: views into it must follow them.
  const std::string_view p = o.path, q = o.query;
  const char* old = o.target.data();
  const size_t old_size = o.target.size();
  method = std::move(o.method);
  target = std::move(o.target);
  auto follow = [&](std::string_view v) {
    if (v.data() == nullptr || v.data() < old || v.data() + v.size() > old + old_size) return v;
    return std::string_view(target.data() + (v.data() - old), v.size());
  };
  path = follow(p);
  query = follow(q);
  headers = std::move(o.headers);
  body = std::move(o.body);
  remote_ip = std::move(o.remote_ip);
  client_cert = std::move(o.client_cert);
  client_cert_verified = o.client_cert_verified;
  peer_ip = std::move(o.peer_ip);
  tls = o.tls;
  params = std::move(o.params);
  return *this;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  return headers.Find(name);
}

std::string_view Request::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    return PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response RenderError(const Error& error) {
  boost::json::object o;
  o["error"] = error.oauth_error.empty() ? "server_error" : error.oauth_error;
  o["error_description"] = error.description;
  if (!error.code.empty()) {
    o["statusCode"] = error.http_status;
    o["code"] = error.code;
    o["message"] = error.message;
    o["description"] = error.description;
    o["severity"] = "ERROR";
  }
  Response r = Response::Json(error.http_status, boost::json::serialize(o));
  // RFC 6749 §5.2: no caching of error responses from the token endpoint; harmless elsewhere.
  r.With("Cache-Control", "no-store");
  if (error.retry_after > 0) {
    r.With("Retry-After", std::to_string(error.retry_after));
  } else if (error.http_status == 503) {
    r.With("Retry-After", "1");
  }
  return r;
}

}  // namespace portcullis::http
