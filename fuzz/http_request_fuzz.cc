// Fuzzes a request as the server reads it from a connection, before any handler: Beast's parser
// with the server's limits, the Request built from it (header names, body, the client address
// through trusted proxies' X-Forwarded-For), and the checks of RFC 9112 §3.2 and the caps on
// header fields and parameters (request_head.h). The input is the raw bytes of the connection;
// the peer is a trusted proxy, so the forwarding headers are read too.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/encoding.h"
#include "http/client_ip.h"
#include "http/request_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::http;
  static const ServerOptions options = [] {
    ServerOptions o;
    o.header_limit = 2048;  // small, so the fuzzer reaches the limits
    o.body_limit = 4096;
    o.max_headers = 16;
    o.max_params = 16;
    o.trusted_proxies = *AddressRanges::Parse("127.0.0.0/8, ::1, 10.0.0.0/8, fd00::/8");
    return o;
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseRequest(bytes, options, "127.0.0.1");
  if (parsed.status != 0) {
    if (parsed.status != -1 && parsed.status != 400 && parsed.status != 413 &&
        parsed.status != 431) {
      __builtin_trap();
    }
    return 0;
  }
  if (parsed.request.body.size() > options.body_limit) __builtin_trap();
  Request& req = parsed.request;
  if (req.remote_ip.empty()) __builtin_trap();
  if (auto refused = Admit(req, parsed.version, parsed.host_fields, options)) return 0;
  // Admitted: the target is origin-form (or "*"), and what handlers will parse is within caps.
  if (req.path != "*" && (req.path.empty() || req.path.front() != '/')) __builtin_trap();
  if (req.headers.size() > options.max_headers) __builtin_trap();
  if (portcullis::CountFormFields(req.query) > options.max_params) __builtin_trap();
  (void)portcullis::ParseForm(req.query);
  (void)req.QueryParam("client_id");
  return 0;
}
