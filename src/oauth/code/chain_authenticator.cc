#include "oauth/code/chain_authenticator.h"

#include <optional>

#include "common/log.h"

namespace portcullis::oauth {
namespace {

// Records which member answered for a directory user (the innermost of nested chains), so
// code.second_factor_realms naming that member applies to it.
AuthenticatedUser Answered(AuthenticatedUser u, const ChainAuthenticator::Member& m) {
  if (!u.local && u.chain_member.empty()) u.chain_member = m.name;
  return u;
}

}  // namespace

Result<AuthenticatedUser> ChainAuthenticator::Login(std::string_view user_id,
                                                    std::string_view password,
                                                    std::string_view remote_ip) {
  std::optional<Error> unavailable, refused;
  for (const auto& m : members_) {
    auto u = m.authenticator->Login(user_id, password, remote_ip);
    if (u) return Answered(std::move(*u), m);
    const int status = u.error().http_status;
    if (status == 429) return u;
    if (status >= 500) {
      log::Warn("login.chain_member_unavailable", {{"member", m.name}});
      if (!unavailable) unavailable = std::move(u.error());
    } else if (!refused) {
      refused = std::move(u.error());
    }
  }
  if (unavailable) return Fail(std::move(*unavailable));
  if (refused) return Fail(std::move(*refused));
  return Fail(Error::Status("ERR12016", "The user name or password is incorrect."));
}

Result<AuthenticatedUser> ChainAuthenticator::Find(std::string_view user_id) {
  for (const auto& m : members_) {
    auto u = m.authenticator->Find(user_id);
    if (u) return Answered(std::move(*u), m);
    if (u.error().http_status >= 500) return u;
  }
  return Fail(Error::Status("ERR12013"));
}

}  // namespace portcullis::oauth
