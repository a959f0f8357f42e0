#pragma once
// A grant type as both the token endpoint and client registration see it: its name and the rules
// that follow from it. The token domain's GrantRegistry (oauth/token/grant_registry.h) owns the
// one list (GrantRegistry::types()); client registration receives it (RegistrationPolicy), so the
// client domain names no grant type of its own and a new grant needs no edit here.
//
// Values only; the names are views into static storage (each grant's file).

#include <span>
#include <string_view>

namespace portcullis::oauth {

// Rules the token endpoint applies, in this order, before a grant runs (TokenService::Token), and
// that client registration applies to a client's grant list (ValidateClient).
struct GrantTraits {
  // RFC 6749 §2.1: the grant rests on the client proving who it is, so a public client never
  // gets it whatever its grant list says (ERR12024), and cannot register it.
  bool needs_client_authentication = true;
  // Decided by identity or policy inside the grant (bootstrap_token: the configured client;
  // token exchange: the delegation policies), not by the client's grant list.
  bool by_policy = false;
  // For a client that lists no grants (light-oauth2 rows, reference §4.4): whether a public
  // client may use it, and whether only trusted clients may. trusted_only also limits
  // registration to trusted clients.
  bool public_by_default = false;
  bool trusted_only = false;
  // The client sees the user's password (RFC 6749 §4.3, light-oauth2's client_authenticated_user):
  // FAPI 2.0 §5.3.2.1 forbids it to profile fapi2 clients, at registration and per request.
  bool shows_password = false;
};

struct GrantType {
  std::string_view name;  // the grant_type value
  GrantTraits traits;
};

// The entry named `name`, or nullptr.
inline const GrantType* FindGrantType(std::span<const GrantType> types, std::string_view name) {
  for (const auto& t : types) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace portcullis::oauth
