#pragma once
// The Beast side of request_head.h: for server.cc and request_head.cc only (Beast headers are
// slow to compile; keep them out of everything else).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <string_view>

#include "http/message.h"
#include "http/server.h"

namespace portcullis::http {

// The Request handlers see, from a message Beast has read on a connection from `peer_ip`.
Request FromBeast(boost::beast::http::request<boost::beast::http::string_body>&& msg,
                  std::string_view peer_ip, bool tls, const ServerOptions& options);

// The status the server answers a parser error with (431, 413 or 400), or 0 for errors that
// end the connection silently (timeout, reset, close).
int StatusForParseError(const boost::system::error_code& ec);

}  // namespace portcullis::http
