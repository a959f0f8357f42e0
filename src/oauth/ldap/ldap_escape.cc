#include "oauth/ldap/ldap_escape.h"

#include <cctype>

namespace portcullis::oauth::ldap {
namespace {

void AppendHex(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('\\');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EscapeFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0) {
      AppendHex(out, c);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string EscapeDnValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char ch = value[i];
    if (ch == 0) {
      AppendHex(out, 0);
      continue;
    }
    bool special = ch == '"' || ch == '+' || ch == ',' || ch == ';' || ch == '<' || ch == '>' ||
                   ch == '\\' || ch == '=';
    bool edge = (i == 0 && (ch == '#' || ch == ' ')) || (i + 1 == value.size() && ch == ' ');
    if (special || edge) out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

std::string FillTemplate(std::string_view tmpl,
                         const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view name = tmpl.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (const auto& [n, v] : values) {
          if (n == name) {
            out += v;
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(tmpl[i++]);
  }
  return out;
}

std::string FirstRdnValue(std::string_view dn) {
  size_t eq = dn.find('=');
  if (eq == std::string_view::npos) return {};
  std::string out;
  for (size_t i = eq + 1; i < dn.size(); ++i) {
    char ch = dn[i];
    if (ch == '\\' && i + 1 < dn.size()) {
      if (i + 2 < dn.size() && HexValue(dn[i + 1]) >= 0 && HexValue(dn[i + 2]) >= 0) {
        out.push_back(static_cast<char>(HexValue(dn[i + 1]) * 16 + HexValue(dn[i + 2])));
        i += 2;
      } else {
        out.push_back(dn[++i]);
      }
      continue;
    }
    if (ch == ',' || ch == '+') break;
    out.push_back(ch);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

std::string NormalizeDn(std::string_view dn) {
  std::string out;
  out.reserve(dn.size());
  for (size_t i = 0; i < dn.size(); ++i) {
    char ch = dn[i];
    if (ch == '\\' && i + 1 < dn.size()) {  // an escaped character stays as it is
      out.push_back(ch);
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(dn[++i]))));
      continue;
    }
    if (ch == ',' || ch == '=' || ch == '+') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out.push_back(ch);
      while (i + 1 < dn.size() && dn[i + 1] == ' ') ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace portcullis::oauth::ldap
