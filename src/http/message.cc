#include "http/message.h"

#include <strings.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"

namespace portcullis::http {

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
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
