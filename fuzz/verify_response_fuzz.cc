// Fuzzes what libportcullis-verify reads from the network: the HTTP/1.1 response parser behind
// Fetch (status line, header block, Content-Length, chunked and close-delimited bodies, 1xx
// interim responses), then the body as the library takes it in: a JWKS, a PEM certificate or
// key, and the Cache-Control max-age. Input layout: one byte selecting the request method
// (odd: HEAD), then the raw bytes of the connection.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jose/key.h"
#include "jose/key_set.h"
#include "verify/http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis;
  if (size == 0) return 0;
  std::string_view method = (data[0] & 1) ? "HEAD" : "GET";
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
  verify::internal::HttpOptions options;
  options.max_header_bytes = 2048;  // small limits, so the fuzzer reaches them
  options.max_body_bytes = 8192;
  auto response = verify::internal::ParseResponse(raw, method, options);
  if (!response) return 0;
  if (response->status < 100 || response->status > 599) __builtin_trap();
  if (response->body.size() > options.max_body_bytes) __builtin_trap();
  if (method == "HEAD" && !response->body.empty()) __builtin_trap();
  (void)verify::internal::MaxAge(response->Header("cache-control").value_or(""));
  (void)jose::ParseJwks(response->body);
  (void)jose::Key::FromPem(response->body);
  return 0;
}
