#include "oauth/token/user_scope.h"

#include "oauth/client/authority.h"

namespace portcullis::oauth {

std::vector<std::string> ScopeForUser(const std::vector<std::string>& scope,
                                      std::string_view roles) {
  if (HasRole(roles, "admin")) return scope;
  std::vector<std::string> out;
  for (const auto& s : scope) {
    if (!IsAdminScope(s)) out.push_back(s);
  }
  return out;
}

}  // namespace portcullis::oauth
