#include "http/fetch.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>

namespace portcullis::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

Result<FetchResult> Fetch(std::string_view url, int timeout_ms, size_t max_body) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
    return Fail(Error::Internal("fetch: unsupported URL " + std::string(url)));
  }
  std::string host = parsed->host();
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  asio::ip::tcp::resolver resolver(ioc);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "portcullis");
  req.set(bhttp::field::connection, "close");
  boost::system::error_code result;

  // One deadline for the whole exchange.
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  resolver.async_resolve(host, port, [&](boost::system::error_code ec, auto endpoints) {
    if (ec) {
      result = ec;
      return;
    }
    stream.async_connect(endpoints, [&](boost::system::error_code ec, auto) {
      if (ec) {
        result = ec;
        return;
      }
      bhttp::async_write(stream, req, [&](boost::system::error_code ec, size_t) {
        if (ec) {
          result = ec;
          return;
        }
        bhttp::async_read(stream, buffer, parser,
                          [&](boost::system::error_code ec, size_t) { result = ec; });
      });
    });
  });
  ioc.run_for(std::chrono::milliseconds(timeout_ms + 500));
  if (!ioc.stopped() || result) {
    std::string why = result ? result.message() : "timed out";
    return Fail(Error::Unavailable("fetch " + std::string(url) + ": " + why));
  }
  FetchResult out;
  auto& res = parser.get();
  out.status = res.result_int();
  out.content_type = std::string(res[bhttp::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace portcullis::http
