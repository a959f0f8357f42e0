#pragma once
// libportcullis-verify: access-token checks for resource servers and gateways.
//
// A resource server verifies the tokens Portcullis (or light-oauth2) issues on its own, with
// keys it pulls, and decides per request whether the caller may use the endpoint:
//
//   portcullis::verify::Options o;
//   o.jwks_url = "http://keys.internal:6886/oauth2/keys";
//   o.issuer = "https://auth.example.com";
//   o.registry_url = "http://registry.internal:6883";
//   o.service_id = "petstore";
//   o.client = {"http://auth.internal:6882/oauth2/token", "petstore-rs", "secret", "portal.r"};
//   auto verifier = portcullis::verify::Verifier::Create(std::move(o)).value();
//   verifier->WaitReady(std::chrono::seconds(5));
//   ...
//   auto d = verifier->Authorize({"GET", "/v1/pets/42", authorization, x_scope_token});
//   if (!d.allowed()) reply(d.http_status(), d.description);
//
// What it does (light-4j JwtVerifyHandler semantics, light-oauth2 reference §10.2):
// - Keys: a JWKS pulled from `jwks_url` (honouring Cache-Control max-age and ETag), and/or
//   light-oauth2 PEM certificates from `key_url`/{kid} (Basic client credentials), and/or
//   static keys. An unknown kid triggers one refetch; concurrent refetches are merged into one,
//   refetches are rate-limited (`refetch_interval`), and kids still unknown afterwards are kept
//   in a negative cache, so a flood of forged kids costs the key service at most one request
//   per interval.
// - Token: signature with an allowed algorithm, iss, aud (when configured), exp and nbf with
//   leeway. Both the light-4j profile ("scope" a JSON array, typ JWT) and RFC 9068 ("scope" a
//   space-separated string, typ at+jwt) are accepted; "scp" is read when "scope" is absent.
//   Signed payloads (header typ "payload+jwt", from POST /oauth2/signing) are never access
//   tokens and are refused. With `service_id` set, a token whose "aud" names only other
//   services is refused: "aud" must be absent, or hold `service_id`, `audience`, the issuer or
//   one of `shared_audiences` (a token requested with resource=<another service> is not for us).
// - Paths: refused (403, ERR10007) unless canonical: no ";" path parameters, no encoded "/",
//   no backslash, NUL or control character, no "." / ".." or empty segments, no double
//   encoding. Letter case follows `path_case`: by default a path that differs from a declared
//   endpoint only by case is refused (an upstream that ignores case would route it there).
// - Scope: the endpoint→scope table of `service_id`, the same data as
//   GET /oauth2/service/{serviceId}/endpoint, pulled from the registry (or given as JSON).
//   Endpoint ids are "<path>@<method>", e.g. "/v1/pets/{id}@get"; a {name} segment matches one
//   path segment and literal segments win over templates. An endpoint's scope may list several
//   space-separated scopes: the token needs at least one of them (light-4j: the operation's
//   scopes must intersect the token's).
// - Two tokens (reference §10.2): the user's token in Authorization, the calling service's
//   client-credentials token in X-Scope-Token. Both must be valid; the scope check is made on
//   the X-Scope-Token alone; the identity is the Authorization token's. When Authorization is
//   absent or not a Bearer token, the X-Scope-Token is the only token (light-4j getScopeToken).
// - Sender-constrained tokens: a token whose "cnf" claim holds "jkt" is DPoP-bound (RFC 9449):
//   it is accepted only with "Authorization: DPoP <token>" and one valid DPoP proof (typ
//   dpop+jwt, an alg of `dpop_algorithms`, a public "jwk" whose RFC 7638 thumbprint is the
//   token's cnf.jkt, a valid signature, "htm" = Request::method, "htu" = Request::htu after
//   RFC 3986 §6.2.2/§6.2.3 normalisation (scheme and host lower-cased, default port dropped,
//   percent-encodings normalised, dot segments removed; query and fragment ignored), "iat"
//   within `dpop_window` of now, "ath" = base64url(SHA-256(token)), and a "jti" not seen
//   before. Seen jtis are kept in a bounded in-memory cache PER VERIFIER OBJECT (so per
//   process): several replicas of a resource server each accept a proof once; the short
//   window bounds the rest. Server-provided nonces (DPoP-Nonce) are not used at the resource.
//   A token whose cnf holds "x5t#S256" is certificate-bound (RFC 8705 §3): the request must
//   carry the client certificate (Request::client_certificate) with that SHA-256 thumbprint.
//   A bound token sent as a plain Bearer token is refused (invalid_token, RFC 9449 §7.2); so is
//   an unbound token sent with the DPoP scheme (there is no binding to check the proof
//   against), and an X-Scope-Token that is DPoP-bound (it cannot come with a proof). Refusals
//   carry the challenge to send in Decision::www_authenticate: the DPoP scheme with algs and
//   error="invalid_dpop_proof" or "invalid_token" (RFC 9449 §7.1), or Bearer
//   error="invalid_token" for certificate binding. Tokens without "cnf" take the old path: one
//   extra claim lookup, no other work.
// - Revocation (optional): the deny-list of revoked jtis is pulled from `revoked_url` every
//   `revoked_refresh`; requests never query it remotely.
//
// Threads: Create() starts one background refresher thread that does every fetch. Authorize()
// and Verify() are const and thread-safe; once warm they take no lock and do no I/O (a few
// atomic loads and one signature check). The only request-path wait is the unknown-kid case:
// the request waits for the merged refetch for at most `unknown_kid_wait` (0: never waits; the
// refetch still happens in the background and the request fails fast).
//
// Transport: a minimal HTTP/1.1 client over POSIX sockets, http:// and https:// (OpenSSL,
// certificate and host name verified against the system trust store or `ca_file`).
//
// Stale data: when a fetch fails, the previous keys, endpoint table and deny-list stay in use
// and the fetch is retried after `retry_after_error`.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis::verify {

// Time, injectable for tests. Wall time drives exp/nbf/iat; steady time drives cache
// lifetimes, the refetch rate limit and the negative cache. Must be thread-safe.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual int64_t WallSeconds() const = 0;  // seconds since the Unix epoch
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
  static const TimeSource& System();
};

// How the upstream routes letter case in paths: the service's "pathCase" in the registry.
enum class PathCase {
  kExact,        // case-sensitive routing; paths that differ from an endpoint only by case: 403
  kInsensitive,  // the upstream ignores ASCII case: literals match ignoring it
};

// Client credentials of this resource server. Used to obtain a bearer token (RFC 6749 §4.4) for
// the registry and deny-list calls when `token_url` is set, and as HTTP Basic credentials for
// light-oauth2's GET /oauth2/key/{kid}.
struct ClientCredentials {
  std::string token_url;  // e.g. http://auth:6882/oauth2/token; empty: no token is requested
  std::string client_id;
  std::string client_secret;
  std::string scope = "portal.r";  // what the registry and /oauth2/revoked accept
};

struct Options {
  // --- Keys: at least one source. ---
  std::string jwks_url;   // e.g. http://keys:6886/oauth2/keys
  std::string key_url;    // light-oauth2 PEM, e.g. http://keys:6886/oauth2/key (kid appended)
  std::string jwks_json;  // static JWKS
  std::vector<std::pair<std::string, std::string>> pem_keys;  // static kid -> PEM cert/public key

  // --- Token checks. ---
  std::string issuer;    // empty: not checked (not recommended)
  std::string audience;  // empty: not checked; else "aud" (string or array) must contain it
  // Audiences that name no particular service, accepted by every service (with service_id
  // set, other audiences are refused). The issuer is always one: Portcullis' default "aud"
  // when token.audience is empty. light-oauth2's default is "urn:com.networknt".
  std::vector<std::string> shared_audiences = {"urn:com.networknt"};
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
  int64_t leeway_seconds = 60;  // for exp, nbf and iat (light-4j clockSkewInSeconds)

  // --- Scope check (Authorize). ---
  // When true, Authorize needs an endpoint table: registry_url + service_id, or endpoints_json.
  // When false, Authorize only authenticates (any valid token is allowed).
  bool verify_scope = true;
  std::string registry_url;  // base URL of the service registry, e.g. http://registry:6883
  // This service's id: the endpoint table to pull, and the "aud" tokens must name (see above).
  // Set it with endpoints_json too, to have "aud" checked.
  std::string service_id;
  std::string endpoints_json;  // offline table: [{"endpoint":"/v1/pets@get","scope":"pets.r"}]
  PathCase path_case = PathCase::kExact;  // must agree with the service's pathCase

  // --- Revocation deny-list (optional). ---
  std::string revoked_url;  // e.g. http://auth:6882/oauth2/revoked

  // --- Credentials for the registry, the deny-list and /oauth2/key/{kid}. ---
  ClientCredentials client;
  // Optional: supplies the bearer token (without "Bearer ") instead of client.token_url. Called
  // on the refresher thread only.
  std::function<std::string()> bearer_token;

  // --- Cache policy. ---
  std::chrono::seconds refetch_interval{10};  // unknown-kid refetches: at most one per interval
  std::chrono::seconds negative_ttl{60};      // a kid still unknown after a refetch
  std::chrono::milliseconds unknown_kid_wait{1000};
  std::chrono::seconds default_max_age{300};  // JWKS without Cache-Control max-age
  std::chrono::seconds min_max_age{10};       // clamps of the JWKS max-age
  std::chrono::seconds max_max_age{86400};
  std::chrono::seconds endpoints_refresh{60};
  std::chrono::seconds revoked_refresh{10};
  std::chrono::seconds retry_after_error{5};

  // --- HTTP. ---
  std::chrono::milliseconds http_timeout{3000};  // per fetch: connect, send and receive
  size_t max_response_bytes = 1024 * 1024;
  std::string ca_file;  // PEM CA bundle for https://; empty: the system trust store

  // --- Sender-constrained tokens (DPoP, RFC 9449; mTLS binding, RFC 8705). ---
  // Proof algorithms accepted (asymmetric only), advertised in the DPoP challenge's algs.
  std::vector<std::string> dpop_algorithms = {"ES256", "PS256", "EdDSA", "RS256"};
  std::chrono::seconds dpop_window{60};  // a proof's iat may differ from now by at most this
  size_t dpop_replay_capacity = 100000;  // jtis remembered; when all are live, proofs are refused
  // At most this many of them per DPoP key, so one key holder cannot fill the cache and have
  // everyone else's proofs refused; its own are refused instead. 0: a quarter of the capacity.
  size_t dpop_replay_per_key = 0;

  // Signed events (VerifyEvent): event jtis remembered, per Verifier, for replay detection.
  size_t event_replay_capacity = 100000;

  // Put the verified claims, serialised, in Identity::claims_json (costs a serialisation).
  bool keep_claims_json = false;
  // Called on the refresher thread with an event name and a detail (fetch errors, reloads).
  std::function<void(std::string_view event, std::string_view detail)> log;
  // Null: the system clocks. Must outlive the Verifier.
  const TimeSource* time = nullptr;
};

// Who a verified token speaks for.
struct Identity {
  std::string client_id;  // "client_id" (also "cid", "azp")
  std::string user_id;    // "user_id" (also "uid"); empty for client-credentials tokens
  std::string subject;    // "sub" (RFC 9068); may be empty (light-4j profile)
  std::string issuer;
  std::string jti;
  std::vector<std::string> scopes;  // "scope" as string or array, else "scp"
  int64_t expires_at = 0;
  std::string claims_json;  // only with Options::keep_claims_json
};

enum class Verdict {
  kAllowed,
  kUnauthorized,  // no token, bad or expired token, revoked: HTTP 401
  kForbidden,     // valid token without the endpoint's scope, or no such endpoint: HTTP 403
  kUnavailable,   // keys or endpoint table never loaded: HTTP 503
};

struct Decision {
  Verdict verdict = Verdict::kUnauthorized;
  // light-4j status code: ERR10000 invalid token, ERR10001 expired, ERR10002 missing,
  // ERR10003/ERR10004 invalid/expired X-Scope-Token, ERR10005 scope mismatch, ERR10007 no such
  // endpoint; empty when allowed.
  std::string code;
  // Short machine-readable reason for logs: "ok", "missing_token", "expired", "bad_signature",
  // "unknown_kid", "wrong_issuer", "revoked", "insufficient_scope", "unknown_endpoint",
  // "refused_path", "case_variant", "wrong_audience", "wrong_type", ...
  std::string reason;
  std::string description;  // safe to show to the caller
  // For refusals of sender-constrained tokens (reasons "dpop_*", "mtls_*", "unsupported_cnf"):
  // the WWW-Authenticate value to send, e.g. `DPoP algs="ES256 PS256 EdDSA RS256",
  // error="invalid_dpop_proof", error_description="..."`. Empty otherwise: send the usual
  // Bearer challenge (RFC 6750 §3).
  std::string www_authenticate;
  // On insufficient_scope: the endpoint's scope as registered (any one of them suffices).
  std::string required_scope;
  Identity identity;                     // the Authorization token's (or the only token's)
  std::optional<Identity> scope_caller;  // the X-Scope-Token's, when one was given

  bool allowed() const { return verdict == Verdict::kAllowed; }
  int http_status() const;
};

// One request to authorize. Views must stay valid during the call.
struct Request {
  std::string_view method;         // "GET"
  std::string_view path;           // "/v1/pets/42"; a query string is ignored
  std::string_view authorization;  // the Authorization header value, e.g. "Bearer eyJ..."
  std::string_view scope_token;    // the X-Scope-Token header value; empty when absent
  // For DPoP-bound tokens: the DPoP header value (empty when absent; pass several fields
  // joined with "," so that they are refused), and the request's URI as the client addressed
  // it, absolute: "https://api.example.com/v1/pets/42" (the query is ignored). A resource
  // server behind a proxy must build it from the public scheme and host, not its own.
  std::string_view dpop_proof;
  std::string_view htu;
  // For certificate-bound tokens: the TLS client certificate of the connection, as DER, PEM,
  // percent-encoded PEM (nginx $ssl_client_escaped_cert) or an RFC 9440 Client-Cert value
  // (":base64:"). Empty when none. Only pass a certificate the TLS layer (or a proxy you
  // trust) verified the client holds the key for.
  std::string_view client_certificate;
};

struct Stats {
  uint64_t jwks_fetches = 0;       // 200 answers
  uint64_t jwks_not_modified = 0;  // 304 answers
  uint64_t pem_fetches = 0;        // GET /oauth2/key/{kid} answered 200
  uint64_t refetches = 0;          // key fetches triggered by an unknown kid
  uint64_t refetch_limited = 0;    // unknown kids refused by the rate limit
  uint64_t negative_hits = 0;      // unknown kids answered from the negative cache
  uint64_t endpoint_fetches = 0;   // endpoint tables loaded
  uint64_t revoked_fetches = 0;    // deny-lists loaded
  uint64_t token_fetches = 0;      // client-credentials tokens obtained
  uint64_t fetch_errors = 0;       // failed fetches of any kind
};

// What a consumer of signed events accepts (VerifyEvent).
struct EventCheck {
  // Client ids whose events are accepted (the payload's "client_id", set by Portcullis after
  // authenticating the publisher). Required: an empty list accepts nothing.
  std::vector<std::string> signers;
  // Non-empty: the payload's "event_aud" (a string, or an array of strings) must name it.
  std::string audience;
  // Freshness: "iat" at most this old (and not in the future beyond the leeway). It is also the
  // replay window: a jti is remembered for max_age plus the leeway.
  std::chrono::seconds max_age{300};
};

struct EventResult {
  bool ok = false;
  // "ok", or why not: "wrong_type" (not a payload+jwt, e.g. an access token), "wrong_audience"
  // (aud is not urn:portcullis:signed-payload), "bad_signature", "unknown_kid", "wrong_issuer",
  // "expired", "unknown_signer", "wrong_event_audience", "stale", "issued_in_future",
  // "missing_claims", "replayed", "replay_cache_full", "no_signers", "no_issuer", ...
  std::string reason;
  std::string signer;  // "client_id"
  std::string jti;
  int64_t issued_at = 0;
  std::string claims_json;  // every claim, serialised (the event's data among them)
};

class Verifier {
 public:
  // Checks the options and starts the refresher thread, which begins fetching at once.
  // Fails (with a one-line message) on inconsistent options or a bad static key or table.
  static std::expected<std::unique_ptr<Verifier>, std::string> Create(Options options);

  ~Verifier();  // stops and joins the refresher thread
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // The full check. Thread-safe.
  Decision Authorize(const Request& request) const;
  Decision Authorize(std::string_view method, std::string_view path,
                     std::string_view authorization) const {
    return Authorize(Request{method, path, authorization, {}});
  }
  // Only the token (a bare JWT, or "Bearer <jwt>"): signature, claims, deny-list. Thread-safe.
  // Sender-constrained tokens are refused here (nothing to check the binding against): use
  // Authorize with the proof or certificate.
  Decision Verify(std::string_view token) const;

  // A signed event (a payload token from POST /oauth2/signing, header typ payload+jwt) for a
  // consumer: signature by the issuer's keys (an unknown kid refetches them as for tokens),
  // "iss" = Options::issuer (required), "aud" = urn:portcullis:signed-payload, "exp", the
  // signer, the event audience, freshness, and a jti not seen before by this Verifier (so per
  // process: replicas of a consumer each accept an event once; the window bounds the rest).
  // Access tokens are refused here, as signed payloads are refused by Authorize and Verify.
  // Thread-safe.
  EventResult VerifyEvent(std::string_view token, const EventCheck& check) const;

  // Blocks until the keys (and the endpoint table and deny-list, when configured) have been
  // loaded once, or `timeout` passes. True when ready.
  bool WaitReady(std::chrono::milliseconds timeout) const;
  // Wakes the refresher so it re-checks what is due now (e.g. after a manual TimeSource moved).
  void Wake();
  Stats stats() const;

 private:
  struct Impl;
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace portcullis::verify
