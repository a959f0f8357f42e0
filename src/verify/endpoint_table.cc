#include "verify/endpoint_table.h"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"

namespace portcullis::verify {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  return out;
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}' &&
         segment.find_first_of("{}/", 1) == segment.size() - 1;
}

// True when `a` is more specific than `b` (same length): at the first segment where their kinds
// differ, `a` has the literal.
bool MoreSpecific(const EndpointRule& a, const EndpointRule& b) {
  for (size_t i = 0; i < a.is_param.size(); ++i) {
    if (a.is_param[i] != b.is_param[i]) return !a.is_param[i];
  }
  return false;
}

std::optional<EndpointRule> ParseRule(std::string_view id, std::string_view scope) {
  size_t at = id.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return std::nullopt;
  std::string_view path = id.substr(0, at);
  std::string_view method = id.substr(at + 1);
  if (path.front() != '/') return std::nullopt;
  if (!std::all_of(method.begin(), method.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); })) {
    return std::nullopt;
  }
  EndpointRule rule;
  rule.id = std::string(id);
  rule.scope = std::string(scope);
  rule.method = Lower(method);
  rule.scopes = SplitScopes(scope);
  // Templates are kept verbatim; literal segments are normalised like request paths.
  std::vector<std::string> raw;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    raw.emplace_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  std::string literal_path;
  for (const auto& seg : raw) {
    if (seg.empty()) continue;
    if (IsParam(seg)) {
      rule.segments.push_back(seg);
      rule.is_param.push_back(true);
      continue;
    }
    auto decoded = NormalizePath("/" + seg);
    if (!decoded) return std::nullopt;
    for (auto& d : *decoded) {
      if (d == "..") return std::nullopt;
      rule.segments.push_back(std::move(d));
      rule.is_param.push_back(false);
    }
  }
  return rule;
}

}  // namespace

std::vector<std::string> SplitScopes(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find_first_not_of(" \t\r\n", pos);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\r\n", start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    pos = end == std::string_view::npos ? text.size() : end;
  }
  return out;
}

bool AnyScope(const std::vector<std::string>& required, const std::vector<std::string>& granted) {
  if (required.empty()) return true;
  for (const auto& r : required) {
    if (std::find(granted.begin(), granted.end(), r) != granted.end()) return true;
  }
  return false;
}

std::optional<std::vector<std::string>> NormalizePath(std::string_view path) {
  if (size_t q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string_view raw = path.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    pos = slash == std::string_view::npos ? path.size() + 1 : slash + 1;
    auto seg = PercentDecode(raw, false);
    if (!seg) return std::nullopt;
    if (seg->find('/') != std::string::npos || seg->find('\0') != std::string::npos) {
      return std::nullopt;
    }
    if (seg->empty() || *seg == ".") continue;  // merge_slashes; RFC 3986 §5.2.4 "."
    if (*seg == "..") {
      if (!out.empty()) out.pop_back();  // ".." above the root stays at the root
      continue;
    }
    out.push_back(std::move(*seg));
  }
  return out;
}

EndpointTable EndpointTable::FromEntries(const std::vector<Entry>& entries) {
  EndpointTable table;
  for (const auto& e : entries) {
    if (auto rule = ParseRule(e.endpoint, e.scope)) {
      table.rules_.push_back(std::move(*rule));
    } else {
      ++table.skipped_;
    }
  }
  return table;
}

std::expected<EndpointTable, std::string> EndpointTable::FromJson(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) return std::unexpected("endpoint table: " + ec.message());
  // The registry answers a bare array; {"endpoints":[...]} is accepted too.
  const boost::json::array* items = v.if_array();
  if (items == nullptr && v.is_object()) {
    if (const auto* e = v.get_object().if_contains("endpoints")) items = e->if_array();
  }
  if (items == nullptr) return std::unexpected("endpoint table: not a JSON array");
  std::vector<Entry> entries;
  size_t bad = 0;
  for (const auto& item : *items) {
    const auto* o = item.if_object();
    const boost::json::value* endpoint = o ? o->if_contains("endpoint") : nullptr;
    const boost::json::value* scope = o ? o->if_contains("scope") : nullptr;
    if (endpoint == nullptr || !endpoint->is_string() ||
        (scope != nullptr && !scope->is_string() && !scope->is_null())) {
      ++bad;
      continue;
    }
    entries.push_back(Entry{std::string(endpoint->get_string()),
                            scope && scope->is_string() ? std::string(scope->get_string()) : ""});
  }
  EndpointTable table = FromEntries(entries);
  table.skipped_ += bad;
  return table;
}

const EndpointRule* EndpointTable::Match(std::string_view method, std::string_view path) const {
  auto segments = NormalizePath(path);
  if (!segments) return nullptr;
  std::string m = Lower(method);
  const EndpointRule* best = nullptr;
  for (const auto& rule : rules_) {
    if (rule.method != m || rule.segments.size() != segments->size()) continue;
    bool ok = true;
    for (size_t i = 0; ok && i < rule.segments.size(); ++i) {
      ok = rule.is_param[i] || rule.segments[i] == (*segments)[i];
    }
    if (ok && (best == nullptr || MoreSpecific(rule, *best))) best = &rule;
  }
  return best;
}

}  // namespace portcullis::verify
