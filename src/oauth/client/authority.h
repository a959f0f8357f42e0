#pragma once
// Who may grant what through the admin APIs (README "Admin privileges"). Three rules, checked
// inside the write's transaction against the row as it was and as it will be:
//
//  1. Admin scopes. A caller may write a client (create, update, delete, rotate its secret,
//     link or unlink endpoints, set its delegation policy) or a service's endpoints only when
//     its token holds every admin scope (IsAdminScope) that the client or endpoints carry
//     before or after the write. So nobody can give a client, directly by `scope`, through
//     endpoint links, through an endpoint's scope or through a delegation policy, an admin
//     scope they do not hold, nor take over (secret, keys, redirect URIs) a client that has one.
//  2. Trust. A trusted client may assert any user and roles (client_authenticated_user) and
//     skips consent, so trust counts as the strongest privilege: only a caller whose own client
//     is trusted may write a client that is trusted before or after the write, or give or take
//     the `admin` role of a user. (With rule 1 that caller also holds every admin scope the
//     trusted client reaches: its own.)
//  3. Owner (light-oauth2 ERR11620, reference §7.1, §8). A caller acting for a user whose roles
//     lack `admin` may write only clients and services that user owns, may not give them to
//     someone else, and may write no user record but its own (and never roles).
//
// A token of a client acting for itself (client_credentials) is not bound by rule 3: it has
// no user. The CLI and the importer act with Full(): store access is full admin already.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"

namespace portcullis::oauth {

// portal.*, oauth.* (Portcullis's own APIs), read:provider and write:provider.
bool IsAdminScope(std::string_view scope);
// Whether `roles` (separated by spaces or commas, common/roles.h) contain `role` as a whole word.
bool HasRole(std::string_view roles, std::string_view role);

struct Authority {
  bool full = false;                // CLI, importer: every rule passes
  std::vector<std::string> scopes;  // the caller token's scopes
  bool trusted = false;             // the caller's own client is trusted
  std::string user_id;              // the user the token acts for; empty for a client's own
  std::string roles;                // that user's roles (token claim)

  static Authority Full() {
    Authority a;
    a.full = true;
    return a;
  }
  bool Holds(std::string_view scope) const;
  // Rule 3 applies.
  bool ActsForNonAdminUser() const { return !full && !user_id.empty() && !HasRole(roles, "admin"); }
};

// Rule 1 over scope lists: 403 ERR10005 naming the first admin scope the caller lacks.
Status CheckAdminScopes(const Authority& by, const std::vector<std::string>& scopes,
                        std::string_view what);
// Rules 1-3 for a client write. `before` is null on create, `after` null on delete.
Status CheckClientWrite(const Authority& by, const Client* before, const Client* after);
// Rule 3 for an entity with an owner: `owner_before` empty on create.
Status CheckOwner(const Authority& by, std::string_view owner_before, std::string_view owner_after);
// Rules 2 and 3 for a user write: giving or taking `admin` needs trust; a non-admin user may
// change only its own record, and not its roles. `before_roles` is null on create.
Status CheckUserWrite(const Authority& by, std::string_view user_id,
                      const std::string* before_roles, const std::string* after_roles);

}  // namespace portcullis::oauth
