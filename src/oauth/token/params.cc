#include "oauth/token/params.h"

#include <unordered_set>

#include "oauth/token/token_errors.h"

namespace portcullis::oauth {

Result<Params> Params::FromForm(std::string_view body, size_t max_value) {
  auto fields = ParseForm(body);
  if (!fields) return Fail(Error::Status("ERR12000", "The body is not a valid form."));
  if (fields->size() > kMaxFields) {
    return Fail(Error::Status(
        "ERR12000", "Too many form parameters (at most " + std::to_string(kMaxFields) + ")."));
  }
  Params p;
  // One hash lookup per field: a pairwise comparison is quadratic, and an unauthenticated
  // body of thousands of distinct names made it cost a CPU-second.
  std::unordered_set<std::string_view> seen;
  seen.reserve(fields->size());
  for (const auto& [name, value] : *fields) {
    if (name.empty() || value.size() > max_value || name.size() > 256) {
      return Fail(
          Coded("ERR12000", 400, "invalid_request", "Parameter too long: " + name.substr(0, 64)));
    }
    if (!seen.insert(name).second) {
      return Fail(
          Coded("ERR12000", 400, "invalid_request", "Parameter repeated: " + name.substr(0, 64)));
    }
  }
  p.fields_ = std::move(*fields);
  return p;
}

std::optional<std::string_view> Params::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Params::Value(std::string_view name) const {
  auto v = Get(name);
  return v ? *v : std::string_view{};
}

}  // namespace portcullis::oauth
