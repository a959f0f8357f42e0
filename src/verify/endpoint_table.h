#pragma once
// The endpoint→scope table of one service (light-oauth2 reference §8): which scope a request
// needs, by method and path. Shared by libportcullis-verify and the server's /oauth2/verify.
//
// Endpoint ids are "<path>@<method>" ("/v1/pets/{id}@get"). A segment written "{name}" matches
// exactly one non-empty path segment; among matching endpoints the most specific wins (at the
// first segment where two differ, a literal beats a template). Ids in other formats (GraphQL,
// hybrid) are skipped and counted. Methods compare case-insensitively. A trailing slash is not
// significant.
//
// Request paths are checked before matching, and fail closed: a path that a proxy or framework
// behind the gateway could read as another endpoint matches nothing. The query and fragment are
// dropped and percent-escapes decoded per segment (RFC 3986 §2.1); then the path is refused when
// it holds an encoded "/" (%2F), or, raw or encoded, a ";" (path parameters, RFC 3986 §3.3: Tomcat
// and Spring drop them, so "/admin;x" reaches "/admin"), a backslash, a NUL or another control
// character, a "." or
// ".." segment (RFC 3986 §5.2.4: resolved differently by different servers), an empty segment
// ("//"; one trailing slash is allowed and not significant), or a "%" left after decoding (a
// double encoding such as "%252e"). Refusing rather than normalising means the gateway never
// judges a path other than the one the upstream routes.
//
// Letter case (a per-service setting, PathCase): with kExact (the default) literal segments
// compare byte for byte, and a request that matches a declared endpoint only when case is
// ignored, or whose case-folded form would select another endpoint, is refused: an upstream
// that routes without regard to case would send "/v1/Admin" to "/v1/admin". With kInsensitive,
// literals compare ignoring ASCII case (what such an upstream does) and paths with non-ASCII
// bytes are refused (their case folding differs between frameworks).
//
// An endpoint's scope may list several space-separated scopes; a token needs at least one of
// them (light-4j matchedScopes). An endpoint without scope needs none.
//
// Immutable once built; share as std::shared_ptr<const EndpointTable> across threads.

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portcullis/verify.h"  // PathCase

namespace portcullis::verify {

struct EndpointRule {
  std::string id;      // as registered
  std::string scope;   // as registered
  std::string method;  // lower case
  std::vector<std::string> segments;
  std::vector<bool> is_param;
  std::vector<std::string> scopes;  // scope split on whitespace
};

enum class MatchStatus {
  kMatched,
  kNoEndpoint,   // a well-formed path that no endpoint declares
  kRefusedPath,  // the path is not in canonical form (see above)
  kCaseVariant,  // kExact: the path differs from a declared endpoint only by letter case
};

struct MatchResult {
  MatchStatus status = MatchStatus::kNoEndpoint;
  const EndpointRule* rule = nullptr;  // set when kMatched
  std::string why;                     // for kRefusedPath / kCaseVariant: safe to show
};

class EndpointTable {
 public:
  struct Entry {
    std::string endpoint;
    std::string scope;
  };
  static EndpointTable FromEntries(const std::vector<Entry>& entries,
                                   PathCase path_case = PathCase::kExact);
  // The registry's JSON: an array of {"endpoint":..,"operation":..,"scope":..}.
  static std::expected<EndpointTable, std::string> FromJson(std::string_view json,
                                                            PathCase path_case = PathCase::kExact);

  MatchResult Lookup(std::string_view method, std::string_view path) const;
  // Null unless Lookup says kMatched.
  const EndpointRule* Match(std::string_view method, std::string_view path) const {
    return Lookup(method, path).rule;
  }

  size_t size() const { return rules_.size(); }
  size_t skipped() const { return skipped_; }
  PathCase path_case() const { return path_case_; }

 private:
  std::vector<EndpointRule> rules_;
  size_t skipped_ = 0;
  PathCase path_case_ = PathCase::kExact;
};

// The decoded path segments (see above), or why the path is refused.
std::expected<std::vector<std::string>, std::string> NormalizePath(std::string_view path);

// Whether `granted` holds at least one of `required` (true when `required` is empty).
bool AnyScope(const std::vector<std::string>& required, const std::vector<std::string>& granted);

std::vector<std::string> SplitScopes(std::string_view text);

}  // namespace portcullis::verify
