#include "oauth/token/grant_registry.h"

#include <cassert>

namespace portcullis::oauth {

// Each grant's factory, defined in its own file under grants/.
std::unique_ptr<const Grant> MakeAuthorizationCodeGrant();
std::unique_ptr<const Grant> MakeClientCredentialsGrant();
std::unique_ptr<const Grant> MakeRefreshTokenGrant();
std::unique_ptr<const Grant> MakePasswordGrant();
std::unique_ptr<const Grant> MakeTokenExchangeGrant();
std::unique_ptr<const Grant> MakeClientAuthenticatedUserGrant();
std::unique_ptr<const Grant> MakeBootstrapTokenGrant();
std::unique_ptr<const Grant> MakeDeviceCodeGrant();

const GrantRegistry& GrantRegistry::Default() {
  static const GrantRegistry registry = [] {
    GrantRegistry r;
    // The order of discovery's grant_types_supported.
    r.Add(MakeAuthorizationCodeGrant());
    r.Add(MakeClientCredentialsGrant());
    r.Add(MakeRefreshTokenGrant());
    r.Add(MakePasswordGrant());
    r.Add(MakeTokenExchangeGrant());
    r.Add(MakeClientAuthenticatedUserGrant());
    r.Add(MakeBootstrapTokenGrant());
    r.Add(MakeDeviceCodeGrant());  // RFC 8628
    return r;
  }();
  return registry;
}

void GrantRegistry::Add(std::unique_ptr<const Grant> grant) {
  assert(grant && Find(grant->name()) == nullptr);
  types_.push_back(grant->type());
  grants_.push_back(std::move(grant));
}

const Grant* GrantRegistry::Find(std::string_view grant_type) const {
  // Eight entries: a scan beats hashing the (attacker-chosen) name.
  for (const auto& g : grants_) {
    if (g->name() == grant_type) return g.get();
  }
  return nullptr;
}

}  // namespace portcullis::oauth
