#pragma once
// Several authenticators as one (`type: chain` in the configuration, README "Enterprise
// sign-in: LDAP"): a client whose authenticateClass names the chain signs users in against each
// member in order. The chain is a realm of its own, so its SSO sessions are found by logout like
// any other.
//
// Login: the first member that accepts the password wins. A refusal moves on to the next
// member. A member that cannot answer (5xx) also moves on, but if no member accepts, the answer
// is that 503, never "wrong password" (the user may be in the directory that was down). A
// throttled member (429) ends the attempt at once. Each member throttles its own attempts, so a
// wrong password counts once per member tried.
// Find: the first member that knows the user id; a member that cannot answer gives 503, since
// a later member could hold a different account of the same name. Members therefore share one
// namespace of user ids: do not chain stores that give one name to different people.
//
// Ownership: shares ownership of its members. Thread-safety: as its members (safe from several
// threads once built).

#include <memory>
#include <string>
#include <vector>

#include "oauth/code/authenticators.h"

namespace portcullis::oauth {

class ChainAuthenticator final : public LoginAuthenticator {
 public:
  struct Member {
    std::string name;
    std::shared_ptr<LoginAuthenticator> authenticator;
  };
  explicit ChainAuthenticator(std::vector<Member> members) : members_(std::move(members)) {}

  Result<AuthenticatedUser> Login(std::string_view user_id, std::string_view password,
                                  std::string_view remote_ip) override;
  Result<AuthenticatedUser> Find(std::string_view user_id) override;
  const std::vector<Member>& members() const { return members_; }

 private:
  const std::vector<Member> members_;
};

}  // namespace portcullis::oauth
