#pragma once
// Field checks shared by the registries (clients, services, users, providers), and a strict
// reader for their JSON models. Every failure is light-oauth2's ERR11004 (VALIDATOR_SCHEMA,
// 400) with a description that starts with the offending field, as the caller spelled it
// (camelCase), e.g. "clientName: at most 32 characters".
//
// Text is UTF-8 (the JSON parser guarantees it; CLI and import input is checked here), and
// lengths count code points, as PostgreSQL's VARCHAR(n) does.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.h"

namespace portcullis::oauth {

Error FieldError(std::string_view field, std::string_view problem);

bool IsValidUtf8(std::string_view s);
// Code points in valid UTF-8.
size_t Utf8Length(std::string_view s);

// Text of at most `max_chars` code points: valid UTF-8, no control characters (tab, CR and LF
// too, unless `multi_line`). `required` also refuses the empty string.
Status CheckText(std::string_view field, std::string_view value, size_t max_chars, bool required,
                 bool multi_line = false);
// An identifier: 1..max_len characters of [A-Za-z0-9._~@+-] (no spaces, quotes, slashes or
// SQL metacharacters: ids travel in URL paths, logs and audit rows).
Status CheckId(std::string_view field, std::string_view value, size_t max_len);
Status CheckEnum(std::string_view field, std::string_view value,
                 std::initializer_list<std::string_view> allowed);
// A space-separated list of RFC 6749 §3.3 scope tokens (%x21 / %x23-5B / %x5D-7E), at most
// `max_chars` characters in all.
Status CheckScope(std::string_view field, std::string_view value, size_t max_chars);
// A redirect URI (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): absolute, no fragment, no
// userinfo, no wildcard; https, or http to a loopback host (localhost, 127.0.0.0/8, [::1]),
// or a private-use scheme for native apps (a reverse domain name such as com.example.app).
Status CheckRedirectUri(std::string_view field, std::string_view uri);
// An absolute http(s) URL with a host and no userinfo, query or fragment; `https_only` allows
// http to loopback hosts only.
Status CheckHttpUrl(std::string_view field, std::string_view url, bool https_only,
                    size_t max_chars);
// Whether `url` is an absolute https URL, or, with `allow_http_loopback`, an http URL to a
// loopback host (localhost, 127.0.0.0/8, [::1]). False for anything else or unparsable.
bool HttpsOrLoopbackHttp(std::string_view url, bool allow_http_loopback);
// A back-channel logout receiver (OIDC Back-Channel Logout §2.2): an absolute https URL (http to
// loopback hosts only), with a host; a path and query are allowed, a fragment and userinfo not.
Status CheckBackchannelLogoutUri(std::string_view field, std::string_view url);
// A JSON object (custom claims) whose member names avoid the registered and token-service
// claim names (reference §18.6).
Status CheckCustomClaims(std::string_view field, std::string_view json_text, size_t max_chars);
bool IsReservedClaim(std::string_view name);
// A JSON Web Key Set holding only public keys that Portcullis can verify with.
Status CheckJwks(std::string_view field, std::string_view json_text);
// An e-mail address: local@domain, no spaces, at most `max_chars`.
Status CheckEmail(std::string_view field, std::string_view email, size_t max_chars);

// Limits on JSON request bodies (admin APIs): nesting depth, and members of one object or
// elements of one array. Linear parsing either way; the caps bound what validation later does
// with each array.
inline constexpr int kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxJsonElements = 1000;

// Parses `text` as one JSON value. Refuses malformed JSON, duplicate member names in any object
// (a parser that keeps the last one would let "clientType":"public" hide behind a later
// "clientType":"trusted" in a log), nesting deeper than kMaxJsonDepth levels and more than
// kMaxJsonElements in one array or object (ERR11004, 400).
Result<boost::json::value> ParseStrictJson(std::string_view text, std::string_view what = "body");
Result<boost::json::object> ParseJsonObject(std::string_view text, std::string_view what = "body");

// Reads the members of one JSON object by name. Each getter checks the member's type and marks
// the name as known; the first problem is kept, and Finish() reports it, or else the first
// member that no getter asked for ("unknown field").
class JsonFields {
 public:
  explicit JsonFields(const boost::json::object& object, std::string prefix = {});

  // Absent: nullopt. null: "" (clears an optional field). Not a string: error.
  std::optional<std::string> Str(std::string_view key);
  // Absent: nullopt. null: empty list. Not an array of strings: error.
  std::optional<std::vector<std::string>> StrList(std::string_view key);
  // Absent: nullopt. null: a disengaged inner optional. Not an integer: error.
  std::optional<std::optional<int64_t>> Int(std::string_view key);
  // Any JSON value, unchecked; nullptr when absent.
  const boost::json::value* Raw(std::string_view key);
  // Accepted and ignored (read-only members a client may echo back, e.g. createdAt).
  void Ignore(std::string_view key);

  void Fail(std::string_view key, std::string_view problem);
  bool ok() const { return !error_.has_value(); }
  Status Finish() const;

 private:
  std::string Name(std::string_view key) const { return prefix_ + std::string(key); }
  const boost::json::object& object_;
  std::string prefix_;
  std::vector<std::string> known_;
  std::optional<Error> error_;
};

}  // namespace portcullis::oauth
