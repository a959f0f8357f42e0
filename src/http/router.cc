#include "http/router.h"

#include <algorithm>

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

namespace {

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Appends `method` to an Allow value unless it is there already.
void AddAllow(std::string& allow, const std::string& method) {
  if (allow.find(method) != std::string::npos) return;
  if (!allow.empty()) allow += ", ";
  allow += method;
}

bool MethodOk(const Router::Route& r, std::string_view method) {
  return r.method == method || (method == "HEAD" && r.method == "GET");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, std::string service, Handler handler) {
  auto route = std::make_unique<Route>();
  for (auto s : SplitPath(pattern)) route->segments.emplace_back(s);
  route->method = std::move(method);
  route->pattern = std::move(pattern);
  route->service = std::move(service);
  route->handler = std::move(handler);
  route->index = routes_.size();

  // Patterns that split alike are one path ("/a/b" and "a/b").
  std::string key;
  for (const auto& s : route->segments) key += "/" + s;
  Path*& path = by_pattern_[key];
  if (path == nullptr) {
    auto p = std::make_unique<Path>();
    p->segments = route->segments;
    bool any_param = false;
    for (const auto& s : p->segments) {
      bool is = IsParam(s);
      p->param.push_back(is);
      any_param |= is;
      if (!is) ++p->literals;
    }
    path = p.get();
    if (any_param) {
      size_t n = p->segments.size();
      if (param_by_size_.size() <= n) param_by_size_.resize(n + 1);
      param_by_size_[n].push_back(path);
    } else {
      literal_.emplace(key, path);
    }
    paths_.push_back(std::move(p));
  }
  path->routes.push_back(route.get());
  AddAllow(path->allow, route->method);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(Request& request) const {
  // The patterns that match the path with the most literal segments decide it: their routes
  // (method) or their Allow (405). Usually one pattern; several only when patterns such as
  // /a/{x} and /{y}/b tie.
  std::vector<std::string_view> parts;
  const Path* only = nullptr;
  std::vector<const Path*> tied;
  auto literal = request.path.starts_with('/') ? literal_.find(request.path) : literal_.end();
  if (literal != literal_.end()) {
    only = literal->second;  // all segments literal: nothing can score higher
  } else {
    parts = SplitPath(request.path);
    int top = -1;
    auto consider = [&](const Path* p) {
      for (size_t i = 0; i < parts.size(); ++i) {
        if (p->param[i] ? parts[i].empty() : p->segments[i] != parts[i]) return;
      }
      if (p->literals > top) {
        top = p->literals;
        tied.assign(1, p);
      } else if (p->literals == top) {
        tied.push_back(p);
      }
    };
    if (parts.size() < param_by_size_.size()) {
      for (const Path* p : param_by_size_[parts.size()]) consider(p);
    }
    if (!request.path.starts_with('/')) {
      // Not a path the server passes on; still matched as the segments say.
      for (const auto& [k, p] : literal_) {
        if (p->segments.size() == parts.size()) consider(p);
      }
    }
    if (tied.size() == 1) only = tied.front();
  }

  Match m;
  const Route* best = nullptr;
  if (only != nullptr) {
    for (const Route* r : only->routes) {
      if (MethodOk(*r, request.method)) {
        best = r;
        break;
      }
    }
    if (best == nullptr) {
      m.status = 405;
      m.allow = only->allow;
      return m;
    }
  } else if (!tied.empty()) {
    std::vector<const Route*> all;
    for (const Path* p : tied) all.insert(all.end(), p->routes.begin(), p->routes.end());
    std::sort(all.begin(), all.end(),
              [](const Route* a, const Route* b) { return a->index < b->index; });
    std::string allow;
    for (const Route* r : all) {
      AddAllow(allow, r->method);
      if (best == nullptr && MethodOk(*r, request.method)) best = r;
    }
    if (best == nullptr) {
      m.status = 405;
      m.allow = std::move(allow);
      return m;
    }
  } else {
    m.status = 404;
    return m;
  }

  request.params.clear();
  bool has_param = false;
  for (const auto& seg : best->segments) has_param |= IsParam(seg);
  if (has_param) {
    if (parts.empty()) parts = SplitPath(request.path);
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto& seg = best->segments[i];
      if (!IsParam(seg)) continue;
      std::string_view name(seg.data() + 1, seg.size() - 2);
      auto decoded = PercentDecode(parts[i], false);
      request.params.emplace_back(name, decoded ? std::move(*decoded) : std::string(parts[i]));
    }
  }
  m.route = best;
  return m;
}

}  // namespace portcullis::http
