#pragma once
// The one typed configuration. Every setting has a YAML key `section.key`, an environment
// variable PORTCULLIS_<SECTION>_<KEY>, a default and a help line, all in one table (config.cc),
// from which the README reference and the sample file are generated. Precedence:
// flag > environment > file > default. An unknown file key or a bad value stops start-up with
// one line naming it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/authenticator_specs.h"
#include "common/error.h"

namespace portcullis::app {

// Service names, in light-oauth2's order, with their stand-alone default ports.
struct ServiceInfo {
  std::string_view name;
  uint16_t port;
  std::string_view service_id;  // light-oauth2 serviceId, for /health/<serviceId>
};
const std::vector<ServiceInfo>& AllServices();

struct Config {
  struct Server {
    std::string host = "127.0.0.1";
    uint16_t port = 6880;
    bool listen_set = false;  // false: a lone service takes its light-oauth2 port
    std::vector<std::string> services;
    std::string port_file;
    std::string issuer;  // empty: http(s)://host:port once bound
    int io_threads = 0;
    int store_threads = 8;
    int hash_threads = 2;
    int64_t header_limit = 8192;
    int64_t body_limit = 65536;
    int read_timeout_ms = 10000;
    int idle_timeout_ms = 60000;
    int max_connections = 10000;
    int max_connections_per_ip = 256;
    int max_headers = 100;
    int max_params = 100;
    std::string trusted_proxies;  // comma list of CIDRs, validated when set
    std::string client_ip_header = "x-forwarded-for";
    int shutdown_grace_ms = 5000;
    std::string tls_cert;
    std::string tls_key;
    // Mutual TLS (RFC 8705, README "mTLS").
    bool tls_client_certs = false;
    std::string tls_client_ca;
    std::string client_cert_header;
    std::string client_cert_verify_header;
    // RFC 8705 §5: base URL of a separate mTLS front; empty: no mtls_endpoint_aliases.
    std::string mtls_base_url;
  } server;
  struct Store {
    std::string url;
    bool migrate_on_start = true;
    int pool_size = 8;
    int busy_timeout_ms = 5000;
    int connect_timeout_s = 5;
    int64_t purge_interval_s = 60;
    int64_t full_reload_s = 60;
  } store;
  struct Log {
    std::string level = "info";
    std::string format = "text";
    bool access = true;
  } log;
  struct Keys {
    std::string algorithm = "RS256";
    std::string master_key;
    std::string master_key_file;
    std::string provider_id;
    int64_t publish_ahead_s = 360;
    int64_t rotation_interval_s = 30 * 86400;
    int64_t jwks_max_age_s = 300;
  } keys;
  struct Token {
    int64_t access_token_ttl_s = 600;
    int64_t refresh_token_ttl_s = 90 * 86400;
    int64_t code_ttl_s = 300;
    int64_t bootstrap_token_ttl_s = 86400;
    int64_t id_token_ttl_s = 3600;  // OpenID Connect ID tokens
    int64_t leeway_s = 60;
    std::string audience;
  } token;
  struct Verify {
    std::string default_service;
    int64_t dpop_window_s = 60;
    std::string client_cert_header = "client-cert";
  } verify;
  // private_key_jwt clients registered with a jwksUri (oauth/token/client_jwks.h).
  struct JwksUri {
    bool allow_http_loopback = false;
    int64_t timeout_ms = 3000;
    int64_t max_bytes = 65536;
    int64_t default_cache_s = 300;
    int64_t min_cache_s = 60;
    int64_t max_cache_s = 86400;
    int64_t refetch_interval_s = 60;
    int64_t stale_if_error_s = 3600;
    int64_t cache_max_entries = 10000;
    std::string ca_file;
  } jwks_uri;
  // DPoP (RFC 9449) at the token endpoint (README "DPoP").
  struct Dpop {
    int64_t iat_window_s = 60;
    bool require_nonce = false;
    int64_t nonce_lifetime_s = 300;
  } dpop;
  struct Federation {
    std::string ca_file;
    bool allow_http_loopback = false;
    int64_t cache_max_entries = 1024;
    int64_t max_in_flight = 4;
  } federation;
  struct Code {
    bool basic_auth_implicit_consent = false;
    // The second factor (README "Second factor (TOTP)"): clients whose users all need one, and
    // the issuer name authenticator apps show.
    std::vector<std::string> second_factor_clients;
    // Users who need one at every client: by role, and every user of an authenticator
    // ("default": the built-in user store).
    std::vector<std::string> second_factor_roles;
    std::vector<std::string> second_factor_realms;
    std::string totp_issuer = "Portcullis";
    // Open upstream sign-ins ("Sign in with ...") one browser may hold; more drop its oldest.
    int64_t upstream_flows_per_browser = 10;
  } code;
  // Kerberos sign-in at the authorization endpoint (README "Enterprise sign-in: Kerberos /
  // SPNEGO"). Off while keytab is empty.
  struct Spnego {
    std::string keytab;
    std::string service_principal;  // HTTP/host@REALM
    std::string realms;             // comma or space list; empty: the service principal's realm
    bool strip_realm = true;
    std::string roles_from;  // an authenticator's name; empty: the client's authenticator
  } spnego;
  // OpenID Connect Back-Channel Logout delivery (README "Logout").
  struct Logout {
    int64_t backchannel_timeout_ms = 5000;
    int64_t backchannel_max_attempts = 6;
    int64_t backchannel_retry_base_s = 10;
    int64_t backchannel_retry_max_s = 600;
    int64_t backchannel_ttl_s = 3600;
    int64_t token_ttl_s = 120;
    std::string backchannel_ca_file;
  } logout;
  struct Login {
    int max_failures = 5;
    int max_ip_failures = 50;
    int64_t window_s = 300;
  } login;
  struct Device {  // RFC 8628
    int64_t code_ttl_s = 600;
    int64_t interval_s = 5;
    int max_ip_failures = 10;
    int max_failures = 1000;
    int64_t window_s = 300;
  } device;
  struct Par {  // RFC 9126
    int64_t request_uri_ttl_s = 60;
  } par;
  struct Bootstrap {
    std::string client_id;
    std::string client_secret;
  } bootstrap;
  struct Admin {
    std::string audience;  // space-separated; empty: token.audience
  } admin;
  // Named authenticators (authenticator_specs.h), checked by their type's parser at load.
  std::vector<AuthenticatorSpec> authenticators;
  struct Console {  // README "Console"
    // Where the first-run admin password is written; empty: admin-password beside the SQLite
    // database, or beside keys.master_key_file on PostgreSQL (else the working directory).
    std::string admin_password_file;
  } console;

  // PORTCULLIS_* variables in the environment that are neither a setting nor a known tool
  // variable (KnownToolEnvironment), each with the nearest setting's variable: a typo that
  // would otherwise be ignored in silence. Reported as warnings; never holds values.
  struct UnknownEnv {
    std::string name;
    std::string nearest;
  };
  std::vector<UnknownEnv> unknown_env;

  bool Serves(std::string_view service) const;
};

struct Setting {
  std::string_view section;
  std::string_view key;
  std::string_view default_value;
  std::string_view help;
  bool secret = false;  // never echoed back, not even in error messages
};
const std::vector<Setting>& Settings();

std::string EnvName(const Setting& s);

// PORTCULLIS_* variables that are not settings but are read by this repository's scripts and
// tests (PORTCULLIS_BIN, PORTCULLIS_TEST_PG_URL, ...): the binary ignores them without a warning.
const std::vector<std::string_view>& KnownToolEnvironment();

// "unknown environment variable NAME is ignored; did you mean NEAREST?"
std::string UnknownEnvMessage(const Config::UnknownEnv& u);

struct ConfigSources {
  std::optional<std::string> file;                         // YAML path
  std::map<std::string, std::string> env;                  // the process environment
  std::vector<std::pair<std::string, std::string>> flags;  // "section.key" -> value
};

// Errors carry a one-line description naming the key and the source. A relative sqlite: path
// written in the file (store.url) is resolved against the file's directory; one from the
// environment, a flag or the default stays relative to the working directory.
Result<Config> LoadConfig(const ConfigSources& sources);

// `url` with a relative sqlite: path made absolute against the directory of `config_file`;
// other URLs (postgres://, absolute paths, :memory:) unchanged.
std::string ResolveSqliteUrl(const std::string& url, const std::string& config_file);

// The issuer when server.issuer is empty: http(s)://HOST:PORT, with a wildcard HOST (0.0.0.0,
// ::) replaced by the loopback address of its family, since no browser or client can reach a
// wildcard address. Sets `*wildcard` when it did so (the caller warns: remote callers need
// server.issuer).
std::string DefaultIssuer(std::string_view host, uint16_t port, bool tls, bool* wildcard = nullptr);

// A commented YAML file with every key at its default.
std::string SampleConfig();
// A markdown table of every key, its default and its environment variable.
std::string ConfigReference();

}  // namespace portcullis::app
