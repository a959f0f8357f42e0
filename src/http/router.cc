#include "http/router.h"

#include "common/encoding.h"

namespace portcullis::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::Add(std::string method, std::string pattern, std::string service, Handler handler) {
  auto route = std::make_unique<Route>();
  for (auto s : SplitPath(pattern)) route->segments.emplace_back(s);
  route->method = std::move(method);
  route->pattern = std::move(pattern);
  route->service = std::move(service);
  route->handler = std::move(handler);
  route->index = routes_.size();
  routes_.push_back(std::move(route));
}

namespace {

bool IsParam(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments matched, or -1 when the pattern does not match.
int Score(const Router::Route& route, const std::vector<std::string_view>& parts) {
  if (route.segments.size() != parts.size()) return -1;
  int literal = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsParam(route.segments[i])) {
      if (parts[i].empty()) return -1;
    } else if (route.segments[i] == parts[i]) {
      ++literal;
    } else {
      return -1;
    }
  }
  return literal;
}

}  // namespace

Router::Match Router::Find(Request& request) const {
  auto parts = SplitPath(request.path);
  const Route* best = nullptr;
  int best_score = -1;
  int path_score = -1;
  std::string allow;
  for (const auto& r : routes_) {
    int s = Score(*r, parts);
    if (s < 0) continue;
    if (s > path_score) {
      path_score = s;
      allow.clear();
    }
    if (s == path_score) {
      if (allow.find(r->method) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += r->method;
      }
    }
    bool method_ok =
        r->method == request.method || (request.method == "HEAD" && r->method == "GET");
    if (method_ok && s > best_score) {
      best = r.get();
      best_score = s;
    }
  }
  Match m;
  // A more literal pattern for another method still decides the path: /a/b (POST only) must not
  // fall back to /a/{x} (GET) for a GET of /a/b.
  if (best && best_score == path_score) {
    request.params.clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!IsParam(best->segments[i])) continue;
      const auto& seg = best->segments[i];
      std::string_view name(seg.data() + 1, seg.size() - 2);
      auto decoded = PercentDecode(parts[i], false);
      request.params.emplace_back(name, decoded ? std::move(*decoded) : std::string(parts[i]));
    }
    m.route = best;
    return m;
  }
  if (path_score >= 0) {
    m.status = 405;
    m.allow = std::move(allow);
  } else {
    m.status = 404;
  }
  return m;
}

}  // namespace portcullis::http
