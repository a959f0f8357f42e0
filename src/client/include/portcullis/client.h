#pragma once
// libportcullis-client: the calling side of service-to-service security. A service gets, caches
// and renews the tokens it needs for the calls it makes, passes its caller's identity down a
// chain (RFC 8693 token exchange, or light-4j's two tokens), and proves possession of a DPoP key.
//
//   portcullis::client::Options o;
//   o.token_url = "https://auth.internal/oauth2/token";
//   o.client_id = "svc-a";
//   o.client_secret = "...";                       // client_secret_basic
//   auto client = portcullis::client::Client::Create(std::move(o)).value();
//   auto h = client->ServiceHeaders("svc-b", "orders.read", "GET", "https://b/orders/1");
//   if (!h) log(h.error().message); else for (auto& [k, v] : *h) request.set(k, v);
//
// Token source (RFC 6749 §4.4 client_credentials), per (audience, scope):
// - Client authentication: client_secret_basic (id and secret form-urlencoded before the Basic
//   encoding, RFC 6749 §2.3.1), private_key_jwt (RFC 7523: a fresh assertion per request, iss =
//   sub = client_id, aud = `assertion_audience` or the token URL, 60 s lifetime, random jti), or
//   tls_client_auth (RFC 8705: client_id in the body, the certificate in the TLS handshake).
// - Cache: one entry per (audience, normalised scope). A token is handed out while at least
//   `expiry_margin` of it is left.
// - Renewal: a background thread renews a token after `renew_at` of its lifetime, ± `renew_jitter`
//   of it (so a fleet started together spreads its renewals), but only if the token was used
//   since it was obtained: an audience nobody calls any more lapses instead of being renewed
//   forever. Callers never wait for a renewal while the old token is still good.
// - Single flight: concurrent callers that find no usable token share one request.
// - Back-off: a failed request (transport error, 5xx, 429, or a refusal) is not retried before
//   `backoff_initial` × 2^(failures-1) (capped at `backoff_max`, halved at random, at least a
//   Retry-After); the still-valid token keeps being served meanwhile. A caller without a usable
//   token during back-off gets the last error at once.
// - Deadline: a call waits at most its deadline (Options::deadline by default) for a token, then
//   fails with Error::Kind::kDeadline; the request carries on in the background and its token
//   serves later calls. Call() and Sign() keep the same deadline over their own HTTP requests:
//   each attempt (the DPoP nonce retry included) gets only the time left, and name resolution
//   is bounded too (see HttpRequest::timeout).
//
// Token exchange (RFC 8693): Exchange(incoming, audience, scope) trades the caller's access token
// for a narrowed one toward `audience` (Portcullis enforces the delegation policy and records the
// chain in `act`). Cached by (SHA-256 of the incoming token, audience, scope) until it expires;
// single flight and back-off as above, no background renewal (the incoming token expires too).
// At most `max_exchange_entries` are kept (expired ones first, then the least recently used);
// the incoming token itself is kept only while its request is in flight. The client-credentials
// cache is not bounded: it holds one entry per (audience, scope) the service asks for.
//
// DPoP (RFC 9449): with `dpop_key_pem` set, every token request carries a proof (the tokens come
// back DPoP-bound), and the header helpers add a fresh proof per outbound request (htm, htu, ath,
// a random jti, iat; the nonce last seen for that origin). A token endpoint that answers
// use_dpop_nonce is retried once with its DPoP-Nonce. Call() does the same for a resource's
// 401 use_dpop_nonce (RFC 9449 §9); callers that send requests themselves record a resource's
// nonce with RememberDpopNonce and retry.
//
// Threads: every method is thread-safe. Create() starts one renewal thread and `fetch_threads`
// request threads (or uses Options::executor); the destructor stops and joins them (a request in
// progress ends within `http_timeout`). The built-in transport reuses idle keep-alive
// connections from a process-wide pool (per scheme, host, port and TLS settings; see README,
// "Connection reuse"). A warm GetToken() builds its cache key, takes one mutex
// and copies one shared_ptr: no I/O. A custom Executor must not run the task on the calling
// thread (the caller holds the cache's lock).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis::client {

using SteadyTime = std::chrono::steady_clock::time_point;

// Time, injectable for tests. Must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;       // drives lifetimes, renewal, back-off and deadlines
  virtual int64_t WallSeconds() const = 0;  // iat/exp of assertions and DPoP proofs
  // Waits on `cv` (with `lock` held on entry and on return; released while waiting) until
  // `done()` holds or Now() >= until. The library notifies `cv` whenever its state changes.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         SteadyTime until, const std::function<bool()>& done) const = 0;
  static const Clock& System();
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  // The longest the transport may take over this request, name resolution included: set by the
  // library to http_timeout for token requests, and to the caller's time left (at most
  // http_timeout) for Call and Sign. A custom Transport should honour it; 0: no limit given.
  std::chrono::milliseconds timeout{0};
  // Set by the library on its own token requests (client_credentials, token exchange) only:
  // sending one twice yields at most a second token, so a transport may resend it once when a
  // reused connection closes before any answer. Requests through Call never have it.
  bool replayable = false;
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
};

// Sends one HTTP request (to the token endpoint, the signing endpoint, or a callee for Call);
// fails with a one-line reason when there is no HTTP answer. Called on the request threads, and
// on the caller's thread for Sign and Call: it must return within the request's `timeout`.
using Transport = std::function<std::expected<HttpResponse, std::string>(const HttpRequest&)>;
// Runs a task (one token request) off the caller's thread; it must run every task it is given.
using Executor = std::function<void(std::function<void()>)>;

enum class AuthMethod { kClientSecretBasic, kPrivateKeyJwt, kTlsClientAuth };

struct Options {
  std::string token_url;  // e.g. https://auth.internal/oauth2/token
  std::string client_id;
  AuthMethod auth_method = AuthMethod::kClientSecretBasic;
  std::string client_secret;    // kClientSecretBasic
  std::string private_key_pem;  // kPrivateKeyJwt: PKCS#8 or traditional PEM (RSA, P-256, Ed25519)
  std::string key_id;           // kPrivateKeyJwt: the "kid" registered in the client's JWKS
  std::string assertion_alg;    // empty: RS256 for RSA, ES256 for P-256, EdDSA for Ed25519
  std::string assertion_audience;  // empty: token_url (Portcullis also takes its issuer)

  // TLS. The certificate and key are presented to the token endpoint (required for
  // kTlsClientAuth; with the other methods they bind tokens to the certificate, RFC 8705 §3).
  std::string tls_cert_file;  // PEM chain
  std::string tls_key_file;   // PEM private key
  std::string ca_file;        // PEM bundle to trust; empty: the system store

  // Signed events (Sign): Portcullis' POST /oauth2/signing. Empty: token_url with its last path
  // segment replaced by "signing" (".../oauth2/token" -> ".../oauth2/signing").
  std::string signing_url;

  std::string dpop_key_pem;  // non-empty: DPoP-bound tokens and a proof per request
  std::string dpop_alg;      // empty: as assertion_alg

  // Cache policy.
  double renew_at = 0.75;                  // renew after this fraction of the lifetime...
  double renew_jitter = 0.1;               // ...plus or minus up to this fraction of it, at random
  std::chrono::seconds expiry_margin{10};  // a token with less left is no longer handed out
  std::chrono::seconds default_lifetime{60};  // a token response without expires_in
  // The longest a call blocks its caller: GetToken/Exchange/the header helpers waiting for a
  // token, and Call/Sign end to end (token, request, DPoP nonce retry).
  std::chrono::milliseconds deadline{2000};
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{60000};
  size_t max_exchange_entries = 10000;

  // HTTP: the limit of one request (to the token endpoint in the background; Call and Sign
  // also stop at their deadline).
  std::chrono::milliseconds http_timeout{3000};
  size_t fetch_threads = 2;

  // Called with an event name and a detail (never a secret or a token): "token_error",
  // "exchange_error". Called with the client's lock held: it must not call the Client.
  std::function<void(std::string_view event, std::string_view detail)> log;

  // Injection for tests. Null/empty: the system clock, the built-in HTTP client, a pool of
  // `fetch_threads` threads, and a seeded PRNG. `clock` must outlive the Client; `random`
  // returns uniform values in [0, 1).
  const Clock* clock = nullptr;
  Transport transport;
  Executor executor;
  std::function<double()> random;
};

struct Token {
  std::string access_token;
  std::string token_type;  // "Bearer" or "DPoP"
  std::string scope;       // as granted (the answer's "scope", else the one asked for)
  SteadyTime expires_at;   // by the request's start time plus expires_in
  // "Bearer <token>" or "DPoP <token>".
  std::string AuthorizationValue() const { return token_type + " " + access_token; }
};
using TokenPtr = std::shared_ptr<const Token>;

struct Error {
  enum class Kind {
    kDeadline,     // no token within the call's deadline (the request carries on)
    kRefused,      // the token endpoint answered 4xx (error names the OAuth error)
    kUnavailable,  // transport error, 5xx or 429; or back-off after one
    kBadResponse,  // 200 without a usable token
    kInvalidArgument,
  };
  Kind kind = Kind::kUnavailable;
  int http_status = 0;  // the token endpoint's, when it answered
  std::string error;    // OAuth "error" when it sent one, e.g. "invalid_client"
  std::string message;  // one line, safe to log
};

template <typename T>
using Result = std::expected<T, Error>;

// One outbound request for Client::Call.
struct Outbound {
  std::string method = "GET";
  std::string url;       // http:// or https://
  std::string audience;  // the callee's service id (the token's audience)
  std::string scope;     // what the callee's endpoint requires
  // Non-empty: act for this caller (the Authorization value this service was called with, or
  // the bare token): Exchange(incoming, audience, scope). Empty: this service's own token,
  // GetToken(audience, scope).
  std::string incoming;
  Headers headers;  // extra fields (Content-Type, ...); Call sets Authorization and DPoP
  std::string body;
  // The whole call's limit (token, request, nonce retry). Empty: Options::deadline.
  std::optional<std::chrono::milliseconds> deadline;
};

struct Stats {
  uint64_t token_requests = 0;     // token requests started (a DPoP nonce retry is not another)
  uint64_t token_failures = 0;     // of which failed
  uint64_t renewals = 0;           // requests started by the renewal thread
  uint64_t exchange_requests = 0;  // token-exchange requests (also counted in token_requests)
  uint64_t cache_hits = 0;         // calls answered from the cache
  uint64_t deadline_exceeded = 0;
  uint64_t signed_events = 0;  // Sign() calls answered with a token
  // Requests sent again with a server's DPoP-Nonce after use_dpop_nonce (token endpoint, Call).
  uint64_t dpop_nonce_retries = 0;
};

class Client {
 public:
  // Checks the options (the key loads, the URL parses, the method has its credentials) and
  // starts the threads. Fails with a one-line message naming the option.
  static std::expected<std::unique_ptr<Client>, std::string> Create(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // This service's own token toward `audience` (empty: the server's default) with `scope`
  // (space-separated; order and repeats do not matter).
  Result<TokenPtr> GetToken(std::string_view audience, std::string_view scope);
  Result<TokenPtr> GetToken(std::string_view audience, std::string_view scope,
                            std::chrono::milliseconds deadline);

  // RFC 8693: `incoming` (a bare JWT or "Bearer <jwt>", the token this service was called with)
  // exchanged for a token toward `audience` with (at most) `scope`.
  Result<TokenPtr> Exchange(std::string_view incoming, std::string_view audience,
                            std::string_view scope);
  Result<TokenPtr> Exchange(std::string_view incoming, std::string_view audience,
                            std::string_view scope, std::chrono::milliseconds deadline);

  // Headers for one outbound request to `url` with `method`:
  // - ServiceHeaders: Authorization with this service's own token (plus DPoP when bound).
  // - DelegatedHeaders: Authorization with `incoming` exchanged for `audience` (plus DPoP).
  // - TwoTokenHeaders (light-4j): Authorization = `incoming_authorization` as received (the
  //   user's token), X-Scope-Token = "Bearer <this service's own token>". The scope token must
  //   be a bearer token (verifiers refuse a DPoP-bound X-Scope-Token), so this fails with
  //   kInvalidArgument on a DPoP client.
  Result<Headers> ServiceHeaders(std::string_view audience, std::string_view scope,
                                 std::string_view method, std::string_view url);
  Result<Headers> DelegatedHeaders(std::string_view incoming, std::string_view audience,
                                   std::string_view scope, std::string_view method,
                                   std::string_view url);
  Result<Headers> TwoTokenHeaders(std::string_view incoming_authorization,
                                  std::string_view audience, std::string_view scope);

  // A DPoP proof (RFC 9449 §4.2) for `token` (empty: no "ath") on `method` `url`. Fails with
  // kInvalidArgument without a DPoP key.
  Result<std::string> DpopProof(std::string_view method, std::string_view url,
                                std::string_view token);
  // Records the DPoP-Nonce a resource at `url`'s origin sent (RFC 9449 §9), for the next proofs.
  void RememberDpopNonce(std::string_view url, std::string_view nonce);

  // Sends `request` with its token attached: Authorization, plus a fresh DPoP proof (htm, htu,
  // ath) when the client is DPoP-bound. A resource that answers 401 with `WWW-Authenticate:
  // DPoP error="use_dpop_nonce"` and a DPoP-Nonce is asked once more with a proof carrying that
  // nonce (RFC 9449 §9); a DPoP-Nonce in any answer is kept for the next proofs to that origin.
  // Any HTTP status is returned as the response (a 403 is the callee's answer, not an error);
  // fails with the token's error when there is no token, with kDeadline when the call's
  // deadline (Outbound::deadline, else Options::deadline) passes first, and with kUnavailable
  // ("call: ...") when the callee gives no HTTP answer. Runs on the caller's thread through the
  // transport; the whole call, token included, stays within the deadline.
  Result<HttpResponse> Call(const Outbound& request);

  // Signed events: `payload_json` (a JSON object) signed by Portcullis (POST /oauth2/signing,
  // authenticated as the token requests are: Basic credentials, or a fresh private_key_jwt
  // assertion or the client_id (mTLS, the certificate in the handshake) in the JSON body)
  // as a payload token (JWS
  // header typ payload+jwt, aud urn:portcullis:signed-payload, iss, iat, exp = iat + `expires`,
  // a fresh jti, and client_id = this client, which Portcullis sets after authenticating us).
  // A non-empty `audience` is added as "event_aud" (the payload cannot set "aud"). Reserved
  // claims in the payload (iss, aud, exp, client_id, ...) are dropped by Portcullis. Consumers
  // check it with libportcullis-verify's Verifier::VerifyEvent. One request per call, on the
  // caller's thread, within `deadline` (empty: Options::deadline; kDeadline when it passes).
  Result<std::string> Sign(std::string_view payload_json, std::string_view audience = {},
                           std::chrono::seconds expires = std::chrono::seconds(300),
                           std::optional<std::chrono::milliseconds> deadline = std::nullopt);

  Stats stats() const;

 private:
  struct State;
  explicit Client(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace portcullis::client
