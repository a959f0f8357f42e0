// Fuzzes the gateway's path check (/oauth2/verify and libportcullis-verify's Authorize) against
// the way an upstream reads the same path. The table declares /v1/{x}/secret (pets.r) beside
// /v1/admin/secret (pets.admin), the shape of the walk-around found in review. Whenever the
// gateway matches a path to an endpoint, an upstream that drops ";" parameters, decodes
// escapes, resolves dot segments, merges "//" and ignores letter case must route that path to
// the same endpoint; otherwise the gateway judged a different request than the one served.
// Input layout: one byte picking the method, then the request target.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "verify/endpoint_table.h"

namespace {

using portcullis::verify::EndpointTable;
using portcullis::verify::MatchStatus;
using portcullis::verify::PathCase;

const std::vector<EndpointTable::Entry> kEntries = {
    {"/v1/{x}/secret@get", "pets.r"},   {"/v1/admin/secret@get", "pets.admin"},
    {"/v1/pets@get", "pets.r"},         {"/v1/pets@post", "pets.w"},
    {"/v1/pets/{id}@delete", "pets.w"}, {"/v1/pets/{id}/owner@get", "pets.r"},
    {"/v2/{a}/{b}@get", "pets.r"},      {"/v2/admin/{b}@get", "pets.admin"},
};

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// The path as a lenient upstream (Tomcat/Spring style, case-insensitive routing) reads it,
// re-encoded so that the table sees the same segments.
std::string UpstreamView(std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t slash = target.find('/', pos);
    std::string_view raw =
        target.substr(pos, slash == std::string_view::npos ? target.npos : slash - pos);
    raw = raw.substr(0, raw.find(';'));  // path parameters dropped (RFC 3986 §3.3)
    std::string seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && Hex(raw[i + 1]) >= 0 && Hex(raw[i + 2]) >= 0) {
        seg += char(Hex(raw[i + 1]) * 16 + Hex(raw[i + 2]));
        i += 2;
      } else {
        seg += raw[i];
      }
    }
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  std::string path;
  for (const auto& seg : out) {
    path += '/';
    for (unsigned char c : seg) {
      if (Unreserved(c)) {
        path += Lower(char(c));
      } else {
        static const char kHex[] = "0123456789ABCDEF";
        path += '%';
        path += kHex[c >> 4];
        path += kHex[c & 15];
      }
    }
  }
  return path.empty() ? "/" : path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const EndpointTable exact = EndpointTable::FromEntries(kEntries, PathCase::kExact);
  static const EndpointTable insensitive =
      EndpointTable::FromEntries(kEntries, PathCase::kInsensitive);
  if (size == 0) return 0;
  static const char* const kMethods[] = {"get", "GET", "post", "delete", "Get"};
  std::string_view method = kMethods[data[0] % 5];
  std::string_view target(reinterpret_cast<const char*>(data + 1), size - 1);

  for (const EndpointTable* table : {&exact, &insensitive}) {
    auto gateway = table->Lookup(method, target);
    if (gateway.status != MatchStatus::kMatched) continue;
    if (gateway.rule == nullptr) __builtin_trap();
    // The declared literals are lower case, so the exact table on the lower-cased view routes
    // as an upstream that ignores ASCII case.
    auto upstream = exact.Lookup(method, UpstreamView(target));
    if (upstream.status != MatchStatus::kMatched || upstream.rule->id != gateway.rule->id) {
      __builtin_trap();  // the upstream serves another endpoint than the one checked
    }
  }
  return 0;
}
