#include "verify/claims.h"

#include "verify/endpoint_table.h"

namespace portcullis::verify {

std::vector<std::string> ScopesOf(const boost::json::object& claims) {
  std::vector<std::string> out;
  for (std::string_view name : {"scope", "scp"}) {
    const auto* v = claims.if_contains(name);
    if (v == nullptr) continue;
    if (v->is_string()) {
      out = SplitScopes(std::string_view(v->get_string()));
    } else if (v->is_array()) {
      for (const auto& s : v->get_array()) {
        if (s.is_string()) out.emplace_back(std::string_view(s.get_string()));
      }
    }
    if (!out.empty()) break;
  }
  return out;
}

std::string FirstString(const boost::json::object& claims,
                        std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    const auto* v = claims.if_contains(name);
    if (v && v->is_string() && !v->get_string().empty()) return std::string(v->get_string());
  }
  return {};
}

}  // namespace portcullis::verify
