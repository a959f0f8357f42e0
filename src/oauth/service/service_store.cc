#include "oauth/service/service_store.h"

#include <algorithm>
#include <string>

#include "oauth/client/client.h"

namespace portcullis::oauth {

Error ServiceExists(std::string_view service_id) {
  return Error::Status("ERR12018", "Service " + std::string(service_id) + " already exists.");
}

std::vector<std::string> DeclaredScopesOf(const std::vector<Endpoint>& endpoints) {
  std::vector<std::string> out;
  for (const auto& e : endpoints) {
    for (auto& s : SplitScope(e.scope)) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace portcullis::oauth
