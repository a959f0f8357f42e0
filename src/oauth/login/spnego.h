#pragma once
// Kerberos sign-in over HTTP Negotiate (RFC 4559), the acceptor side: a base64 SPNEGO (or raw
// Kerberos) token from `Authorization: Negotiate ...` is checked with GSS-API against the
// service keytab, and the client principal is mapped to a user id. Only single-round exchanges
// are accepted (a Kerberos AP-REQ, alone or wrapped in SPNEGO's NegTokenInit, completes in one
// step); a token that would need another round trip is refused. The GSS-API headers stay in
// spnego.cc.
//
// Ownership: SpnegoAcceptor owns its acceptor credential. Thread-safety: Accept() is safe from
// several threads at once (each call has its own security context; the credential is only read).
// Blocking (keytab reads, replay cache): run it off the I/O thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::oauth {

struct SpnegoSettings {
  std::string keytab;             // path of the service keytab
  std::string service_principal;  // e.g. HTTP/auth.example.com@EXAMPLE.COM
  // Realms whose users may sign in; empty: the service principal's realm only.
  std::vector<std::string> realms;
  // true: "alice@EXAMPLE.COM" signs in as "alice" when EXAMPLE.COM is the service principal's
  // own realm; users of the other allowed realms keep the whole principal, so alice@OTHER.COM
  // can never be taken for the local alice. false: every user is the whole principal.
  bool strip_realm = true;
};

struct SpnegoIdentity {
  std::string principal;     // the client principal, e.g. alice@EXAMPLE.COM
  std::string user_id;       // after the realm mapping
  std::string output_token;  // base64 token for the answer's WWW-Authenticate; may be empty
};

// The realm of "name@REALM" (after the last unescaped '@'), "" when there is none.
std::string PrincipalRealm(std::string_view principal);

// Maps a principal to a user id: refused (401) when its realm is not in `realms`; the realm is
// stripped only when `strip_realm` and it is `home_realm` (the service principal's realm), so
// that names of two realms never meet in one user id. `realms` must not be empty.
Result<std::string> MapPrincipal(std::string_view principal, const std::vector<std::string>& realms,
                                 bool strip_realm, std::string_view home_realm);

class SpnegoAcceptor {
 public:
  // Acquires the acceptor credential for `settings.service_principal` from `settings.keytab`.
  // A missing or unreadable keytab, or one without the principal's key, is an error that names
  // the config key (spnego.keytab / spnego.service_principal).
  static Result<std::unique_ptr<SpnegoAcceptor>> Open(SpnegoSettings settings);
  ~SpnegoAcceptor();
  SpnegoAcceptor(const SpnegoAcceptor&) = delete;
  SpnegoAcceptor& operator=(const SpnegoAcceptor&) = delete;

  // `token`: the base64 text after "Negotiate ". A bad, expired or replayed ticket, a ticket for
  // another service, a multi-round exchange and a realm not allowed are 401 login_required with
  // a short public description; the GSS-API reason goes to `detail` (log only, no secrets).
  Result<SpnegoIdentity> Accept(std::string_view token) const;

  const SpnegoSettings& settings() const;

 private:
  struct Impl;
  explicit SpnegoAcceptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace portcullis::oauth
