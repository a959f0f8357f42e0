#pragma once
// A small blocking HTTP/1.1 GET client for the server's own outbound calls (federation key
// fetches). http:// only; bounded in time and size. Blocking: call it from a pool thread.

#include <string>
#include <string_view>

#include "common/error.h"

namespace portcullis::http {

struct FetchResult {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Unavailable (503) when the peer cannot be reached in time; the detail names the URL.
Result<FetchResult> Fetch(std::string_view url, int timeout_ms = 2000, size_t max_body = 64 * 1024);

}  // namespace portcullis::http
