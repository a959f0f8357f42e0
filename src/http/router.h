#pragma once
// Routes "METHOD /path/{param}/..." to handlers. Unknown paths answer 404 (ERR10007); a known
// path with the wrong method answers 405 (ERR10008) with `Allow`. Matching is by segment, and
// literal segments win over parameters, so `/oauth2/key/{kid}` and `/oauth2/keys` coexist.
//
// Lookup without a scan of every route: routes are grouped by pattern at registration, each
// pattern with its methods and its `Allow` value already joined; a pattern without parameters
// is found by one hash lookup of the request path, the others among the few parameterised
// patterns with as many segments as the path.
//
// Not thread-safe while routes are added; immutable and freely shared once serving starts.
// Routes, and the parameter names a match puts in Request::params, live as long as the Router.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/message.h"

namespace portcullis::http {

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;  // e.g. "/oauth2/client/{clientId}"
    std::string service;  // owning service, for metrics and logs
    Handler handler;
    std::vector<std::string> segments;
    size_t index = 0;  // position in routes(), for per-route metrics
  };

  void Add(std::string method, std::string pattern, std::string service, Handler handler);

  struct Match {
    const Route* route = nullptr;  // null: not found or method not allowed
    int status = 200;              // 404 or 405 when route is null
    std::string allow;             // for 405
  };
  // Fills request.params on success.
  Match Find(Request& request) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  // One pattern and the routes registered on it, in registration order.
  struct Path {
    std::vector<std::string> segments;
    std::vector<bool> param;  // per segment: `{name}`
    int literals = 0;         // literal segments: the pattern's precedence
    std::vector<const Route*> routes;
    std::string allow;  // the methods of `routes`, joined with ", "
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::unique_ptr<Path>> paths_;
  // Patterns without parameters, by their path ("/oauth2/keys").
  std::unordered_map<std::string, Path*, StringHash, std::equal_to<>> literal_;
  // Patterns with parameters, by segment count.
  std::vector<std::vector<const Path*>> param_by_size_;
  // Every pattern by its text, to group routes at registration.
  std::unordered_map<std::string, Path*> by_pattern_;
};

// Splits "/a/b/" into {"a","b",""}; exposed for tests.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace portcullis::http
