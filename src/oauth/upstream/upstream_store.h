#pragma once
// Persistence of upstream sign-ins (README "Upstream OpenID Connect providers"):
//   - pending flows: one row per "Sign in with ..." click, keyed by TokenHash(state), holding
//     what the callback needs (nonce, PKCE verifier, the authorization request to continue, and
//     TokenHash of the browser binding cookie), short-lived and taken at most once;
//   - links: (authenticator, upstream subject) -> local user id, and whether the account was
//     created for the link or an existing one was linked.
// The SQL implementation is store::SqlUpstreamStore (tables upstream_flows, upstream_links);
// tests use MemoryUpstreamStore. Only domain types cross this interface.
//
// Thread-safety: implementations are safe to call from many threads at once. Calls block
// (store I/O): never on an I/O thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth::upstream {

struct PendingFlow {
  std::string state_hash;     // TokenHash(state)
  std::string authenticator;  // authenticators.<name>
  std::string binding_hash;   // TokenHash(the browser's binding cookie)
  std::string request;        // the authorization request to continue (a query string)
  std::string nonce;
  std::string code_verifier;  // PKCE (RFC 7636); useless without the upstream's code
  int64_t expires_at = 0;
};

struct Link {
  std::string authenticator;
  std::string subject;  // the upstream `sub`
  std::string user_id;
  bool created = false;  // the account was made for this link (just in time)
  int64_t created_at = 0;
};

class UpstreamStore {
 public:
  virtual ~UpstreamStore() = default;

  virtual Status SaveFlow(const PendingFlow& flow) = 0;
  // Removes and returns the flow if it exists and has not expired at `now`: of two concurrent
  // takes (two instances, two tabs) exactly one gets it.
  virtual Result<std::optional<PendingFlow>> TakeFlow(std::string_view state_hash, int64_t now) = 0;
  // Deletes flows that expired before `now`.
  virtual Status PurgeFlows(int64_t now) = 0;
  // Keeps the `keep` most recently saved flows of `binding_hash` that are open at `now` and
  // deletes its others (older open ones and expired ones): one browser cannot hold more.
  virtual Status CapFlows(std::string_view binding_hash, int64_t keep, int64_t now) = 0;

  virtual Result<std::optional<Link>> FindLink(store::Tx& tx, std::string_view authenticator,
                                               std::string_view subject) = 0;
  // Adds `link` unless (authenticator, subject) is linked already: true when added. The user
  // must exist (the row goes with the user).
  virtual Result<bool> InsertLink(store::Tx& tx, const Link& link) = 0;
  // The local users whose e-mail address equals `email` ignoring ASCII case (at most 2: the
  // caller only needs to know whether there is exactly one).
  virtual Result<std::vector<std::string>> UsersWithEmail(store::Tx& tx,
                                                          std::string_view email) = 0;
};

}  // namespace portcullis::oauth::upstream
