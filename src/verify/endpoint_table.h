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
// Request paths are normalised before matching, the way a proxy in front would see them:
// the query is dropped, percent-escapes are decoded per segment, "." and ".." segments are
// resolved (RFC 3986 §5.2.4) and empty segments merged (nginx merge_slashes). A path that
// decodes to a "/" inside a segment, or holds a NUL, matches nothing.
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

namespace portcullis::verify {

struct EndpointRule {
  std::string id;      // as registered
  std::string scope;   // as registered
  std::string method;  // lower case
  std::vector<std::string> segments;
  std::vector<bool> is_param;
  std::vector<std::string> scopes;  // scope split on whitespace
};

class EndpointTable {
 public:
  struct Entry {
    std::string endpoint;
    std::string scope;
  };
  static EndpointTable FromEntries(const std::vector<Entry>& entries);
  // The registry's JSON: an array of {"endpoint":..,"operation":..,"scope":..}.
  static std::expected<EndpointTable, std::string> FromJson(std::string_view json);

  // Null when no endpoint matches.
  const EndpointRule* Match(std::string_view method, std::string_view path) const;

  size_t size() const { return rules_.size(); }
  size_t skipped() const { return skipped_; }

 private:
  std::vector<EndpointRule> rules_;
  size_t skipped_ = 0;
};

// Normalised path segments (see above); nullopt when the path cannot match anything.
std::optional<std::vector<std::string>> NormalizePath(std::string_view path);

// Whether `granted` holds at least one of `required` (true when `required` is empty).
bool AnyScope(const std::vector<std::string>& required, const std::vector<std::string>& granted);

std::vector<std::string> SplitScopes(std::string_view text);

}  // namespace portcullis::verify
