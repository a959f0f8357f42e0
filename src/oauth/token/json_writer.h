#pragma once
// A JSON object written straight into one string, for the token endpoint's hot path (access
// token claims, the token response): no boost::json::object, no per-member allocation. The
// output is byte for byte what boost::json::serialize writes for the same members in the same
// order (json_writer_test checks the escaping against it).
//
// The writer does not check for duplicate names: callers write each name once. Not thread-safe;
// one writer per object being written.

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth {

// Appends `s` as a JSON string literal, escaped as boost::json::serialize does: `"` and `\`,
// the short escapes for \b \f \n \r \t, \u00XX for the other control characters; every other
// byte (UTF-8 included) as is.
inline void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Eight bytes at a time while none needs escaping (a JWT never does). SWAR zero-byte tests
  // for "below 0x20", "equals '\"'", "equals '\\'": no false negatives (a false positive, only
  // next to a real hit, just sends the word to the byte loop); ~w drops bytes >= 0x80.
  auto plain8 = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    const uint64_t special = ((w - kOnes * 0x20) | (q - kOnes) | (b - kOnes)) & ~w & kHigh;
    return special == 0;
  };
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size() && plain8(s.data() + i)) {
      i += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = ++i;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

class JsonObjectWriter {
 public:
  // `reserve`: the expected size, so that the string grows at most once or twice.
  explicit JsonObjectWriter(size_t reserve = 256) {
    out_.reserve(reserve);
    out_.push_back('{');
  }

  void String(std::string_view name, std::string_view value) {
    Name(name);
    AppendJsonString(out_, value);
  }
  void Int(std::string_view name, int64_t value) {
    Name(name);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, r.ptr);
  }
  void StringArray(std::string_view name, const std::vector<std::string>& values) {
    Name(name);
    out_.push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_.push_back(',');
      AppendJsonString(out_, values[i]);
    }
    out_.push_back(']');
  }
  // Any value, through boost::json (the rare members: nested objects, custom claims).
  void Value(std::string_view name, const boost::json::value& value) {
    Name(name);
    out_ += boost::json::serialize(value);
  }
  // Opens a nested object member; close it with EndObject.
  void BeginObject(std::string_view name) {
    Name(name);
    out_.push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_.push_back('}');
    first_ = false;
  }

  std::string Finish() && {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void Name(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    AppendJsonString(out_, name);
    out_.push_back(':');
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace portcullis::oauth
