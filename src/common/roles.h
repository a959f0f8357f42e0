#pragma once
// A user's `roles` attribute: role names separated by spaces or commas ("user admin",
// "user,admin"). Every rule that reads roles (admin scopes, the second-factor role rule) splits
// them here, so one rule cannot see a role another one misses.

#include <string_view>

namespace portcullis {

// Calls `f(role)` for each non-empty role in `roles`; stops early when `f` returns true and
// returns true then.
template <typename F>
bool AnyRole(std::string_view roles, F&& f) {
  size_t i = 0;
  while (i < roles.size()) {
    while (i < roles.size() && (roles[i] == ' ' || roles[i] == ',')) ++i;
    size_t j = i;
    while (j < roles.size() && roles[j] != ' ' && roles[j] != ',') ++j;
    if (j > i && f(roles.substr(i, j - i))) return true;
    i = j;
  }
  return false;
}

}  // namespace portcullis
