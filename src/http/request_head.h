#pragma once
// How the server turns the bytes of a request into the Request its handlers see, and the checks
// every request passes before routing (RFC 9112 §3.2, Host, the caps on header fields and
// parameters). The session (server.cc) reads from a socket; ParseRequest reads from memory the
// same way, for the fuzz target and tests. No Beast types here.

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "http/message.h"
#include "http/server.h"

namespace portcullis::http {

// RFC 9112 §3.2: a request target is origin-form ("/path?query"), absolute-form
// ("http://host/path", which a server MUST accept, §3.2.2), asterisk-form ("*", OPTIONS only)
// or authority-form (CONNECT only, which this server does not serve). Rewrites an absolute-form
// target to its origin-form, so routing sees the path. False: the target is refused.
bool NormalizeTarget(Request& req);

// RFC 9110 §7.2 / RFC 3986 §3.2.2: host [ ":" port ], as reg-name, IPv4 or [IPv6] characters.
bool IsValidHost(std::string_view host);

// The checks RFC 9112 asks of every request, and the caps on what a handler is given to parse.
// Fills req.path and req.query. An error: answer it and close the connection.
std::optional<Error> Admit(Request& req, unsigned version, size_t host_fields,
                           const ServerOptions& options);

struct ParsedRequest {
  // 0: a whole request was read (see `request`); 400, 413 or 431: the parser refused it, and
  // the server answers that status; -1: the bytes end before the request does.
  int status = -1;
  Request request;
  unsigned version = 0;     // 10 or 11
  size_t host_fields = 0;   // Host header fields seen
  bool keep_alive = false;  // what the request asks for
};

// Reads one request from `bytes` as the server's session does: Beast's parser with the
// server's header and body limits, then the Request (lower-cased header names, body, client
// address through options.trusted_proxies) from a connection from `peer_ip`.
ParsedRequest ParseRequest(std::string_view bytes, const ServerOptions& options,
                           std::string_view peer_ip);

}  // namespace portcullis::http
