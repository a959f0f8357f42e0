#pragma once
// The token endpoint's logic (RFC 6749 §4, §5, §6; RFC 7636; RFC 7662; RFC 7009; RFC 8693;
// RFC 9068), independent of HTTP. Grant handlers are plug-ins behind one interface.
//
// Hot path: client_credentials for a client in the catalog, with a JWT access token, runs in
// memory: catalog lookup, keyed-digest secret check, scope check, claims, one signature. It
// touches no store and computes no slow hash, so the HTTP layer may call it on an I/O thread
// (see NeedsBlocking). Every other grant reads or writes the store and must run on a pool.

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/client/client.h"
#include "oauth/login/authenticator.h"
#include "oauth/token/client_auth.h"
#include "oauth/token/params.h"
#include "oauth/token/revocation_list.h"
#include "oauth/token/token_state_store.h"
#include "oauth/token/verified_cache.h"

namespace portcullis {
namespace store {
class Database;
class Tx;
}  // namespace store
namespace oauth {

class ClientCatalog;
class SecretHasher;

// What the token service needs from the key ring: signing with the current key and verifying
// our own tokens. Implemented over KeyManager in the composition root; faked in unit tests.
class TokenKeys {
 public:
  virtual ~TokenKeys() = default;
  // `typ` is the JOSE header typ: "at+jwt" for RFC 9068 tokens, "payload+jwt" for signed
  // payloads (kSignedPayloadTyp), "JWT" otherwise (light-4j profile).
  virtual Result<std::string> Sign(std::string_view payload_json, std::string_view typ) const = 0;
  // Verifies one of our access tokens: signature and exp/nbf/iat against every published key,
  // and a JOSE typ of an access token (at+jwt or JWT), so a signed payload (payload+jwt,
  // POST /oauth2/signing) never passes for one. Returns the claims.
  virtual Result<boost::json::object> Verify(std::string_view jwt) const = 0;
  // Changes whenever the set of keys changes; verification results are valid within one epoch.
  // Holding it keeps the epoch's identity from being reused.
  virtual std::shared_ptr<const void> Epoch() const { return nullptr; }
};

// Signed payloads (POST /oauth2/signing) are not access tokens: their own JOSE typ and default
// audience tell consumers and our own verifiers apart (team decision; README "Tokens").
inline constexpr std::string_view kSignedPayloadTyp = "payload+jwt";
inline constexpr std::string_view kSignedPayloadAudience = "urn:portcullis:signed-payload";

struct TokenSettings {
  std::string issuer;
  std::string token_endpoint;  // accepted as `aud` of private_key_jwt assertions
  std::string default_audience = "urn:com.networknt";
  int64_t access_token_ttl = 600;
  int64_t refresh_token_ttl = 90 * 86400;
  int64_t bootstrap_token_ttl = 86400;
  std::string bootstrap_client_id;
  std::string bootstrap_scope = "portal.w";
  int max_exchange_depth = 5;
  // Clock skew allowed on client assertions (RFC 7523 §3); the deny-list and the jti cache keep
  // entries for DenyListRetention(leeway_s) past exp.
  int64_t leeway_s = 60;
};

// The token endpoint's successful answer (RFC 6749 §5.1).
struct IssuedToken {
  std::string access_token;
  std::string token_type = "bearer";  // light-oauth2 spelling; RFC 6749 §7.1: case-insensitive
  int64_t expires_in = 0;
  std::string refresh_token;
  std::string scope;
  std::string remember;           // light-oauth2's Y/N, when known
  std::string issued_token_type;  // RFC 8693 only
  std::string ToJson() const;
};

class TokenService {
 public:
  // Borrows everything it is given; each must outlive the service. `db` opens the transactions
  // that the `stores` (codes, refresh and reference tokens, assertion jtis) write in.
  TokenService(TokenSettings settings, ClientCatalog& clients, const SecretHasher& secrets,
               const TokenKeys& keys, store::Database& db, TokenStores stores,
               UserAuthenticator& users, RevocationList& revoked, const Clock& clock,
               Random& random);

  // True when this request must run on a blocking pool (anything but a client_credentials
  // JWT for a known client).
  bool NeedsBlocking(const Params& params, std::optional<std::string_view> authorization) const;
  // True when authenticating the calling client needs the store or a slow hash (assertions,
  // legacy PBKDF2 secrets; with `external_blocks`, external clients, whose tokens are stored).
  bool ClientAuthBlocks(const Params& params, std::optional<std::string_view> authorization,
                        bool external_blocks) const;
  // True when it should run on the password-hashing pool.
  static bool NeedsHashing(const Params& params);

  // POST /oauth2/token. `remote_ip` is the client's address (may be empty): the password grant
  // is throttled per address and per account-and-address.
  Result<IssuedToken> Token(const Params& params, std::optional<std::string_view> authorization,
                            std::string_view remote_ip = {});

  // POST /oauth2/introspect (RFC 7662): the JSON body. The caller must authenticate.
  Result<std::string> Introspect(const Params& params,
                                 std::optional<std::string_view> authorization);
  // POST /oauth2/revoke (RFC 7009).
  Status Revoke(const Params& params, std::optional<std::string_view> authorization);
  // GET /oauth2/deref/{token} (light-oauth2 §6.2): the JWT behind a reference token.
  Result<std::string> Deref(std::string_view reference,
                            std::optional<std::string_view> authorization);
  // POST /oauth2/signing (light-oauth2 §6.3).
  Result<IssuedToken> SignPayload(std::string_view json_body,
                                  std::optional<std::string_view> authorization);

  // Authenticates a client from its presented credentials (secret, public, private_key_jwt).
  Result<std::shared_ptr<const Client>> AuthenticateClient(const PresentedCredentials& creds,
                                                           bool may_block);

  // Deletes expired codes, refresh tokens and reference tokens, and deny-list and jti-cache rows
  // past their retention (DenyListRetention).
  Status Purge();

  const TokenSettings& settings() const { return settings_; }

 private:
  struct Subject {
    std::string user_id;
    std::string user_type;
    std::string roles;
    bool is_user = false;
    std::string sub;  // overrides the default subject (token exchange keeps the original)
    // Where the user came from (refresh_tokens.user_source): "users" (the user store), "client"
    // (asserted by a trusted client), "" (unknown: rows from before the column).
    std::string user_source;
  };
  struct Minted {
    std::string jwt;
    std::string jti;
    int64_t exp = 0;
  };

  Result<IssuedToken> ClientCredentials(const Params& p, const Client& c, bool may_block);
  Result<IssuedToken> AuthorizationCode(const Params& p, const Client& c);
  Result<IssuedToken> RefreshToken(const Params& p, const Client& c);
  Result<IssuedToken> Password(const Params& p, const Client& c, std::string_view remote_ip);
  Result<IssuedToken> ClientAuthenticatedUser(const Params& p, const Client& c);
  Result<IssuedToken> BootstrapToken(const Params& p, const Client& c);
  Result<IssuedToken> TokenExchange(const Params& p, const Client& c);

  Result<std::vector<std::string>> GrantedScope(std::string_view requested,
                                                const std::vector<std::string>& allowed) const;
  // The token's audience, and when the request names a resource (RFC 8707 `resource`, or
  // `audience`), the scopes that service's endpoints declare. Blocking when one is named.
  struct Target {
    std::string audience;
    std::optional<std::vector<std::string>> scopes;  // nullopt: no resource named
  };
  Result<Target> ResolveTarget(const Params& p) const;
  // `scope` narrowed to what the target defines (RFC 8707 §2.2). `requested`: the client asked
  // for scope explicitly (invalid_scope when none remains, else invalid_target).
  static Result<std::vector<std::string>> NarrowToTarget(const Target& t,
                                                         std::vector<std::string> scope,
                                                         bool requested);
  static bool ScopeRequested(const Params& p) {
    return p.Value("scope").find_first_not_of(' ') != std::string_view::npos;
  }
  // AuthenticateClient for the RFC endpoints (token, introspection, revocation): an unknown
  // client is 401 invalid_client there (RFC 6749 §5.2), with light-oauth2's ERR12014 as code.
  Result<std::shared_ptr<const Client>> AuthenticateCaller(const PresentedCredentials& creds);
  Result<Minted> Mint(const Client& c, const Subject& subject,
                      const std::vector<std::string>& scope, const std::string& audience,
                      int64_t ttl, const boost::json::object& extra);
  // Access token for the response: the JWT, or a reference for external clients (stored).
  Result<std::string> Deliver(const Client& c, const Minted& m, store::Tx* tx = nullptr);
  // `scope` goes to the refresh token; the access token gets it narrowed to `target`.
  Result<IssuedToken> IssueForUser(const Client& c, const Subject& subject,
                                   const std::vector<std::string>& scope, const Params& p,
                                   const boost::json::object& extra);
  int64_t TtlFor(const Client& c) const;
  Status VerifyClientAssertion(const Client& c, std::string_view assertion);

  TokenSettings settings_;
  ClientCatalog& clients_;
  const SecretHasher& secrets_;
  const TokenKeys& keys_;
  store::Database& db_;
  TokenStores stores_;
  UserAuthenticator& users_;
  RevocationList& revoked_;
  const Clock& clock_;
  Random& random_;
  VerifiedTokenCache verified_;
};

}  // namespace oauth
}  // namespace portcullis
