#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include "http/client_ip.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>

namespace portcullis::app {
namespace {

using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

std::optional<std::string> ParseInt(const std::string& v, int64_t min, int64_t max, int64_t* out) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return "expected an integer";
  if (n < min || n > max) {
    return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  *out = n;
  return std::nullopt;
}

template <typename F>
Setter IntSetter(int64_t min, int64_t max, F field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    int64_t n;
    if (auto e = ParseInt(v, min, max, &n)) return e;
    field(c) = static_cast<std::remove_reference_t<decltype(field(c))>>(n);
    return std::nullopt;
  };
}

template <typename F>
Setter StringSetter(F field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    field(c) = v;
    return std::nullopt;
  };
}

template <typename F>
Setter EnumSetter(std::vector<std::string> allowed, F field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return "expected one of: " + list;
    }
    field(c) = v;
    return std::nullopt;
  };
}

template <typename F>
Setter BoolSetter(F field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    if (v == "true" || v == "yes" || v == "on" || v == "1") {
      field(c) = true;
    } else if (v == "false" || v == "no" || v == "off" || v == "0") {
      field(c) = false;
    } else {
      return "expected true or false";
    }
    return std::nullopt;
  };
}

std::optional<std::string> SetListen(Config& c, const std::string& v) {
  size_t colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT";
  std::string host = v.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int64_t port;
  if (ParseInt(v.substr(colon + 1), 0, 65535, &port)) return "expected HOST:PORT with PORT 0-65535";
  c.server.host = host;
  c.server.port = static_cast<uint16_t>(port);
  return std::nullopt;
}

std::optional<std::string> SetServices(Config& c, const std::string& v) {
  std::vector<std::string> out;
  if (v == "all") {
    for (const auto& s : AllServices()) out.emplace_back(s.name);
  } else {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string name =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto known = std::find_if(AllServices().begin(), AllServices().end(),
                                [&](const ServiceInfo& s) { return s.name == name; });
      if (known == AllServices().end()) {
        return "unknown service '" + name +
               "'; expected all or a comma list of code, token, client, user, service, key, "
               "refresh-token, provider, console";
      }
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  c.server.services = std::move(out);
  return std::nullopt;
}

// A comma list (or a YAML list); empty entries are dropped.
std::vector<std::string> CommaList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string id =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!id.empty() && id.front() == ' ') id.erase(0, 1);
    while (!id.empty() && id.back() == ' ') id.pop_back();
    if (!id.empty()) out.push_back(std::move(id));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> SetSecondFactorClients(Config& c, const std::string& v) {
  c.code.second_factor_clients = CommaList(v);
  return std::nullopt;
}

// Roles are space-separated words in a user's roles, so a listed role cannot hold a space.
std::optional<std::string> SetSecondFactorRoles(Config& c, const std::string& v) {
  auto roles = CommaList(v);
  for (const auto& r : roles) {
    if (r.find_first_of(" \t") != std::string::npos) {
      return "role '" + r + "' contains a space; list roles with commas (or as a YAML list)";
    }
  }
  c.code.second_factor_roles = std::move(roles);
  return std::nullopt;
}

// Authenticator names; the code module checks them against the configured authenticators.
std::optional<std::string> SetSecondFactorRealms(Config& c, const std::string& v) {
  c.code.second_factor_realms = CommaList(v);
  return std::nullopt;
}

std::optional<std::string> SetProviderId(Config& c, const std::string& v) {
  if (!v.empty() && (v.size() != 2 || !std::isdigit(static_cast<unsigned char>(v[0])) ||
                     !std::isdigit(static_cast<unsigned char>(v[1])))) {
    return "expected two digits, e.g. 05 (or empty)";
  }
  c.keys.provider_id = v;
  return std::nullopt;
}

std::optional<std::string> SetStoreUrl(Config& c, const std::string& v) {
  if (!v.starts_with("sqlite:") && !v.starts_with("postgres://") &&
      !v.starts_with("postgresql://")) {
    return "expected sqlite:PATH or postgres://...";
  }
  c.store.url = v;
  return std::nullopt;
}

std::optional<std::string> SetTrustedProxies(Config& c, const std::string& v) {
  auto ranges = http::AddressRanges::Parse(v);
  if (!ranges) return ranges.error().detail;
  c.server.trusted_proxies = v;
  return std::nullopt;
}

struct Entry {
  Setting setting;
  Setter set;
};

#define FIELD(expr) \
  [](Config & c) -> auto& { return c.expr; }

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {{"server", "listen", "127.0.0.1:6880",
        "HOST:PORT to listen on. Port 0 picks a free port (see port_file). When one service runs "
        "alone and this is not set, it takes its light-oauth2 port (code 6881, token 6882, "
        "service 6883, client 6884, user 6885, key 6886, refresh-token 6887, provider 6889)."},
       SetListen},
      {{"server", "services", "all",
        "Services this process serves: all, or a comma list of code, token, client, user, "
        "service, key, refresh-token, provider, console (the admin console at /console; it "
        "needs all the others in the same process, else the process refuses to start)."},
       SetServices},
      {{"server", "port_file", "", "Write the bound port to this file once listening."},
       StringSetter(FIELD(server.port_file))},
      {{"server", "issuer", "",
        "Issuer URL (the `iss` of tokens), the address browsers and clients use. Empty: "
        "http://HOST:PORT (https with TLS), with 127.0.0.1 (or [::1]) for a wildcard HOST such as "
        "0.0.0.0: set it when callers are not on this machine."},
       StringSetter(FIELD(server.issuer))},
      {{"server", "io_threads", "0", "I/O threads. 0: one per core."},
       IntSetter(0, 256, FIELD(server.io_threads))},
      {{"server", "store_threads", "8", "Threads for blocking store calls."},
       IntSetter(1, 256, FIELD(server.store_threads))},
      {{"server", "hash_threads", "2", "Threads for password hashing (argon2id)."},
       IntSetter(1, 64, FIELD(server.hash_threads))},
      {{"server", "header_limit", "8192", "Largest request header block, in bytes (else 431)."},
       IntSetter(1024, 1 << 20, FIELD(server.header_limit))},
      {{"server", "body_limit", "65536", "Largest request body, in bytes (else 413)."},
       IntSetter(1024, 64 << 20, FIELD(server.body_limit))},
      {{"server", "read_timeout_ms", "10000",
        "Time a request may take to arrive, from its first byte."},
       IntSetter(100, 3600000, FIELD(server.read_timeout_ms))},
      {{"server", "idle_timeout_ms", "60000", "Time a keep-alive connection may sit idle."},
       IntSetter(100, 3600000, FIELD(server.idle_timeout_ms))},
      {{"server", "max_connections", "10000", "Open connections beyond this are closed at once."},
       IntSetter(1, 1000000, FIELD(server.max_connections))},
      {{"server", "max_connections_per_ip", "256",
        "Open connections from one address (IPv6: one /64) beyond this are closed at once "
        "(trusted_proxies are exempt)."},
       IntSetter(1, 1000000, FIELD(server.max_connections_per_ip))},
      {{"server", "max_headers", "100", "Most header fields in a request (else 400)."},
       IntSetter(10, 10000, FIELD(server.max_headers))},
      {{"server", "max_params", "100",
        "Most query parameters, and most form-body parameters, in a request (else 400)."},
       IntSetter(10, 1000, FIELD(server.max_params))},
      {{"server", "trusted_proxies", "",
        "Load balancers / reverse proxies whose client_ip_header is believed: comma list of "
        "addresses and CIDR ranges, IPv4 and IPv6 (e.g. 10.0.0.0/8, fd00::/8). The client "
        "address (throttling, logs) is then the right-most address in that header that is not "
        "a trusted proxy. Empty: the connection's address is the client's."},
       SetTrustedProxies},
      {{"server", "client_ip_header", "x-forwarded-for",
        "Header the trusted proxies set: x-forwarded-for, or forwarded (RFC 7239). Only one is "
        "read, so a client cannot slip its own address past a proxy that sets the other."},
       EnumSetter({"x-forwarded-for", "forwarded"}, FIELD(server.client_ip_header))},
      {{"server", "shutdown_grace_ms", "5000",
        "On SIGTERM/SIGINT, time for requests in flight to finish."},
       IntSetter(0, 600000, FIELD(server.shutdown_grace_ms))},
      {{"server", "tls_cert", "",
        "PEM certificate chain; TLS is on when tls_cert and tls_key are set."},
       StringSetter(FIELD(server.tls_cert))},
      {{"server", "tls_key", "", "PEM private key for tls_cert."},
       StringSetter(FIELD(server.tls_key))},
      {{"server", "tls_client_certs", "false",
        "Mutual TLS (RFC 8705): the TLS listener asks clients for a certificate (optional; "
        "self-signed ones are accepted for self_signed_tls_client_auth)."},
       BoolSetter(FIELD(server.tls_client_certs))},
      {{"server", "tls_client_ca", "",
        "PEM CA certificates that client certificates must chain to for tls_client_auth."},
       StringSetter(FIELD(server.tls_client_ca))},
      {{"server", "client_cert_header", "",
        "Behind a TLS-terminating proxy: the header with the client certificate as URL-encoded "
        "PEM (nginx $ssl_client_escaped_cert), believed from trusted_proxies only."},
       StringSetter(FIELD(server.client_cert_header))},
      {{"server", "client_cert_verify_header", "",
        "Optional: the header with the proxy's verification result (nginx $ssl_client_verify); "
        "the certificate counts as CA-verified only when it says SUCCESS."},
       StringSetter(FIELD(server.client_cert_verify_header))},
      {{"server", "mtls_base_url", "",
        "Base URL (https, no trailing slash) of a separate mTLS front, such as nginx on its own "
        "host or port asking for client certificates: discovery then publishes "
        "mtls_endpoint_aliases (RFC 8705 section 5) under it; the token, PAR and userinfo "
        "endpoints under it are accepted as DPoP htu, the first two as private_key_jwt aud. "
        "Needs tls_client_certs or "
        "client_cert_header. Empty: none; clients use the ordinary endpoints."},
       StringSetter(FIELD(server.mtls_base_url))},
      {{"store", "url", "sqlite:data/portcullis.db",
        "sqlite:PATH (the embedded default) or a postgres:// URL (libpq). A relative PATH "
        "written in the config file is relative to that file's directory; from the "
        "environment, a flag or this default, relative to the working directory."},
       SetStoreUrl},
      {{"store", "migrate_on_start", "true",
        "Apply pending schema migrations when serving starts."},
       BoolSetter(FIELD(store.migrate_on_start))},
      {{"store", "pool_size", "8", "PostgreSQL connections per process."},
       IntSetter(1, 1000, FIELD(store.pool_size))},
      {{"store", "busy_timeout_ms", "5000", "SQLite busy timeout."},
       IntSetter(0, 600000, FIELD(store.busy_timeout_ms))},
      {{"store", "connect_timeout_s", "5", "PostgreSQL connect timeout."},
       IntSetter(1, 600, FIELD(store.connect_timeout_s))},
      {{"store", "purge_interval_s", "60",
        "How often the instance holding the scheduler lease deletes expired rows (codes, tokens, "
        "sessions; deny-list and assertion jtis only once past exp plus the leeway)."},
       IntSetter(1, 86400, FIELD(store.purge_interval_s))},
      {{"store", "full_reload_s", "60",
        "How often each process reloads its caches (clients, services, keys, deny-list) in full. "
        "Changes reach running processes at once through store notifications; this reload is "
        "the backstop for a notification missed (a reconnect) or a change log pruned."},
       IntSetter(5, 86400, FIELD(store.full_reload_s))},
      {{"log", "level", "info", "debug, info, warn, error or off."},
       EnumSetter({"debug", "info", "warn", "error", "off"}, FIELD(log.level))},
      {{"log", "format", "text", "text (key=value) or json (one object per line)."},
       EnumSetter({"text", "json"}, FIELD(log.format))},
      {{"log", "access", "true", "One log line per request."}, BoolSetter(FIELD(log.access))},
      {{"keys", "algorithm", "RS256",
        "Signing algorithm for new keys: RS256, PS256, ES256, EdDSA. ID tokens also get an RS256 "
        "key when this is another algorithm (OpenID Connect Core §15.1)."},
       EnumSetter({"RS256", "PS256", "ES256", "EdDSA"}, FIELD(keys.algorithm))},
      {{"keys", "master_key", "",
        "32-byte key (base64 or hex) that encrypts private keys at rest. Prefer master_key_file. "
        "Empty with an empty master_key_file: a key file is created beside the SQLite database.",
        true},
       StringSetter(FIELD(keys.master_key))},
      {{"keys", "master_key_file", "", "File holding the master key."},
       StringSetter(FIELD(keys.master_key_file))},
      {{"keys", "provider_id", "",
        "Two-digit provider id prefixed to every kid, for federation (light-oauth2 §10.3)."},
       SetProviderId},
      {{"keys", "publish_ahead_s", "360",
        "A new key is in the JWKS this long before it signs (JWKS max-age plus leeway)."},
       IntSetter(0, 30 * 86400, FIELD(keys.publish_ahead_s))},
      {{"keys", "rotation_interval_s", "2592000", "Rotate the signing key this often. 0: never."},
       IntSetter(0, 3650LL * 86400, FIELD(keys.rotation_interval_s))},
      {{"keys", "jwks_max_age_s", "300", "Cache-Control max-age of the JWKS."},
       IntSetter(0, 86400, FIELD(keys.jwks_max_age_s))},
      {{"token", "access_token_ttl_s", "600", "Default access-token lifetime."},
       IntSetter(10, 86400, FIELD(token.access_token_ttl_s))},
      {{"token", "refresh_token_ttl_s", "7776000", "Refresh-token lifetime."},
       IntSetter(60, 3650LL * 86400, FIELD(token.refresh_token_ttl_s))},
      {{"token", "code_ttl_s", "300", "Authorization-code lifetime (60-600)."},
       IntSetter(60, 600, FIELD(token.code_ttl_s))},
      {{"token", "bootstrap_token_ttl_s", "86400",
        "Lifetime of bootstrap_token grants (light-oauth2 used 10 years; bounded here)."},
       IntSetter(60, 365LL * 86400, FIELD(token.bootstrap_token_ttl_s))},
      {{"token", "id_token_ttl_s", "3600",
        "OpenID Connect ID-token lifetime (exp - iat; 60-86400)."},
       IntSetter(60, 86400, FIELD(token.id_token_ttl_s))},
      {{"token", "leeway_s", "60",
        "Clock skew allowed when this server checks tokens (exp, nbf, iat): introspection, "
        "/oauth2/verify, admin calls, token exchange, client assertions. Revocations and used "
        "assertion ids are kept this long past exp (at least 60 s)."},
       IntSetter(0, 300, FIELD(token.leeway_s))},
      {{"token", "audience", "", "Default `aud` when a request names no resource."},
       StringSetter(FIELD(token.audience))},
      {{"dpop", "iat_window_s", "60",
        "DPoP proofs (RFC 9449) are accepted when their iat is at most this far from now, either "
        "way; their jti is remembered (shared store) this long past iat."},
       IntSetter(5, 600, FIELD(dpop.iat_window_s))},
      {{"dpop", "require_nonce", "false",
        "Proofs must carry a server nonce (RFC 9449 §8): others get 400 use_dpop_nonce and a "
        "DPoP-Nonce header. Nonces are stateless (HMAC under the master key)."},
       BoolSetter(FIELD(dpop.require_nonce))},
      {{"dpop", "nonce_lifetime_s", "300",
        "A DPoP nonce is good for the slot of this length it was made in and the next one."},
       IntSetter(10, 86400, FIELD(dpop.nonce_lifetime_s))},
      {{"verify", "default_service", "",
        "Service checked by GET /oauth2/verify when the gateway sends no X-Service-Id. Empty: "
        "such requests are refused (403 ERR11017)."},
       StringSetter(FIELD(verify.default_service))},
      {{"verify", "dpop_window_s", "60",
        "GET /oauth2/verify: a DPoP proof's iat may be at most this far from now (5-300); "
        "proof jtis are remembered this long, in memory, per process."},
       IntSetter(5, 300, FIELD(verify.dpop_window_s))},
      {{"verify", "client_cert_header", "client-cert",
        "GET /oauth2/verify: the header in which the gateway passes the client certificate it "
        "verified (nginx $ssl_client_escaped_cert, or RFC 9440 Client-Cert), for "
        "certificate-bound tokens. Believed only from server.trusted_proxies. Empty: "
        "certificate-bound tokens are refused."},
       StringSetter(FIELD(verify.client_cert_header))},
      {{"jwks_uri", "allow_http_loopback", "false",
        "true: private_key_jwt and self_signed_tls_client_auth clients may register (and be "
        "fetched from) a plain-http jwksUri "
        "on a loopback host (127.0.0.0/8, [::1], localhost), for tests and development. Off: "
        "https only."},
       BoolSetter(FIELD(jwks_uri.allow_http_loopback))},
      {{"jwks_uri", "timeout_ms", "3000",
        "Deadline of one jwksUri fetch (resolve, connect, TLS, send, receive)."},
       IntSetter(100, 30000, FIELD(jwks_uri.timeout_ms))},
      {{"jwks_uri", "max_bytes", "65536", "Largest JWKS body accepted from a jwksUri."},
       IntSetter(1024, 1048576, FIELD(jwks_uri.max_bytes))},
      {{"jwks_uri", "default_cache_s", "300",
        "How long a fetched client JWKS is used when the response has neither Cache-Control "
        "max-age nor Expires."},
       IntSetter(0, 7 * 86400, FIELD(jwks_uri.default_cache_s))},
      {{"jwks_uri", "min_cache_s", "60",
        "Shortest caching of a client JWKS, whatever its cache headers say (no-store too)."},
       IntSetter(0, 86400, FIELD(jwks_uri.min_cache_s))},
      {{"jwks_uri", "max_cache_s", "86400", "Longest caching of a client JWKS."},
       IntSetter(1, 30 * 86400, FIELD(jwks_uri.max_cache_s))},
      {{"jwks_uri", "refetch_interval_s", "60",
        "An assertion with an unknown kid (or a self-signed client certificate whose key is not "
        "in the set) refetches the client's JWKS at most once per this interval per client; a "
        "failed fetch is not retried sooner either."},
       IntSetter(1, 86400, FIELD(jwks_uri.refetch_interval_s))},
      {{"jwks_uri", "stale_if_error_s", "3600",
        "A client JWKS past its cache lifetime is still used this long while refetching fails."},
       IntSetter(0, 7 * 86400, FIELD(jwks_uri.stale_if_error_s))},
      {{"jwks_uri", "cache_max_entries", "10000",
        "Clients whose JWKS is cached at most (least recently used first out)."},
       IntSetter(1, 10000000, FIELD(jwks_uri.cache_max_entries))},
      {{"jwks_uri", "ca_file", "",
        "PEM CA bundle trusted for https:// jwksUri fetches. Empty: the system store."},
       StringSetter(FIELD(jwks_uri.ca_file))},
      {{"federation", "ca_file", "",
        "PEM CA bundle trusted for https:// provider key services. Empty: the system store."},
       StringSetter(FIELD(federation.ca_file))},
      {{"federation", "allow_http_loopback", "false",
        "true: a provider's serverUrl may be plain http:// to a loopback host (127.0.0.0/8, "
        "[::1], localhost), for tests and development. Off: https only, at registration and "
        "when a key is fetched, so peer certificates never travel unencrypted."},
       BoolSetter(FIELD(federation.allow_http_loopback))},
      {{"federation", "cache_max_entries", "1024",
        "Hard cap of the per-kid cache of federated certificates and failures (LRU)."},
       IntSetter(1, 1000000, FIELD(federation.cache_max_entries))},
      {{"federation", "max_in_flight", "4",
        "Concurrent key fetches per provider; more are refused with 503."},
       IntSetter(1, 1000, FIELD(federation.max_in_flight))},
      {{"code", "basic_auth_implicit_consent", "false",
        "true: an authorization request signed in with HTTP Basic issues a code to any client, as "
        "light-oauth2 did. false: clients that are not trusted need the user's recorded consent, "
        "else the answer is consent_required."},
       BoolSetter(FIELD(code.basic_auth_implicit_consent))},
      {{"spnego", "keytab", "",
        "Kerberos service keytab: when set, GET /oauth2/code accepts Authorization: Negotiate "
        "(SPNEGO, RFC 4559) for every client, and asks for it with WWW-Authenticate. Empty: off, "
        "nothing changes. Unreadable or without the service principal's key: a start-up error."},
       StringSetter(FIELD(spnego.keytab))},
      {{"spnego", "service_principal", "",
        "The acceptor's principal in the keytab, HTTP/host@REALM (host: the name clients use in "
        "the URL)."},
       StringSetter(FIELD(spnego.service_principal))},
      {{"spnego", "realms", "",
        "Realms whose users may sign in (comma or space list). Empty: the service principal's "
        "realm. Other realms get 401."},
       StringSetter(FIELD(spnego.realms))},
      {{"spnego", "strip_realm", "true",
        "true: alice@REALM signs in as user alice; false: as alice@REALM."},
       BoolSetter(FIELD(spnego.strip_realm))},
      {{"spnego", "roles_from", "",
        "Where a Kerberos user's account and roles come from: the name of an authenticator (e.g. "
        "an LDAP one, for its groups). Empty: the authenticator the client's authenticateClass "
        "selects (the built-in user store by default). A user it does not know is refused."},
       StringSetter(FIELD(spnego.roles_from))},
      {{"code", "second_factor_clients", "",
        "Client ids (comma or YAML list) whose sign-ins need a second factor (TOTP) from every "
        "user; local users without one enrol on the way, other realms are refused."},
       &SetSecondFactorClients},
      {{"code", "second_factor_roles", "",
        "Roles (comma or YAML list) whose users need a second factor (TOTP) at every client, "
        "whatever the client; those without one enrol at their next browser sign-in, and the "
        "password grant, HTTP Basic and Kerberos refuse them."},
       &SetSecondFactorRoles},
      {{"code", "second_factor_realms", "",
        "Authenticators (comma or YAML list; default is the built-in user store) all of whose "
        "users need a second factor at every client, as for code.second_factor_roles. An "
        "unknown name stops start-up."},
       &SetSecondFactorRealms},
      {{"code", "totp_issuer", "Portcullis",
        "The issuer name in otpauth:// URIs, which authenticator apps show next to the account."},
       StringSetter(FIELD(code.totp_issuer))},
      {{"code", "upstream_flows_per_browser", "10",
        "Open upstream sign-ins (\"Sign in with ...\", each valid 10 minutes) one browser (its "
        "binding cookie) may hold; a start beyond it drops that browser's oldest open one, whose "
        "callback is then refused as unknown."},
       IntSetter(1, 1000, FIELD(code.upstream_flows_per_browser))},
      {{"logout", "backchannel_timeout_ms", "5000",
        "Deadline of one back-channel logout POST (connect, send, receive)."},
       IntSetter(100, 60000, FIELD(logout.backchannel_timeout_ms))},
      {{"logout", "backchannel_max_attempts", "6",
        "Attempts to deliver one logout token (network errors, 429 and 5xx are retried; other "
        "statuses give up)."},
       IntSetter(1, 100, FIELD(logout.backchannel_max_attempts))},
      {{"logout", "backchannel_retry_base_s", "10",
        "Wait before the first retry; it doubles with every further attempt."},
       IntSetter(1, 3600, FIELD(logout.backchannel_retry_base_s))},
      {{"logout", "backchannel_retry_max_s", "600", "Longest wait between two attempts."},
       IntSetter(1, 86400, FIELD(logout.backchannel_retry_max_s))},
      {{"logout", "backchannel_ttl_s", "3600",
        "A logout token not delivered this long after the sign-out is dropped (logged)."},
       IntSetter(60, 7 * 86400, FIELD(logout.backchannel_ttl_s))},
      {{"logout", "token_ttl_s", "120", "Lifetime (exp - iat) of a logout token."},
       IntSetter(10, 3600, FIELD(logout.token_ttl_s))},
      {{"logout", "backchannel_ca_file", "",
        "PEM CA bundle trusted for https:// back-channel logout URIs. Empty: the system store."},
       StringSetter(FIELD(logout.backchannel_ca_file))},
      {{"login", "max_failures", "5",
        "Password attempts one address may make at one account in a burst (sign-in, password "
        "grant); they come back one by one over window_s. Past them: 429 with Retry-After for "
        "that address only."},
       IntSetter(1, 10000, FIELD(login.max_failures))},
      {{"login", "max_ip_failures", "50",
        "Password attempts one client address may make in a burst, whatever the account; they "
        "come back one by one over window_s. Behind a load balancer, set "
        "server.trusted_proxies so that this counts clients, not the balancer."},
       IntSetter(1, 1000000, FIELD(login.max_ip_failures))},
      {{"login", "window_s", "300", "Time in which spent password attempts grow back in full."},
       IntSetter(1, 86400, FIELD(login.window_s))},
      {{"par", "request_uri_ttl_s", "60",
        "Lifetime of a pushed authorization request's request_uri (RFC 9126 expires_in): the "
        "time to start the flow at the authorization endpoint. 5 to 599, as FAPI 2.0 "
        "5.3.2.2 asks (under 600 s)."},
       IntSetter(5, 599, FIELD(par.request_uri_ttl_s))},
      {{"device", "code_ttl_s", "600",
        "Lifetime of a device authorization's device and user codes (RFC 8628 expires_in)."},
       IntSetter(1, 3600, FIELD(device.code_ttl_s))},
      {{"device", "interval_s", "5",
        "Polling interval handed to devices (RFC 8628 interval). A poll sooner than the interval "
        "gets slow_down, and that grant's interval grows by 5 s."},
       IntSetter(1, 60, FIELD(device.interval_s))},
      {{"device", "max_ip_failures", "10",
        "Wrong user codes one client address may enter on /oauth2/device in a burst; they come "
        "back one by one over window_s. Past them: 429 with Retry-After for that address."},
       IntSetter(1, 100000, FIELD(device.max_ip_failures))},
      {{"device", "max_failures", "1000",
        "Wrong user codes all addresses together may enter in a burst (per instance), the bound "
        "on guessing (README \"Device flow\"). Past them: 429 for everyone until tokens grow "
        "back."},
       IntSetter(1, 10000000, FIELD(device.max_failures))},
      {{"device", "window_s", "300", "Time in which spent user-code attempts grow back in full."},
       IntSetter(1, 86400, FIELD(device.window_s))},
      {{"bootstrap", "client_id", "",
        "With client_secret: creates this trusted admin client at start if the store lacks it."},
       StringSetter(FIELD(bootstrap.client_id))},
      {{"bootstrap", "client_secret", "", "Secret of the bootstrap client.", true},
       StringSetter(FIELD(bootstrap.client_secret))},
      {{"admin", "audience", "",
        "`aud` values (space-separated) that the admin APIs accept besides the issuer. Empty: "
        "token.audience when that is set. Tokens for any other audience are refused (401)."},
       StringSetter(FIELD(admin.audience))},
      {{"console", "admin_password_file", "",
        "Where the first run writes the `admin` user's password (mode 0600). Empty: "
        "admin-password beside the SQLite database, or beside keys.master_key_file; on "
        "PostgreSQL with neither, the first run is skipped (logged)."},
       StringSetter(FIELD(console.admin_password_file))},
  };
  return entries;
}

#undef FIELD

const Entry* FindEntry(std::string_view name) {
  for (const auto& e : Entries()) {
    if (name.size() == e.setting.section.size() + 1 + e.setting.key.size() &&
        name.starts_with(e.setting.section) && name[e.setting.section.size()] == '.' &&
        name.ends_with(e.setting.key)) {
      return &e;
    }
  }
  return nullptr;
}

std::string Quoted(const Entry& e, const std::string& v) {
  return e.setting.secret ? std::string("(secret)") : "'" + v + "'";
}

Error ConfigError(std::string line) {
  Error e = Error::Internal(line);
  e.description = std::move(line);
  return e;
}

// Levenshtein distance, for "did you mean".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<Config::UnknownEnv> UnknownEnvironment(const std::map<std::string, std::string>& env) {
  std::vector<Config::UnknownEnv> out;
  for (const auto& [name, value] : env) {
    if (!name.starts_with("PORTCULLIS_")) continue;
    const auto& tools = KnownToolEnvironment();
    if (std::find(tools.begin(), tools.end(), name) != tools.end()) continue;
    std::string nearest;
    size_t best = std::string::npos;
    bool known = false;
    for (const auto& e : Entries()) {
      std::string candidate = EnvName(e.setting);
      if (candidate == name) {
        known = true;
        break;
      }
      size_t d = EditDistance(name, candidate);
      if (d < best) {
        best = d;
        nearest = std::move(candidate);
      }
    }
    if (!known) out.push_back({name, nearest});
  }
  return out;
}

Status Apply(Config& c, const Entry& e, const std::string& value, std::string_view source) {
  if (auto err = e.set(c, value)) {
    return Fail(ConfigError("config: " + std::string(e.setting.section) + "." +
                            std::string(e.setting.key) + " (" + std::string(source) +
                            "): bad value " + Quoted(e, value) + ": " + *err));
  }
  if (e.setting.section == "server" && e.setting.key == "listen") c.server.listen_set = true;
  return {};
}

}  // namespace

const std::vector<ServiceInfo>& AllServices() {
  static const std::vector<ServiceInfo> services = {
      {"code", 6881, "com.networknt.oauth2-code-1.0.0"},
      {"token", 6882, "com.networknt.oauth2-token-1.0.0"},
      {"service", 6883, "com.networknt.oauth2-service-1.0.0"},
      {"client", 6884, "com.networknt.oauth2-client-1.0.0"},
      {"user", 6885, "com.networknt.oauth2-user-1.0.0"},
      {"key", 6886, "com.networknt.oauth2-key-1.0.0"},
      {"refresh-token", 6887, "com.networknt.oauth2-refresh-token-1.0.0"},
      {"provider", 6889, "com.networknt.oauth2-provider-1.0.0"},
      // Not a light-oauth2 service: the admin console (README "Console").
      {"console", 6880, "com.portcullis.console"},
  };
  return services;
}

bool Config::Serves(std::string_view service) const {
  return std::find(server.services.begin(), server.services.end(), service) !=
         server.services.end();
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = [] {
    std::vector<Setting> out;
    for (const auto& e : Entries()) out.push_back(e.setting);
    return out;
  }();
  return settings;
}

std::string EnvName(const Setting& s) {
  std::string name = "PORTCULLIS_";
  for (char ch : std::string(s.section) + "_" + std::string(s.key)) {
    name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  return name;
}

const std::vector<std::string_view>& KnownToolEnvironment() {
  // Keep in step with the scripts and tests that read them (grep PORTCULLIS_ in scripts/,
  // tests/, src/**/*_test.cc).
  static const std::vector<std::string_view> names = {
      "PORTCULLIS_BIN",            // tests: the binary under test
      "PORTCULLIS_TEST_PG_URL",    // tests: the PostgreSQL server they may use
      "PORTCULLIS_TEST_REQUIRE",   // tests: fail instead of skipping (scripts/test.sh)
      "PORTCULLIS_TESTDATA",       // unit tests: tests/testdata
      "PORTCULLIS_REGEN_VECTORS",  // jose vectors_test: rewrite the test vectors
      "PORTCULLIS_SCREENSHOT",     // browser tests: save the sign-in page
      "PORTCULLIS_SKIP_CLUSTER",   // tests: leave out the multi-process cluster test
  };
  return names;
}

std::string UnknownEnvMessage(const Config::UnknownEnv& u) {
  return "unknown environment variable " + u.name + " is ignored; did you mean " + u.nearest + "?";
}

std::string ResolveSqliteUrl(const std::string& url, const std::string& config_file) {
  if (!url.starts_with("sqlite:")) return url;
  std::string path = url.substr(7);
  if (path.starts_with("//")) path.erase(0, 2);
  if (path.empty() || path == ":memory:" || path.starts_with("/")) return url;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(config_file, ec).parent_path();
  if (ec) return url;
  return "sqlite:" + (dir / path).lexically_normal().string();
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config c;
  for (const auto& e : Entries()) {
    if (auto s = Apply(c, e, std::string(e.setting.default_value), "default"); !s) {
      return Fail(s.error());
    }
  }
  c.server.listen_set = false;

  if (sources.file) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(*sources.file);
    } catch (const YAML::BadFile&) {
      return Fail(ConfigError("config: cannot read file '" + *sources.file + "'"));
    } catch (const YAML::Exception& ex) {
      return Fail(ConfigError("config: " + *sources.file + ": YAML error at line " +
                              std::to_string(ex.mark.line + 1) + ": " + ex.msg));
    }
    if (root && !root.IsNull()) {
      if (!root.IsMap()) {
        return Fail(ConfigError("config: " + *sources.file + ": expected a map of sections"));
      }
      for (const auto& section : root) {
        std::string sname = section.first.as<std::string>();
        if (sname == "authenticators") {
          if (section.second.IsNull()) continue;
          if (auto s = ReadAuthenticators(section.second, *sources.file, c.authenticators); !s) {
            return Fail(s.error());
          }
          continue;
        }
        if (!section.second.IsMap()) {
          return Fail(
              ConfigError("config: " + *sources.file + ": section '" + sname + "' must be a map"));
        }
        for (const auto& item : section.second) {
          std::string key = sname + "." + item.first.as<std::string>();
          const Entry* e = FindEntry(key);
          if (!e) {
            return Fail(ConfigError("config: " + *sources.file + ": unknown key '" + key + "'"));
          }
          std::string value;
          if (item.second.IsSequence()) {
            // A YAML list stands for the comma list (services, trusted_proxies).
            for (const auto& element : item.second) {
              if (!element.IsScalar()) {
                return Fail(ConfigError("config: " + key + " (" + *sources.file +
                                        "): expected a list of single values"));
              }
              if (!value.empty()) value += ",";
              value += element.as<std::string>();
            }
          } else if (!item.second.IsScalar() && !item.second.IsNull()) {
            return Fail(ConfigError("config: " + key + " (" + *sources.file +
                                    "): expected a single value"));
          } else {
            value = item.second.IsNull() ? "" : item.second.as<std::string>();
          }
          if (key == "store.url") value = ResolveSqliteUrl(value, *sources.file);
          if (auto s = Apply(c, *e, value, *sources.file); !s) return Fail(s.error());
        }
      }
    }
  }

  c.unknown_env = UnknownEnvironment(sources.env);
  {
    auto used = ApplyAuthenticatorEnv(sources.env, c.authenticators);
    if (!used) return Fail(used.error());
    std::erase_if(c.unknown_env, [&](const Config::UnknownEnv& u) {
      return std::find(used->begin(), used->end(), u.name) != used->end();
    });
  }
  for (const auto& e : Entries()) {
    auto it = sources.env.find(EnvName(e.setting));
    if (it == sources.env.end()) continue;
    if (auto s = Apply(c, e, it->second, "env " + it->first); !s) return Fail(s.error());
  }

  for (const auto& [name, value] : sources.flags) {
    const Entry* e = FindEntry(name);
    if (!e) return Fail(ConfigError("config: unknown setting '" + name + "'"));
    if (auto s = Apply(c, *e, value, "flag"); !s) return Fail(s.error());
  }

  if (!c.server.listen_set && c.server.services.size() == 1) {
    for (const auto& s : AllServices()) {
      if (s.name == c.server.services[0]) c.server.port = s.port;
    }
  }
  if (c.Serves("console")) {
    // The console's sign-in uses this process's code and token endpoints, and its pages
    // forward to the admin routes of this process (console_module.cc): without them it would
    // start and fail at the first sign-in or page.
    std::string missing;
    for (const auto& s : AllServices()) {
      if (s.name == "console" || c.Serves(s.name)) continue;
      if (!missing.empty()) missing += ", ";
      missing += s.name;
    }
    if (!missing.empty()) {
      return Fail(ConfigError(
          "config: server.services: the console needs every other service in the same process "
          "(its sign-in uses code and token, its pages the admin APIs); missing: " +
          missing + ". Use `all`, add them, or leave console out"));
    }
  }
  if (c.server.tls_client_certs && c.server.tls_cert.empty()) {
    return Fail(ConfigError("config: server.tls_client_certs needs server.tls_cert and tls_key"));
  }
  if (!c.server.tls_client_ca.empty() && !c.server.tls_client_certs) {
    return Fail(ConfigError("config: server.tls_client_ca needs server.tls_client_certs: true"));
  }
  if (!c.server.client_cert_header.empty() && c.server.trusted_proxies.empty()) {
    return Fail(ConfigError(
        "config: server.client_cert_header needs server.trusted_proxies (the proxies it is "
        "believed from)"));
  }
  if (!c.server.mtls_base_url.empty()) {
    const std::string& u = c.server.mtls_base_url;
    // The aliases are this URL plus /oauth2/...: a query, a fragment or a trailing slash would
    // make them wrong, and an mTLS endpoint is TLS by definition.
    if (!u.starts_with("https://") || u.size() <= 8 || u.back() == '/' ||
        u.find_first_of("?# ") != std::string::npos) {
      return Fail(ConfigError(
          "config: server.mtls_base_url must be an https URL without query, fragment or "
          "trailing slash"));
    }
    if (!c.server.tls_client_certs && c.server.client_cert_header.empty()) {
      return Fail(
          ConfigError("config: server.mtls_base_url needs server.tls_client_certs or "
                      "server.client_cert_header (else no client certificate ever arrives)"));
    }
  }
  if (c.server.tls_cert.empty() != c.server.tls_key.empty()) {
    return Fail(ConfigError("config: server.tls_cert and server.tls_key must be set together"));
  }
  if (c.bootstrap.client_id.empty() != c.bootstrap.client_secret.empty()) {
    return Fail(ConfigError(
        "config: bootstrap.client_id and bootstrap.client_secret must be set together"));
  }
  if (auto s = ValidateAuthenticators(c.authenticators); !s) return Fail(s.error());
  if (c.jwks_uri.min_cache_s > c.jwks_uri.max_cache_s) {
    return Fail(ConfigError("config: jwks_uri.min_cache_s must not exceed jwks_uri.max_cache_s"));
  }
  return c;
}

std::string DefaultIssuer(std::string_view host, uint16_t port, bool tls, bool* wildcard) {
  std::string h(host);
  const bool any = h.empty() || h == "0.0.0.0" || h == "::" || h == "0:0:0:0:0:0:0:0";
  if (any) h = h.find(':') != std::string::npos ? "::1" : "127.0.0.1";
  if (wildcard != nullptr) *wildcard = any;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return std::string(tls ? "https" : "http") + "://" + h + ":" + std::to_string(port);
}

std::string SampleConfig() {
  std::string out =
      "# Portcullis configuration. Every key is shown at its default.\n"
      "# Each key can also be set by the environment variable PORTCULLIS_<SECTION>_<KEY>\n"
      "# (e.g. PORTCULLIS_SERVER_LISTEN) and by a flag of `portcullis serve`.\n"
      "# Precedence: flag > environment > this file > default.\n";
  std::string_view section;
  for (const auto& e : Entries()) {
    const auto& s = e.setting;
    if (s.section != section) {
      section = s.section;
      out += "\n" + std::string(section) + ":\n";
    }
    out += "  # " + std::string(s.help) + "\n";
    out += "  # env: " + EnvName(s) + "\n";
    std::string value(s.default_value);
    bool quote = value.empty() || value.find(':') != std::string::npos;
    out += "  " + std::string(s.key) + ": " + (quote ? "\"" + value + "\"" : value) + "\n";
  }
  return out;
}

std::string ConfigReference() {
  std::string out = "| key | default | environment | meaning |\n|---|---|---|---|\n";
  for (const auto& e : Entries()) {
    const auto& s = e.setting;
    std::string def(s.default_value);
    out += "| `" + std::string(s.section) + "." + std::string(s.key) + "` | " +
           (def.empty() ? std::string("(empty)") : "`" + def + "`") + " | `" + EnvName(s) + "` | " +
           std::string(s.help) + " |\n";
  }
  return out;
}

}  // namespace portcullis::app
