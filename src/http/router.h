#pragma once
// Routes "METHOD /path/{param}/..." to handlers. Unknown paths answer 404 (ERR10007); a known
// path with the wrong method answers 405 (ERR10008) with `Allow`. Matching is by segment, and
// literal segments win over parameters, so `/oauth2/key/{kid}` and `/oauth2/keys` coexist.
// Not thread-safe while routes are added; immutable and freely shared once serving starts.

#include <memory>
#include <string>
#include <string_view>
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
  std::vector<std::unique_ptr<Route>> routes_;
};

// Splits "/a/b/" into {"a","b",""}; exposed for tests.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace portcullis::http
