#include "verify/endpoint_table.h"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"

namespace portcullis::verify {
namespace {

char Fold(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Fold(c);
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
    // A literal the request check would refuse could never be matched: skip the endpoint.
    auto decoded = NormalizePath("/" + seg);
    if (!decoded || decoded->size() != 1) return std::nullopt;
    rule.segments.push_back(std::move(decoded->front()));
    rule.is_param.push_back(false);
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

std::expected<std::vector<std::string>, std::string> NormalizePath(std::string_view path) {
  using std::unexpected;
  if (size_t q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty() || path.front() != '/') return unexpected("the path must start with /");
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    bool last = slash == std::string_view::npos;
    std::string_view raw = path.substr(pos, last ? slash : slash - pos);
    pos = last ? path.size() + 1 : slash + 1;
    if (raw.empty()) {
      if (last) break;  // one trailing slash (or the root "/")
      return unexpected("empty path segment (//)");
    }
    auto seg = PercentDecode(raw, false);
    if (!seg) return unexpected("bad percent-encoding");
    for (unsigned char c : *seg) {
      // RFC 3986 §3.3: ";" starts path parameters, which Tomcat and Spring strip before routing.
      if (c == ';') return unexpected("path parameters (;) are not accepted");
      if (c == '/') return unexpected("encoded / in a path segment");
      if (c == '\\') return unexpected("backslash in the path");
      if (c < 0x20 || c == 0x7f) return unexpected("control character in the path");
      // Left over after one decoding: a double encoding that a second decoder would resolve.
      if (c == '%') return unexpected("double percent-encoding");
    }
    // RFC 3986 §5.2.4: dot-segments are resolved by some servers and not by others.
    if (*seg == "." || *seg == "..") return unexpected("dot-segment in the path");
    // Letters whose Unicode case mapping is ASCII: Java's equalsIgnoreCase and .NET's
    // OrdinalIgnoreCase take "/admİn" for "/admin", so no case rule of ours could see it.
    for (std::string_view letter : {"\xC4\xB0", "\xC4\xB1", "\xC5\xBF", "\xE2\x84\xAA"}) {
      if (seg->find(letter) != std::string::npos) {
        return unexpected("a letter that case-folds to ASCII (İ ı ſ K) in the path");
      }
    }
    out.push_back(std::move(*seg));
  }
  return out;
}

EndpointTable EndpointTable::FromEntries(const std::vector<Entry>& entries, PathCase path_case) {
  EndpointTable table;
  table.path_case_ = path_case;
  for (const auto& e : entries) {
    if (auto rule = ParseRule(e.endpoint, e.scope)) {
      table.rules_.push_back(std::move(*rule));
    } else {
      ++table.skipped_;
    }
  }
  return table;
}

std::expected<EndpointTable, std::string> EndpointTable::FromJson(std::string_view json,
                                                                  PathCase path_case) {
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
  EndpointTable table = FromEntries(entries, path_case);
  table.skipped_ += bad;
  return table;
}

MatchResult EndpointTable::Lookup(std::string_view method, std::string_view path) const {
  MatchResult out;
  auto segments = NormalizePath(path);
  if (!segments) {
    out.status = MatchStatus::kRefusedPath;
    out.why = std::move(segments.error());
    return out;
  }
  const bool insensitive = path_case_ == PathCase::kInsensitive;
  if (insensitive) {
    for (const auto& seg : *segments) {
      for (unsigned char c : seg) {
        if (c >= 0x80) {
          out.status = MatchStatus::kRefusedPath;
          out.why = "non-ASCII path on a case-insensitive service";
          return out;
        }
      }
    }
  }
  std::string m = Lower(method);
  // Two winners: matching byte for byte, and matching with ASCII case folded (ties go to a rule
  // that also matches exactly, so two endpoints declared in two cases stay usable).
  const EndpointRule* exact = nullptr;
  const EndpointRule* folded = nullptr;
  bool folded_is_exact = false;
  for (const auto& rule : rules_) {
    if (rule.method != m || rule.segments.size() != segments->size()) continue;
    bool exact_ok = true, fold_ok = true;
    for (size_t i = 0; fold_ok && i < rule.segments.size(); ++i) {
      if (rule.is_param[i]) continue;
      const std::string& want = rule.segments[i];
      const std::string& got = (*segments)[i];
      if (want == got) continue;
      exact_ok = false;
      fold_ok = want.size() == got.size() &&
                std::equal(want.begin(), want.end(), got.begin(),
                           [](char a, char b) { return Fold(a) == Fold(b); });
    }
    if (!fold_ok) continue;
    if (exact_ok && (exact == nullptr || MoreSpecific(rule, *exact))) exact = &rule;
    if (folded == nullptr || MoreSpecific(rule, *folded) ||
        (exact_ok && !folded_is_exact && !MoreSpecific(*folded, rule))) {
      folded = &rule;
      folded_is_exact = exact_ok;
    }
  }
  const EndpointRule* best = insensitive ? folded : exact;
  if (!insensitive && folded != exact) {
    // The path names a declared endpoint in another letter case: an upstream that ignores case
    // would route it there, so neither that endpoint's nor another one's scope may decide.
    out.status = MatchStatus::kCaseVariant;
    out.why = "the path differs from a declared endpoint only by letter case";
    return out;
  }
  if (best == nullptr) return out;
  out.status = MatchStatus::kMatched;
  out.rule = best;
  return out;
}

}  // namespace portcullis::verify
