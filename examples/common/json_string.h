#pragma once
// A JSON string literal for the examples' hand-written JSON (they carry no JSON library).

#include <cstdio>
#include <string>
#include <string_view>

namespace example {

// `s` quoted, with " and \ escaped and control characters as \u00XX.
inline std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace example
