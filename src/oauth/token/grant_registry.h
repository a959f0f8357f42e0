#pragma once
// The grants this server supports, in the order discovery publishes them (RFC 8414
// grant_types_supported). The token endpoint finds a request's grant here (ERR12001 when it is
// not), the HTTP binding asks the grant what the request needs to choose its thread, and client
// registration checks a client's grant list against types() (RegistrationPolicy::grant_types).
//
// Ownership and thread-safety: the registry owns its grants. Default() is built once, on first
// use, and never changes: read it from any thread; pointers into it live for the process.

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "oauth/token/grant.h"

namespace portcullis::oauth {

class GrantRegistry {
 public:
  GrantRegistry() = default;
  GrantRegistry(GrantRegistry&&) = default;
  GrantRegistry& operator=(GrantRegistry&&) = default;

  // Every grant of the server (grant_registry.cc).
  static const GrantRegistry& Default();

  // Appends a grant; its name must be new.
  void Add(std::unique_ptr<const Grant> grant);
  // nullptr when no grant has that name.
  const Grant* Find(std::string_view grant_type) const;
  // In registration order.
  const std::vector<std::unique_ptr<const Grant>>& grants() const { return grants_; }
  // Each grant's name and traits, in registration order: what client registration accepts.
  // The span lives as long as the registry and until the next Add.
  std::span<const GrantType> types() const { return types_; }

 private:
  std::vector<std::unique_ptr<const Grant>> grants_;
  std::vector<GrantType> types_;
};

}  // namespace portcullis::oauth
