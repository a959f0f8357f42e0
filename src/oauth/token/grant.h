#pragma once
// Grant types as plug-ins (RFC 6749 §4, RFC 8693, light-oauth2's custom grants).
//
// A Grant is one grant_type: its name, the rules the token endpoint applies before running it
// (GrantTraits, oauth/client/grant_type.h), the request parameters it reads, what running it
// needs for a given request (GrantNeeds: decides I/O thread, store pool or hashing pool) and its
// handler. The registry (grant_registry.h) lists every grant; the token endpoint, discovery's
// grant_types_supported, the thread choice and client registration's grant rules all read it.
// A new grant is one file under grants/ defining its factory (CMake globs the folder), plus its
// line in grant_registry.cc.
//
// The promise a Grant makes: Issue touches nothing that Needs(request) did not declare. A grant
// that declares kNothing for a request runs on an I/O thread and must not reach the store or a
// slow hash; GrantContext enforces it (its store and user accessors fail with Internal, logged
// as a bug, on such a call), so a wrong declaration fails loudly in tests instead of stalling
// an I/O thread in production.
//
// Ownership and thread-safety: grants are immutable and stateless, owned by the registry for
// the life of the process, and called concurrently from any thread. A GrantContext is built per
// call on the caller's stack; it borrows the token service's dependencies (GrantDeps), which
// outlive every call, and is used by one thread.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/client/client.h"
#include "oauth/client/grant_type.h"
#include "oauth/login/authenticator.h"
#include "oauth/token/token_request.h"
#include "oauth/token/token_state_store.h"

namespace portcullis {
namespace store {
class Database;
class Tx;
}  // namespace store
namespace oauth {

struct IssuedToken;
struct TokenSettings;
class TokenKeys;
class RevocationList;
class UserAuthenticator;

// What running a grant (or authenticating its client) needs, in increasing order: nothing (may
// run on an I/O thread), the store (blocking pool), a slow hash (the password-hashing pool,
// which may also use the store).
enum class GrantNeeds { kNothing = 0, kStore = 1, kSlowHash = 2 };
constexpr GrantNeeds MaxNeeds(GrantNeeds a, GrantNeeds b) { return a < b ? b : a; }
std::string_view NeedsName(GrantNeeds n);

// TokenSubject::user_source of a user signed in by a configured authenticator: this prefix and
// the authenticator's realm ("authenticator:ldap-corp").
inline constexpr std::string_view kAuthenticatorSourcePrefix = "authenticator:";
// The access-token claim that names that realm (absent for the user store's users); the userinfo
// endpoint then answers without the user store (api/userinfo_api.h).
inline constexpr std::string_view kUserRealmClaim = "user_realm";

// The party a token is issued for.
struct TokenSubject {
  std::string user_id;
  std::string user_type;
  std::string roles;
  bool is_user = false;
  std::string sub;  // overrides the default subject (token exchange keeps the original)
  // Where the user came from (refresh_tokens.user_source): "users" (the user store), "client"
  // (asserted by a trusted client), "authenticator:<realm>" (signed in by that configured
  // authenticator, e.g. LDAP), "" (unknown: rows from before the column).
  std::string user_source;
};

// A signed access token before delivery.
struct MintedToken {
  std::string jwt;
  std::string jti;
  int64_t exp = 0;
};

// The token's audience, and when the request names a resource (RFC 8707 `resource`, or
// `audience`), the scopes that service's endpoints declare.
struct TokenTarget {
  std::string audience;
  std::optional<std::vector<std::string>> scopes;  // nullopt: no resource named
};

// What the token service needs from other domains: the user behind a code or refresh token, the
// delegation policy of a token exchange, the scopes a target service defines (RFC 8707), and the
// one write, upgrading a client's legacy secret digest. The production adapter is
// app/modules/grant_lookups.h, over the user, delegation, service and client stores; unit tests
// give a fake. Thread-safe; calls block (store pool only).
struct CurrentUser {
  std::string user_type;
  std::string roles;
  bool locked = false;
  // For OpenID Connect claims (oauth/oidc/user_claims.h).
  std::string first_name;
  std::string last_name;
  std::string email;
  int64_t updated_at = 0;
  bool email_verified = false;
  std::string phone_number;
  bool phone_number_verified = false;
  std::string address;
};
struct ExchangePolicy {
  std::vector<std::string> scopes;
  std::optional<int64_t> max_depth;  // nullopt: token.max_exchange_depth
};
class GrantLookups {
 public:
  virtual ~GrantLookups() = default;
  // In the grant's transaction; nullopt when the store has no such user.
  virtual Result<std::optional<CurrentUser>> FindUser(store::Tx& tx, std::string_view user_id) = 0;
  virtual Result<std::optional<ExchangePolicy>> FindDelegation(std::string_view client_id,
                                                               std::string_view audience) = 0;
  // The scopes the service's endpoints declare, each once, in order; nullopt when there is no
  // such service.
  virtual Result<std::optional<std::vector<std::string>>> ServiceScopes(
      std::string_view service_id) = 0;
  // After a legacy (light-oauth2 PBKDF2) secret verified: stores its keyed digest instead, only
  // while the stored digest is still `legacy_hash` (concurrent first uses write once).
  virtual Status UpgradeLegacySecret(std::string_view client_id, std::string_view legacy_hash,
                                     const Secret& secret) = 0;
};

// The password grant's check (RFC 6749 §4.3): the authenticator the client's authenticateClass
// selects, as the login page chooses it (oauth/code/authenticators.h), with its throttling, and
// a refusal (invalid_grant) wherever that sign-in would need a second factor, which a password
// grant cannot carry. The production adapter is the code module's
// (app/modules/password_logins.h). Thread-safe; Login blocks (slow hash, store, directory).
struct PasswordSignIn {
  AuthenticatedUser user;
  std::string user_source;  // TokenSubject::user_source
};
class PasswordLogins {
 public:
  virtual ~PasswordLogins() = default;
  virtual Result<PasswordSignIn> Login(const Client& c, std::string_view user_id,
                                       std::string_view password, std::string_view remote_ip) = 0;
};

// The token service's dependencies that grants use. All outlive the TokenService that holds
// them; each is thread-safe.
struct GrantDeps {
  const TokenSettings& settings;
  const TokenKeys& keys;
  store::Database& db;
  const TokenStores& stores;
  GrantLookups& lookups;
  UserAuthenticator& users;
  RevocationList& revoked;
  const Clock& clock;
  Random& random;
  // Set before serving when this process signs users in (the code module); null otherwise, and
  // the password grant then serves only clients of the built-in user store.
  PasswordLogins* password_logins = nullptr;
};

// What a grant handler works with during one call: the dependencies, the helpers every grant
// shares, and the guard on blocking work. Built per call; one thread.
class GrantContext {
 public:
  // `may_block`: the call runs on a pool. False on an I/O thread (the grant declared kNothing).
  // `dpop_jkt`: the thumbprint of the key of the request's valid DPoP proof (RFC 9449), empty
  // without one; access tokens minted in this call are then bound to it (cnf.jkt).
  GrantContext(const GrantDeps& deps, bool may_block, std::string dpop_jkt = {})
      : deps_(deps), may_block_(may_block), dpop_jkt_(std::move(dpop_jkt)) {}

  const TokenSettings& settings() const { return deps_.settings; }
  const TokenKeys& keys() const { return deps_.keys; }
  RevocationList& revoked() const { return deps_.revoked; }
  const Clock& clock() const { return deps_.clock; }
  Random& random() const { return deps_.random; }
  bool may_block() const { return may_block_; }
  // RFC 9449: the proof key's thumbprint, or empty when the request carried no DPoP proof.
  const std::string& dpop_jkt() const { return dpop_jkt_; }

  // The stores, for work the grant declared: `db` opens transactions (store::Database::Transact)
  // whose handle goes to the stores' methods. Internal (and an error log) on an I/O thread:
  // `what` names the access in that log.
  struct StoreAccess {
    store::Database& db;
    const TokenStores& stores;
    GrantLookups& lookups;
  };
  Result<StoreAccess> Store(std::string_view what) const;
  // The user authenticator (password checks: slow hash and store), likewise guarded.
  Result<UserAuthenticator*> Users(std::string_view what) const;
  // The password grant's check by the client's authenticator (GrantDeps::password_logins; null
  // when not wired), likewise guarded.
  Result<PasswordLogins*> Logins(std::string_view what) const;

  // `requested` (space-separated) when every item is in `allowed` (set membership, not
  // light-oauth2's substring match, reference §4.6); all of `allowed` when nothing is asked.
  Result<std::vector<std::string>> GrantedScope(std::string_view requested,
                                                const std::vector<std::string>& allowed) const;
  // The target of the request (RFC 8707 `resource`, else `audience`): one of our services.
  // Reads the service registry when one is named (guarded like Store).
  Result<TokenTarget> ResolveTarget(const TokenRequest& r) const;
  // `scope` narrowed to what the target defines (RFC 8707 §2.2). `requested`: the client asked
  // for scope explicitly (invalid_scope when none remains, else invalid_target).
  static Result<std::vector<std::string>> NarrowToTarget(const TokenTarget& t,
                                                         std::vector<std::string> scope,
                                                         bool requested);
  // The default audience: token.default_audience, else the issuer.
  std::string DefaultAudience() const;
  int64_t TtlFor(const Client& c) const;
  // Signs an access token for `subject` (RFC 9068, or light-4j's profile for that client).
  // `extra` is built by the grant itself (act, csrf, nonce, filtered request fields). With a
  // DPoP proof (dpop_jkt), the token carries cnf.jkt (RFC 9449 §6.1).
  Result<MintedToken> Mint(const Client& c, const TokenSubject& subject,
                           const std::vector<std::string>& scope, const std::string& audience,
                           int64_t ttl, const boost::json::object& extra) const;
  // The access token for the response: the JWT, or for external clients a reference that is
  // stored (in `tx` when given, so it commits with the grant's other writes; guarded).
  Result<std::string> Deliver(const Client& c, const MintedToken& m, store::Tx* tx = nullptr) const;

  // Binds every access token Mint signs in this call to a TLS client certificate: the claim
  // cnf {"x5t#S256": thumbprint} (RFC 8705 §3.1).
  void BindToCertificate(std::string x5t_s256) { x5t_s256_ = std::move(x5t_s256); }
  const std::string& certificate_thumbprint() const { return x5t_s256_; }

 private:
  Status Blocking(std::string_view what) const;

  const GrantDeps& deps_;
  bool may_block_;
  std::string dpop_jkt_;
  std::string x5t_s256_;  // empty: not bound
};

class Grant {
 public:
  // `parameters`: the request parameters the grant reads besides grant_type and the client's
  // credentials; must be static storage.
  Grant(std::string_view name, GrantTraits traits, std::span<const std::string_view> parameters)
      : type_{name, traits}, parameters_(parameters) {}
  virtual ~Grant() = default;
  Grant(const Grant&) = delete;
  Grant& operator=(const Grant&) = delete;

  // The grant_type value.
  std::string_view name() const { return type_.name; }
  const GrantTraits& traits() const { return type_.traits; }
  // Name and traits, as client registration reads them (grant_type.h).
  const GrantType& type() const { return type_; }
  std::span<const std::string_view> parameters() const { return parameters_; }

  // What Issue needs for this request (`r.client()` may be null: the request then fails before
  // Issue runs). Cheap and non-blocking: called on the I/O thread to choose where to run.
  virtual GrantNeeds Needs(const TokenRequest& r) const = 0;
  // Runs the grant for `c`, already authenticated and admitted by the traits' rules.
  virtual Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& r,
                                    const Client& c) const = 0;

 private:
  GrantType type_;
  std::span<const std::string_view> parameters_;
};

}  // namespace oauth
}  // namespace portcullis
