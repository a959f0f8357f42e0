#include "common/encoding.h"

#include <array>
#include <cstdint>

namespace portcullis {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeTable(const char* alphabet) {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kUrlTable = MakeTable(kUrlAlphabet);
constexpr auto kStdTable = MakeTable(kStdAlphabet);

// Both codecs write into a buffer sized once (no per-character push_back): they sit on the
// token endpoint's hot path (JWS encoding, the Basic header).
std::string Encode(std::string_view in, const char* alphabet, bool pad) {
  const size_t full = in.size() / 3;
  const size_t rest = in.size() - full * 3;
  const size_t len = full * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1);
  std::string out;
  out.resize_and_overwrite(len, [&](char* o, size_t) {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    for (size_t i = 0; i < full; ++i, p += 3, o += 4) {
      const uint32_t v = (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2];
      o[0] = alphabet[v >> 18];
      o[1] = alphabet[(v >> 12) & 63];
      o[2] = alphabet[(v >> 6) & 63];
      o[3] = alphabet[v & 63];
    }
    if (rest == 1) {
      const uint32_t v = uint32_t(p[0]) << 16;
      o[0] = alphabet[v >> 18];
      o[1] = alphabet[(v >> 12) & 63];
      if (pad) o[2] = o[3] = '=';
    } else if (rest == 2) {
      const uint32_t v = (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8);
      o[0] = alphabet[v >> 18];
      o[1] = alphabet[(v >> 12) & 63];
      o[2] = alphabet[(v >> 6) & 63];
      if (pad) o[3] = '=';
    }
    return len;
  });
  return out;
}

std::optional<std::string> Decode(std::string_view in, const std::array<int8_t, 256>& table) {
  if (in.size() % 4 == 1) return std::nullopt;
  const size_t full = in.size() / 4;
  const size_t rest = in.size() % 4;  // 0, 2 or 3 characters: 0, 1 or 2 more bytes
  const size_t len = full * 3 + (rest == 0 ? 0 : rest - 1);
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  auto value = [&](size_t i) { return int32_t(table[p[i]]); };
  bool ok = true;
  std::string out;
  out.resize_and_overwrite(len, [&](char* o, size_t) {
    int32_t bad = 0;  // any negative table entry makes this negative
    for (size_t q = 0; q < full; ++q, p += 4, o += 3) {
      const int32_t a = value(0), b = value(1), c = value(2), d = value(3);
      bad |= a | b | c | d;
      const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | d;
      o[0] = static_cast<char>(v >> 16);
      o[1] = static_cast<char>((v >> 8) & 0xff);
      o[2] = static_cast<char>(v & 0xff);
    }
    if (rest >= 2) {
      const int32_t a = value(0), b = value(1), c = rest == 3 ? value(2) : 0;
      bad |= a | b | c;
      const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
      o[0] = static_cast<char>(v >> 16);
      if (rest == 3) o[1] = static_cast<char>((v >> 8) & 0xff);
      // Leftover bits must be zero, so each byte string has exactly one encoding.
      if (bad >= 0 && (v & (rest == 3 ? 0xffu : 0xffffu)) != 0) bad = -1;
    }
    ok = bad >= 0;
    return len;
  });
  if (!ok) return std::nullopt;
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrlAlphabet, false); }

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, kUrlTable);
}

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kStdAlphabet, true); }

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return Decode(text.substr(0, text.size() - pad), kStdTable);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  // Most names and values need no decoding: copy the runs between escapes whole.
  auto special = [plus_is_space](char c) { return c == '%' || (c == '+' && plus_is_space); };
  size_t i = 0;
  while (i < text.size() && !special(text[i])) ++i;
  if (i == text.size()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  out.append(text.data(), i);
  while (i < text.size()) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 3;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
      ++i;
    } else {
      size_t next = i + 1;
      while (next < text.size() && !special(text[next])) ++next;
      out.append(text.data() + i, next - i);
      i = next;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<FormFields> ParseForm(std::string_view body) {
  FormFields fields;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

size_t CountFormFields(std::string_view body) {
  size_t n = 0;
  bool in_pair = false;
  for (char c : body) {
    if (c == '&') {
      in_pair = false;
    } else if (!in_pair) {
      in_pair = true;
      ++n;
    }
  }
  return n;
}

std::string FormField(const FormFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string EscapeMarkup(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace portcullis
