#pragma once
// The token endpoint's logic (RFC 6749 §4, §5, §6; RFC 7636; RFC 7662; RFC 7009; RFC 8693;
// RFC 9068), independent of HTTP. Grant handlers are plug-ins behind one interface (grant.h),
// listed in one registry (grant_registry.h).
//
// A token request is parsed once (Prepare: credentials, grant, client from the catalog), then
// Needs says where it may run: kNothing on the I/O thread (Token with may_block=false), else on
// the store or hashing pool (may_block=true). Hot path: client_credentials for a client in the
// catalog, with a JWT access token, runs in memory: catalog lookup, keyed-digest secret check,
// scope check, claims, one signature.
//
// Ownership and thread-safety: TokenService borrows every dependency given to its constructor
// (they must outlive it) and is shared by all threads; every public member may be called
// concurrently. Members that may block say so; call them on a pool.

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "jose/alg.h"
#include "oauth/client/client.h"
#include "oauth/dpop/dpop_proof.h"
#include "oauth/login/authenticator.h"
#include "oauth/token/client_auth.h"
#include "oauth/token/grant.h"
#include "oauth/token/grant_registry.h"
#include "oauth/token/params.h"
#include "oauth/token/revocation_list.h"
#include "oauth/token/token_request.h"
#include "oauth/token/token_state_store.h"
#include "oauth/token/verified_cache.h"

namespace portcullis {
namespace store {
class Database;
class Tx;
}  // namespace store
namespace oauth {

class ClientCatalog;
class ClientJwksCache;
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
  // POST /oauth2/signing) never passes for one; an ID token (claim typ "ID", no client_id:
  // oauth/oidc/id_token.h) never does either. Returns the claims.
  virtual Result<boost::json::object> Verify(std::string_view jwt) const = 0;
  // Signs an OpenID Connect ID token (oauth/oidc/id_token.h) with the current key of `alg`
  // (JOSE typ JWT). Unavailable when the ring holds no current key of that algorithm.
  virtual Result<std::string> SignIdToken(std::string_view payload_json, jose::Alg alg) const {
    (void)payload_json;
    return Fail(Error::Unavailable("no ID-token key for " + std::string(jose::AlgName(alg))));
  }
  // The algorithm Sign uses now (keys.algorithm's current key); nullopt when unknown or there is
  // no current key. Profile fapi2 refuses to be issued RS256 tokens (FAPI 2.0 §5.4.1).
  virtual std::optional<jose::Alg> AccessTokenAlg() const { return std::nullopt; }
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
  // server.mtls_base_url (RFC 8705 §5): the token and PAR endpoints under it are accepted as
  // assertion `aud` (not from fapi2 clients) and as DPoP `htu`, as the ordinary URLs are.
  // Empty: no alias.
  std::string mtls_base_url;
  std::string default_audience = "urn:com.networknt";
  int64_t access_token_ttl = 600;
  int64_t refresh_token_ttl = 90 * 86400;
  int64_t bootstrap_token_ttl = 86400;
  // OpenID Connect ID tokens (token.id_token_ttl_s).
  int64_t id_token_ttl = 3600;
  std::string bootstrap_client_id;
  std::string bootstrap_scope = "portal.w";
  int max_exchange_depth = 5;
  // Clock skew allowed on client assertions (RFC 7523 §3); the deny-list and the jti cache keep
  // entries for DenyListRetention(leeway_s) past exp.
  int64_t leeway_s = 60;
  // DPoP proofs at the token endpoint (RFC 9449; config section `dpop`).
  dpop::Settings dpop;
  // code.second_factor_roles and code.second_factor_realms (realms canonical: "" for the
  // built-in user store): a grant carrying a sign-in without "otp" in amr is refused for such a
  // user at redemption and refresh (LacksRequiredSecondFactor, grants/user_tokens.h).
  std::vector<std::string> second_factor_roles;
  std::vector<std::string> second_factor_realms;
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
  std::string id_token;           // OpenID Connect Core §3.1.3.3, when openid was granted
  std::string ToJson() const;
};

// One introspection request (RFC 7662 §2.1), parsed once by the HTTP binding: the form, the
// caller's credentials as presented, and the caller's catalog snapshot, so neither the Basic
// header nor the catalog is read twice whatever thread the request then runs on.
// TokenService::PrepareIntrospection builds it. Owns its fields; immutable once prepared.
struct IntrospectionRequest {
  Params params;
  Result<PresentedCredentials> credentials;  // an error is reported in step 3
  std::shared_ptr<const Client> client;      // nullptr: unknown, or credentials unreadable
};

// A self_signed_tls_client_auth client with a jwksUri: authenticating it may fetch (blocking).
bool CertificateKeysBlock(const Client* c);

class TokenService {
 public:
  // Borrows everything it is given; each must outlive the service. `db` opens the transactions
  // that the `stores` (codes, refresh and reference tokens, assertion jtis) write in.
  // `grants`: the grants served (the registry must outlive the service). `lookups`: what grants
  // read from other domains (borrowed; nullptr: SqlGrantLookups over `db`, owned here).
  TokenService(TokenSettings settings, ClientCatalog& clients, const SecretHasher& secrets,
               const TokenKeys& keys, store::Database& db, TokenStores stores,
               UserAuthenticator& users, RevocationList& revoked, const Clock& clock,
               Random& random, GrantLookups& lookups,
               const GrantRegistry& grants = GrantRegistry::Default());

  // POST /oauth2/token, step 1, on the I/O thread: parses the request once and resolves its
  // grant (registry) and client (catalog). Never blocks. `remote_ip` is the client's address
  // (may be empty; borrowed, see TokenRequest): the password grant is throttled per address and
  // per account-and-address.
  TokenRequest Prepare(Params params, std::optional<std::string_view> authorization,
                       std::string_view remote_ip) const;
  // Step 2: what running it needs: the grant's declaration for this request, and what
  // authenticating its client needs (assertions: the jti cache in the store; legacy PBKDF2
  // secrets: a slow check and the upgrade's write). kNothing: run it on the I/O thread.
  GrantNeeds Needs(const TokenRequest& request) const;
  // Step 3: the token. `may_block` false on an I/O thread: then anything that would block
  // (store, slow hash) fails with Internal instead, so Needs must have said kNothing.
  Result<IssuedToken> Token(const TokenRequest& request, bool may_block);

  // POST /oauth2/introspect (RFC 7662), in the token endpoint's three steps. Step 1, on the I/O
  // thread: reads the caller's credentials once (Authorization header, else the form) with the
  // request's TLS client certificate (`cert`, may be null; RFC 8705) and looks the caller up in
  // the catalog once. Never blocks.
  IntrospectionRequest PrepareIntrospection(Params params,
                                            std::optional<std::string_view> authorization,
                                            std::shared_ptr<const ClientCertificate> cert) const;
  // Step 2: kNothing when the answer needs neither the store nor a slow hash (a JWT, from a
  // caller with a keyed-digest secret or a certificate, or a request refused before either);
  // else kStore (client assertions: the jti cache; legacy PBKDF2 secrets: the slow check and
  // its upgrade; reference and refresh tokens: looked up in the store).
  GrantNeeds IntrospectionNeeds(const IntrospectionRequest& request) const;
  // Step 3: the JSON body. The caller must authenticate. `may_block` false on an I/O thread:
  // then anything that would block fails with Internal instead, so step 2 must have said
  // kNothing.
  Result<std::string> Introspect(const IntrospectionRequest& request, bool may_block);
  // The claims of an access token presented as a bearer token (OpenID Connect userinfo,
  // RFC 6750): a JWT that RingKeys verifies (so never an ID token or a signed payload), with our
  // issuer and not deny-listed, or a reference token (external clients) resolved through the
  // store. Blocking (references): call it on the store pool. Fails with ERR10000 (or ERR10001
  // for an expired JWT): 401 invalid_token.
  Result<boost::json::object> BearerClaims(std::string_view token);

  // POST /oauth2/revoke (RFC 7009).
  Status Revoke(const Params& params, std::optional<std::string_view> authorization,
                std::shared_ptr<const ClientCertificate> cert = nullptr);
  // GET /oauth2/deref/{token} (light-oauth2 §6.2): the JWT behind a reference token.
  Result<std::string> Deref(std::string_view reference,
                            std::optional<std::string_view> authorization);
  // POST /oauth2/signing (light-oauth2 §6.3). The client authenticates with Basic credentials,
  // or, without an Authorization header, with private_key_jwt (client_assertion_type,
  // client_assertion and optionally client_id in the JSON body) or its TLS certificate `cert`
  // (RFC 8705; client_id in the body). A public client cannot sign.
  Result<IssuedToken> SignPayload(std::string_view json_body,
                                  std::optional<std::string_view> authorization,
                                  std::shared_ptr<const ClientCertificate> cert = nullptr);

  // Authenticates a client from its presented credentials (secret, public, private_key_jwt).
  // A legacy PBKDF2 secret that matches is upgraded to a keyed digest on the way (blocking:
  // only with `may_block`, which such a check needs anyway).
  Result<std::shared_ptr<const Client>> AuthenticateClient(const PresentedCredentials& creds,
                                                           bool may_block);
  // The client-authentication preamble of the form endpoints beside the token endpoint (PAR,
  // device authorization, introspection, revocation): reads the credentials (Authorization
  // header, else the form), attaches the request's TLS client certificate (`cert`, may be null;
  // RFC 8705 client authentication), and authenticates as the token endpoint does; an unknown
  // client is 401 invalid_client (RFC 6749 §5.2, light-oauth2's ERR12014 in `code`). Blocking.
  Result<std::shared_ptr<const Client>> AuthenticateFormClient(
      const Params& params, std::optional<std::string_view> authorization,
      std::shared_ptr<const ClientCertificate> cert);

  // Deletes expired codes, refresh tokens and reference tokens, and deny-list and jti-cache rows
  // past their retention (DenyListRetention).
  Status Purge();

  const TokenSettings& settings() const { return settings_; }
  // The DPoP proof checks (RFC 9449): the HTTP binding reads its nonce (DPoP-Nonce header).
  const dpop::ProofValidator& dpop() const { return dpop_; }
  // One request's DPoP proofs (every DPoP header field; at least one) for a POST to `uri` (the
  // token or PAR endpoint's URL) by client `c`: checked (RFC 9449 §4.3, nonce rules included)
  // and its jti remembered in the shared store, so a replay fails on every instance. Returns the
  // key's thumbprint. A fapi2 client's proof must be signed with PS256, ES256 or EdDSA (FAPI 2.0
  // §5.4.1). Errors: 400 invalid_dpop_proof, or use_dpop_nonce. Blocking.
  Result<std::string> CheckDpopProof(std::span<const std::string> proofs, std::string_view uri,
                                     const Client& c);

  // FAPI 2.0 §5.4.1 at the resource (userinfo, /oauth2/verify): the DPoP proof algorithms
  // accepted with an access token issued to `client_id`: `allowed` (the server-wide list) less
  // everything but PS256, ES256 and EdDSA when that client has profile fapi2. Never blocks (the
  // catalog snapshot).
  std::vector<jose::Alg> ProofAlgorithmsFor(std::string_view client_id,
                                            const std::vector<jose::Alg>& allowed) const;

  // The key sets of private_key_jwt clients registered with a jwksUri (client_jwks.h). Borrowed;
  // must outlive the service; set before serving. Without one, such clients fail to
  // authenticate (invalid_client).
  void SetClientJwksCache(ClientJwksCache* cache) { jwks_cache_ = cache; }
  // The password grant's check by the client's authenticator (grant.h); borrowed, set before
  // serving. Without it the password grant serves only clients of the built-in user store.
  void SetPasswordLogins(PasswordLogins* logins) { grant_deps_.password_logins = logins; }

 private:
  // RFC 9449 §5 at the token endpoint: the thumbprint of the request's valid DPoP proof (its
  // jti remembered in the shared store, so a replay fails on every instance), or empty when
  // there is none and the client does not require one. Blocking with a proof.
  Result<std::string> CheckDpop(const TokenRequest& r, const Client& c, bool may_block);
  // Profile fapi2 at the token endpoint (README "FAPI 2.0 profile"): the token will be bound (a
  // DPoP proof or a client certificate), and not signed with RS256.
  Status CheckFapi2Token(const Client& c, bool dpop_bound, bool has_certificate) const;
  // AuthenticateClient for the RFC endpoints (token, introspection, revocation): an unknown
  // client is 401 invalid_client there (RFC 6749 §5.2), with light-oauth2's ERR12014 as code.
  Result<std::shared_ptr<const Client>> AuthenticateCaller(const PresentedCredentials& creds);
  // Both, for a client already looked up (`client`: nullptr when unknown).
  Result<std::shared_ptr<const Client>> AuthenticateFound(const PresentedCredentials& creds,
                                                          std::shared_ptr<const Client> client,
                                                          bool may_block);
  Result<std::shared_ptr<const Client>> AuthenticateCaller(const PresentedCredentials& creds,
                                                           std::shared_ptr<const Client> client,
                                                           bool may_block);
  // After a legacy PBKDF2 secret verified: stores its keyed digest instead (light-oauth2
  // imports). Blocking. A failure is logged, not returned: the client did authenticate.
  void UpgradeSecretOnUse(const Client& c, const Secret& secret);
  Status VerifyClientAssertion(const Client& c, std::string_view assertion);
  // RFC 8705 §2.2: the certificate's key is one of the client's keys, inline or from its
  // jwksUri (jwks_cache_: one refetch when none matches, rate-limited). Blocking with a jwksUri.
  Status CheckSelfSignedCertificate(const Client& c, const ClientCertificate& cert, bool may_block);

  ClientJwksCache* jwks_cache_ = nullptr;  // borrowed; see SetClientJwksCache

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
  const GrantRegistry& grants_;
  GrantLookups& lookups_;
  GrantDeps grant_deps_;
  dpop::ProofValidator dpop_;
};

}  // namespace oauth
}  // namespace portcullis
