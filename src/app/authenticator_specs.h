#pragma once
// The `authenticators` section of the configuration (README "Enterprise sign-in: LDAP"): named
// authenticators that clients select by authenticateClass, e.g.
//
//   authenticators:
//     ldap-corp: {type: ldap, url: "ldaps://ldap.corp:636", user_dn_template: "..."}
//
// Each is kept as text (lists joined by ',', nested maps such as `roles` as tables) with where
// each key came from, and checked at load by its type's parser, so a bad key stops start-up
// with a line naming authenticators.<name>.<key>. Environment variables
// PORTCULLIS_AUTHENTICATORS_<NAME>_<KEY> (NAME upper case, '-' and '.' as '_') override the
// keys of authenticators the file declares. Types: ldap (oauth/ldap/ldap_settings.h), and chain
// (members: several authenticators as one, oauth/code/chain_authenticator.h); a new type adds
// its parser to ValidateAuthenticators and its builder to app/authenticators.cc.
//
// Pure data and functions; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace YAML {
class Node;
}

namespace portcullis::app {

struct AuthenticatorSpec {
  std::string name;
  std::string type;
  std::map<std::string, std::string> values;                         // scalar keys
  std::map<std::string, std::map<std::string, std::string>> tables;  // nested maps (roles)
  std::map<std::string, std::string> sources;                        // key -> "FILE" or "env NAME"
};

// Reads `authenticators:` from the YAML file `file`.
Status ReadAuthenticators(const YAML::Node& section, const std::string& file,
                          std::vector<AuthenticatorSpec>& out);
// The environment variable prefix of an authenticator: PORTCULLIS_AUTHENTICATORS_<NAME>_.
std::string AuthenticatorEnvPrefix(const std::string& name);
// Applies PORTCULLIS_AUTHENTICATORS_* overrides; returns the variables it used.
Result<std::vector<std::string>> ApplyAuthenticatorEnv(
    const std::map<std::string, std::string>& env, std::vector<AuthenticatorSpec>& specs);
// Checks every spec with its type's parser.
Status ValidateAuthenticators(const std::vector<AuthenticatorSpec>& specs);
// A chain's members (`members`, in order).
std::vector<std::string> ChainMembers(const AuthenticatorSpec& spec);

}  // namespace portcullis::app
