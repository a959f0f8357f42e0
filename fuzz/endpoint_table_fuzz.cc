// Fuzzes what a resource server reads from the service registry and from its callers: the
// endpoint→scope table (EndpointTable::FromJson) and request paths matched against it.
// Input layout: "<method> <path>\n<registry JSON>".

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "verify/endpoint_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view request = input.substr(0, nl);
  std::string_view json = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  size_t space = request.find(' ');
  std::string_view method = request.substr(0, space);
  std::string_view path = space == std::string_view::npos ? "/" : request.substr(space + 1);

  (void)portcullis::verify::NormalizePath(path);
  auto table = portcullis::verify::EndpointTable::FromJson(json);
  if (table) {
    if (const auto* rule = table->Match(method, path)) {
      (void)portcullis::verify::AnyScope(rule->scopes, {"a", "b"});
    }
  }
  return 0;
}
