#pragma once
// A JSON array built from a range (shared by the HTTP handlers and the CLI).

#include <boost/json/array.hpp>

namespace portcullis {

// Each of `items` through `to_json`, in order.
template <typename Items, typename ToJson>
boost::json::array JsonArray(const Items& items, ToJson to_json) {
  boost::json::array out;
  for (const auto& item : items) out.emplace_back(to_json(item));
  return out;
}

}  // namespace portcullis
