#include "oauth/client/validation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "jose/key_set.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

// Finds duplicate member names: boost::json keeps the last of two equal keys silently. Also
// where the request-body limits are enforced (the parser stops at them; see kMaxJsonElements).
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_array_size = kMaxJsonElements;
  static constexpr std::size_t max_object_size = kMaxJsonElements;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  std::optional<std::string> duplicate;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    stack_.push_back({});
    stack_.back().is_object = false;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    stack_.pop_back();
    return true;
  }
  bool on_object_begin(json::error_code&) {
    stack_.push_back({});
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    stack_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    auto& keys = stack_.back().keys;
    if (!keys.insert(key_).second) {
      duplicate = key_;
      ec = json::error::syntax;  // stop the parse
      key_.clear();
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct Level {
    bool is_object = true;
    std::set<std::string> keys;
  };
  std::vector<Level> stack_;
  std::string key_;
};

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp < 0xa0); }

// Decodes one code point; returns the number of bytes, 0 on invalid UTF-8.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint32_t v, min;
  if ((c & 0xe0) == 0xc0) {
    n = 2, v = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, v = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
  *cp = v;
  return n;
}

std::string Quote(std::string_view s) {
  // For error texts: short, printable.
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (s.size() > 64) out += "...";
  return "'" + out + "'";
}

bool IsLoopbackHost(const boost::urls::url_view& u) {
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return u.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return u.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
      std::string host(u.encoded_host());
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      return host == "localhost";
    }
    default:
      return false;
  }
}

std::string LowerScheme(const boost::urls::url_view& u) {
  std::string s(u.scheme());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

constexpr std::array kReservedClaims = {
    // RFC 7519 §4.1 registered claims
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
    // set by the token service (light-oauth2 §4.1 and RFC 9068 §2.2)
    "client_id", "user_id", "user_type", "scope", "scp", "roles", "version", "ver", "cid", "uid",
    "csrf", "auth_time", "acr", "amr", "azp", "typ", "token_type",
    // OpenID Connect Core §2, RFC 8693 §4, RFC 7800 §3
    "nonce", "sid", "at_hash", "c_hash", "act", "may_act", "cnf",
    // the claims parameter's userinfo member, carried to userinfo (oauth/oidc/user_claims.h)
    "userinfo_claims",
    // the realm of a user signed in by a configured authenticator (oauth/token/grant.h)
    "user_realm"};

}  // namespace

Error FieldError(std::string_view field, std::string_view problem) {
  return Error::Status("ERR11004", std::string(field) + ": " + std::string(problem));
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

Status CheckText(std::string_view field, std::string_view value, size_t max_chars, bool required,
                 bool multi_line) {
  if (required && value.empty()) return Fail(FieldError(field, "is required"));
  for (size_t i = 0; i < value.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(value, i, &cp);
    if (n == 0) return Fail(FieldError(field, "is not valid UTF-8"));
    if (IsControl(cp) && !(multi_line && (cp == '\n' || cp == '\r' || cp == '\t'))) {
      return Fail(FieldError(field, "contains a control character"));
    }
    i += n;
  }
  if (Utf8Length(value) > max_chars) {
    return Fail(FieldError(field, "at most " + std::to_string(max_chars) + " characters"));
  }
  return {};
}

Status CheckId(std::string_view field, std::string_view value, size_t max_len) {
  if (value.empty()) return Fail(FieldError(field, "is required"));
  if (value.size() > max_len) {
    return Fail(FieldError(field, "at most " + std::to_string(max_len) + " characters"));
  }
  for (char c : value) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '~' ||
              c == '@' || c == '+' || c == '-';
    if (!ok) {
      return Fail(FieldError(field, "may contain only letters, digits and . _ ~ @ + -"));
    }
  }
  return {};
}

Status CheckEnum(std::string_view field, std::string_view value,
                 std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (a == value) return {};
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return Fail(FieldError(field, Quote(value) + " is not one of " + list));
}

Status CheckScope(std::string_view field, std::string_view value, size_t max_chars) {
  if (value.size() > max_chars) {
    return Fail(FieldError(field, "at most " + std::to_string(max_chars) + " characters"));
  }
  for (unsigned char c : value) {
    // RFC 6749 §3.3 scope-token characters, and the space that separates tokens.
    bool ok = c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
    if (!ok) return Fail(FieldError(field, "scope tokens may not contain '\"', '\\' or controls"));
  }
  return {};
}

Status CheckRedirectUri(std::string_view field, std::string_view uri) {
  if (uri.empty()) return Fail(FieldError(field, "is empty"));
  if (uri.size() > 1024) return Fail(FieldError(field, "at most 1024 characters"));
  auto parsed = boost::urls::parse_uri(boost::core::string_view(uri.data(), uri.size()));
  if (!parsed) return Fail(FieldError(field, Quote(uri) + " is not an absolute URI"));
  const auto& u = *parsed;
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
  if (u.has_fragment()) return Fail(FieldError(field, "must not contain a fragment"));
  if (uri.find('*') != std::string_view::npos) {
    return Fail(FieldError(field, "must not contain wildcards: redirect URIs match exactly"));
  }
  if (u.has_userinfo()) return Fail(FieldError(field, "must not contain userinfo"));
  std::string scheme = LowerScheme(u);
  if (scheme == "https") {
    if (!u.has_authority() || u.encoded_host().empty()) {
      return Fail(FieldError(field, "needs a host"));
    }
    return {};
  }
  if (scheme == "http") {
    // RFC 8252 §7.3 (loopback redirection) and RFC 9700 §2.1: plain http only to loopback.
    if (!u.has_authority() || !IsLoopbackHost(u)) {
      return Fail(FieldError(field, "must use https unless the host is loopback"));
    }
    return {};
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name (it contains a period), which
  // also rules out javascript:, data:, file: and the like.
  if (scheme.find('.') == std::string::npos) {
    return Fail(FieldError(field, "scheme '" + scheme +
                                      "' is neither https, loopback http nor a private-use "
                                      "(reverse domain name) scheme"));
  }
  return {};
}

Status CheckHttpUrl(std::string_view field, std::string_view url, bool https_only,
                    size_t max_chars) {
  if (url.empty()) return Fail(FieldError(field, "is required"));
  if (url.size() > max_chars) {
    return Fail(FieldError(field, "at most " + std::to_string(max_chars) + " characters"));
  }
  auto parsed = boost::urls::parse_absolute_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) return Fail(FieldError(field, Quote(url) + " is not an absolute URL"));
  const auto& u = *parsed;
  std::string scheme = LowerScheme(u);
  if (scheme != "http" && scheme != "https") {
    return Fail(FieldError(field, "must be an http or https URL"));
  }
  if (!u.has_authority() || u.encoded_host().empty())
    return Fail(FieldError(field, "needs a host"));
  if (u.has_userinfo()) return Fail(FieldError(field, "must not contain userinfo"));
  if (u.has_query()) return Fail(FieldError(field, "must not contain a query"));
  if (https_only && scheme == "http" && !IsLoopbackHost(u)) {
    return Fail(FieldError(field, "must use https unless the host is loopback"));
  }
  return {};
}

bool HttpsOrLoopbackHttp(std::string_view url, bool allow_http_loopback) {
  auto parsed = boost::urls::parse_absolute_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty()) return false;
  std::string scheme = LowerScheme(*parsed);
  if (scheme == "https") return true;
  return scheme == "http" && allow_http_loopback && IsLoopbackHost(*parsed);
}

Status CheckBackchannelLogoutUri(std::string_view field, std::string_view url) {
  if (url.size() > 1024) return Fail(FieldError(field, "at most 1024 characters"));
  auto parsed = boost::urls::parse_absolute_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) {
    // parse_absolute_uri refuses a fragment; say so rather than "not absolute".
    if (url.find('#') != std::string_view::npos) {
      return Fail(FieldError(field, "must not contain a fragment"));
    }
    return Fail(FieldError(field, Quote(url) + " is not an absolute URL"));
  }
  const auto& u = *parsed;
  std::string scheme = LowerScheme(u);
  if (scheme != "http" && scheme != "https") {
    return Fail(FieldError(field, "must be an https URL"));
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Fail(FieldError(field, "needs a host"));
  }
  if (u.has_userinfo()) return Fail(FieldError(field, "must not contain userinfo"));
  if (scheme == "http" && !IsLoopbackHost(u)) {
    return Fail(FieldError(field, "must use https unless the host is loopback"));
  }
  return {};
}

bool IsReservedClaim(std::string_view name) {
  return std::find(kReservedClaims.begin(), kReservedClaims.end(), name) != kReservedClaims.end();
}

Status CheckCustomClaims(std::string_view field, std::string_view json_text, size_t max_chars) {
  if (json_text.empty()) return {};
  if (Utf8Length(json_text) > max_chars) {
    return Fail(FieldError(field, "at most " + std::to_string(max_chars) + " characters"));
  }
  auto v = ParseStrictJson(json_text, field);
  if (!v) return Fail(std::move(v.error()));
  if (!v->is_object()) return Fail(FieldError(field, "must be a JSON object"));
  for (const auto& [k, value] : v->as_object()) {
    std::string_view name(k.data(), k.size());
    if (name.empty()) return Fail(FieldError(field, "claim names may not be empty"));
    if (auto st = CheckText(field, name, 64, true); !st) {
      return Fail(FieldError(field, "claim names: at most 64 printable characters"));
    }
    if (IsReservedClaim(name)) {
      return Fail(FieldError(
          field, "'" + std::string(name) + "' is a reserved claim name and cannot be overridden"));
    }
  }
  return {};
}

Status CheckJwks(std::string_view field, std::string_view json_text) {
  if (json_text.size() > 64 * 1024) return Fail(FieldError(field, "at most 65536 characters"));
  auto v = ParseStrictJson(json_text, field);
  if (!v) return Fail(std::move(v.error()));
  const auto* keys = v->is_object() ? v->as_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array() || keys->as_array().empty()) {
    return Fail(FieldError(field, "must be a JWK Set with a non-empty \"keys\" array"));
  }
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) return Fail(FieldError(field, "every key must be a JSON object"));
    for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      if (k.as_object().contains(priv)) {
        return Fail(FieldError(field,
                               "holds private or symmetric key material: register "
                               "public keys only"));
      }
    }
  }
  auto set = jose::ParseJwks(json_text);
  if (!set) return Fail(FieldError(field, set.error().description));
  if (set->empty() || set->skipped() > 0) {
    return Fail(FieldError(field, "every key needs a kid, a supported kty/alg and use \"sig\""));
  }
  return {};
}

Status CheckEmail(std::string_view field, std::string_view email, size_t max_chars) {
  if (auto st = CheckText(field, email, max_chars, true); !st) return st;
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos ||
      email.find(' ') != std::string_view::npos) {
    return Fail(FieldError(field, Quote(email) + " is not an e-mail address"));
  }
  return {};
}

Result<boost::json::value> ParseStrictJson(std::string_view text, std::string_view what) {
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  {
    json::basic_parser<DuplicateKeyFinder> finder(opt);
    json::error_code ec;
    finder.write_some(false, text.data(), text.size(), ec);
    if (finder.handler().duplicate) {
      return Fail(FieldError(what, "duplicate member " + Quote(*finder.handler().duplicate)));
    }
    // The limits, named, before anything builds a DOM of the document.
    if (ec == json::error::array_too_large || ec == json::error::object_too_large) {
      return Fail(FieldError(what, "too many elements in one array or object (at most " +
                                       std::to_string(kMaxJsonElements) + ")"));
    }
    if (ec == json::error::too_deep) {
      return Fail(FieldError(
          what, "nested too deep (at most " + std::to_string(kMaxJsonDepth) + " levels)"));
    }
  }
  json::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec) return Fail(FieldError(what, "not valid JSON (" + ec.message() + ")"));
  return v;
}

Result<boost::json::object> ParseJsonObject(std::string_view text, std::string_view what) {
  auto v = ParseStrictJson(text, what);
  if (!v) return Fail(std::move(v.error()));
  if (!v->is_object()) return Fail(FieldError(what, "must be a JSON object"));
  return std::move(v->as_object());
}

JsonFields::JsonFields(const boost::json::object& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void JsonFields::Fail(std::string_view key, std::string_view problem) {
  if (!error_) error_ = FieldError(Name(key), problem);
}

std::optional<std::string> JsonFields::Str(std::string_view key) {
  known_.emplace_back(key);
  const auto* v = object_.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::string();
  if (!v->is_string()) {
    Fail(key, "must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string().data(), v->as_string().size());
}

std::optional<std::vector<std::string>> JsonFields::StrList(std::string_view key) {
  known_.emplace_back(key);
  const auto* v = object_.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::vector<std::string>{};
  if (!v->is_array()) {
    Fail(key, "must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) {
      Fail(key, "must be an array of strings");
      return std::nullopt;
    }
    out.emplace_back(item.as_string().data(), item.as_string().size());
  }
  return out;
}

std::optional<std::optional<int64_t>> JsonFields::Int(std::string_view key) {
  known_.emplace_back(key);
  const auto* v = object_.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  }
  Fail(key, "must be an integer");
  return std::nullopt;
}

const boost::json::value* JsonFields::Raw(std::string_view key) {
  known_.emplace_back(key);
  return object_.if_contains(json::string_view(key.data(), key.size()));
}

void JsonFields::Ignore(std::string_view key) { known_.emplace_back(key); }

Status JsonFields::Finish() const {
  if (error_) return portcullis::Fail(*error_);
  for (const auto& [k, v] : object_) {
    std::string_view name(k.data(), k.size());
    if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
      std::string safe;
      for (char c : name.substr(0, 64)) {
        safe += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
      }
      return portcullis::Fail(FieldError(Name(safe), "unknown field"));
    }
  }
  return {};
}

}  // namespace portcullis::oauth
