#include "http/request_head.h"

#include <strings.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <string>

#include "common/encoding.h"
#include "http/beast_request.h"
#include "http/client_cert.h"
#include "http/client_ip.h"

namespace portcullis::http {
namespace {

namespace bhttp = boost::beast::http;

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool IsFormBody(const Request& req) {
  auto ct = req.Header("content-type");
  return ct && StartsWithNoCase(*ct, "application/x-www-form-urlencoded");
}

}  // namespace

bool NormalizeTarget(Request& req) {
  std::string_view t = req.target;
  if (t.starts_with('/')) return true;
  if (t == "*") return req.method == "OPTIONS";
  size_t authority = 0;
  if (StartsWithNoCase(t, "http://")) {
    authority = 7;
  } else if (StartsWithNoCase(t, "https://")) {
    authority = 8;
  } else {
    return false;
  }
  size_t end = t.find_first_of("/?#", authority);
  std::string_view host =
      t.substr(authority, end == std::string_view::npos ? t.npos : end - authority);
  // RFC 9110 §4.2.4: http(s) URIs carry no userinfo; and the authority must be there.
  if (host.empty() || host.find('@') != std::string_view::npos) return false;
  std::string rest(end == std::string_view::npos ? std::string_view{} : t.substr(end));
  if (rest.empty() || rest.front() != '/') rest.insert(0, "/");
  req.target = std::move(rest);
  return true;
}

bool IsValidHost(std::string_view host) {
  for (char c : host) {
    if (std::isalnum(static_cast<unsigned char>(c))) continue;
    if (std::string_view("-._~!$&'()*+,;=:[]%").find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::optional<Error> Admit(Request& req, unsigned version, size_t host_fields,
                           const ServerOptions& options) {
  if (!NormalizeTarget(req)) {
    return Error::OAuth(400, "invalid_request",
                        "The request target must be an absolute path or an absolute URI.");
  }
  std::string_view target = req.target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string_view::npos) req.query = target.substr(q + 1);
  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or with more than one, or with an
  // invalid one.
  if ((version >= 11 && host_fields == 0) || host_fields > 1) {
    return Error::Status("ERR11017", "An HTTP/1.1 request needs exactly one Host header.");
  }
  if (auto host = req.Header("host"); host && !IsValidHost(*host)) {
    return Error::Status("ERR11017", "The Host header is not a valid host.");
  }
  if (req.headers.size() > options.max_headers) {
    return Error::Status("ERR11004", "Too many header fields (at most " +
                                         std::to_string(options.max_headers) + ").");
  }
  if (CountFormFields(req.query) > options.max_params) {
    return Error::Status("ERR11004", "Too many query parameters (at most " +
                                         std::to_string(options.max_params) + ").");
  }
  if (IsFormBody(req) && CountFormFields(req.body) > options.max_params) {
    return Error::Status("ERR12000", "Too many form parameters (at most " +
                                         std::to_string(options.max_params) + ").");
  }
  return std::nullopt;
}

Request FromBeast(bhttp::request<bhttp::string_body>&& msg, std::string_view peer_ip, bool tls,
                  const ServerOptions& options) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.body = std::move(msg.body());
  // The header fields stay where Beast parsed them: the Request keeps the parsed header alive and
  // views into it. Moving Beast's field list keeps every field at its address.
  auto fields = std::make_shared<bhttp::fields>(std::move(msg.base()));
  std::vector<Headers::Field> views;
  // server.header_limit bounds these to a few thousand; Admit refuses more than max_headers.
  views.reserve(16);
  for (const auto& f : *fields) {
    std::string_view name = f.name_string();
    // Lower-cased in place: the field's bytes were allocated (writable) by Beast for this
    // message, which is now ours alone, and case does not change the order of Beast's
    // case-insensitive index.
    char* p = const_cast<char*>(name.data());
    for (size_t i = 0; i < name.size(); ++i) {
      if (p[i] >= 'A' && p[i] <= 'Z') p[i] = static_cast<char>(p[i] + ('a' - 'A'));  // ASCII
    }
    views.emplace_back(name, std::string_view(f.value()));
  }
  req.headers.Adopt(std::move(fields), std::move(views));
  req.peer_ip = std::string(peer_ip);
  req.remote_ip =
      ClientAddress(peer_ip, req.headers, options.trusted_proxies, options.client_ip_header);
  req.tls = tls;
  if (!options.client_cert_header.empty()) ReadProxiedClientCert(req, options);
  return req;
}

int StatusForParseError(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return 400;
  }
  return 0;
}

ParsedRequest ParseRequest(std::string_view bytes, const ServerOptions& options,
                           std::string_view peer_ip) {
  ParsedRequest out;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(options.header_limit));
  parser.body_limit(options.body_limit);
  parser.eager(true);
  boost::system::error_code ec;
  while (!bytes.empty() && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (used == 0) break;  // Beast wants more than there is
    } else if (ec) {
      break;
    }
    bytes.remove_prefix(used);
    if (used == 0) break;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);  // the connection ends here
  if (ec) {
    int status = StatusForParseError(ec);
    out.status = status == 0 ? -1 : status;
    return out;
  }
  auto& msg = parser.get();
  out.status = 0;
  out.version = msg.version();
  out.host_fields = msg.count(bhttp::field::host);
  out.keep_alive = msg.keep_alive();
  out.request = FromBeast(parser.release(), peer_ip, false, options);
  return out;
}

}  // namespace portcullis::http
