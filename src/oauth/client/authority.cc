#include "oauth/client/authority.h"

#include <algorithm>

#include "common/roles.h"

namespace portcullis::oauth {
namespace {

Error Denied(std::string description) { return Error::Status("ERR11620", std::move(description)); }

}  // namespace

bool IsAdminScope(std::string_view scope) {
  return scope.starts_with("portal.") || scope.starts_with("oauth.") || scope == "read:provider" ||
         scope == "write:provider";
}

bool HasRole(std::string_view roles, std::string_view role) {
  return AnyRole(roles, [&](std::string_view r) { return r == role; });
}

bool Authority::Holds(std::string_view scope) const {
  return full || std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Status CheckAdminScopes(const Authority& by, const std::vector<std::string>& scopes,
                        std::string_view what) {
  if (by.full) return {};
  for (const auto& s : scopes) {
    if (IsAdminScope(s) && !by.Holds(s)) {
      return Fail(Error::Status(
          "ERR10005", "The token lacks scope " + s + ", which " + std::string(what) + " carries."));
    }
  }
  return {};
}

Status CheckOwner(const Authority& by, std::string_view owner_before,
                  std::string_view owner_after) {
  if (!by.ActsForNonAdminUser()) return {};
  if (!owner_before.empty() && owner_before != by.user_id) {
    return Fail(Denied("Only its owner or an admin may change it."));
  }
  if (owner_after != by.user_id) {
    return Fail(Denied("Only an admin may give it to another owner."));
  }
  return {};
}

Status CheckClientWrite(const Authority& by, const Client* before, const Client* after) {
  if (by.full) return {};
  const Client* any = before ? before : after;
  if (any == nullptr) return {};
  if (auto st = CheckOwner(by, before ? before->owner_id : std::string_view(),
                           after ? after->owner_id : before->owner_id);
      !st) {
    return st;
  }
  for (const Client* c : {before, after}) {
    if (c == nullptr) continue;
    if (auto st = CheckAdminScopes(by, c->scope, "the client"); !st) return st;
    if (c->IsTrusted() && !by.trusted) {
      return Fail(Denied("Only a trusted client may create, change or delete a trusted client."));
    }
  }
  return {};
}

Status CheckUserWrite(const Authority& by, std::string_view user_id,
                      const std::string* before_roles, const std::string* after_roles) {
  if (by.full) return {};
  if (by.ActsForNonAdminUser()) {
    if (before_roles == nullptr || user_id != by.user_id) {
      return Fail(Denied("Only the user itself or an admin may change this user."));
    }
    if (after_roles != nullptr && *after_roles != *before_roles) {
      return Fail(Denied("Only an admin may change roles."));
    }
  }
  bool was_admin = before_roles != nullptr && HasRole(*before_roles, "admin");
  bool is_admin = after_roles != nullptr && HasRole(*after_roles, "admin");
  if (after_roles == nullptr) is_admin = was_admin;  // delete or no role change: nothing given
  if (was_admin != is_admin && !by.trusted) {
    return Fail(Denied("Only a trusted client may give or take the admin role."));
  }
  return {};
}

}  // namespace portcullis::oauth
