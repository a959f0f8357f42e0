#pragma once
// Sign-in against an LDAP directory or Active Directory (README "Enterprise sign-in: LDAP"),
// with OpenLDAP's libldap. A LoginAuthenticator (oauth/code/authenticators.h), registered
// under its configured name, which clients select by authenticateClass.
//
// Login: the password is checked by binding as the user (RFC 4513 §5.1.3), at a DN made from
// user_dn_template, or at the DN a search of user_base finds (as the service account bind_dn,
// else anonymously). An empty password is refused before any bind: to a directory it would be
// an unauthenticated bind, which succeeds. Values put into filters and DNs are escaped
// (ldap_escape.h). Groups, from a search of group_base and/or the user's memberOf, become
// roles through the settings' table.
//
// Answers: a wrong password, an unknown user, a locked or ambiguous account all give ERR12016
// (the same text as the local user store's; an unknown user still costs a bind, so the time
// says little). The directory unreachable, slow past the timeouts, refusing the service
// account, or failing TLS verification: 503 temporarily_unavailable, never "wrong password".
// Attempts are throttled like the local user store's (LoginThrottle, per address and per
// account-and-address); attempts the directory could not answer are refunded.
//
// Connections: TLS (ldaps:// or StartTLS) with the server certificate verified against ca_file
// (or the system CAs) and its host name checked; a network timeout for connect and handshake,
// an operation timeout for each bind and search. Up to pool_size connections are open at once;
// idle ones are kept and reused, and one that fails is closed. When a kept one turns out to have
// been closed by the server, the idle ones go too and the operation is retried once on a fresh
// connection (never after a timeout, when the server may have seen the password).
//
// Ownership: borrows `throttle`, which must outlive it. Thread-safety: Login, Find and Check are
// safe from several threads at once. All three block on the network: run them on a pool (the
// code service runs Login on the hash pool, Find on the blocking pool).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/code/authenticators.h"
#include "oauth/ldap/ldap_settings.h"
#include "oauth/login/throttle.h"

namespace portcullis::oauth::ldap {

class LdapAuthenticator final : public LoginAuthenticator {
 public:
  // Checks what can be checked without the network (the CA file is readable).
  static Result<std::shared_ptr<LdapAuthenticator>> Create(LdapSettings settings,
                                                           LoginThrottle& throttle);
  ~LdapAuthenticator() override;

  Result<AuthenticatedUser> Login(std::string_view user_id, std::string_view password,
                                  std::string_view remote_ip) override;
  // The user's current entry and roles, read as the service account (or anonymously): ERR12013
  // when there is no such user (the session then signs in again), 503 when the directory
  // cannot answer.
  Result<AuthenticatedUser> Find(std::string_view user_id) override;

  // A connection test for `portcullis auth test`: connects, sets up TLS, and binds as the
  // service account (or anonymously). Unthrottled.
  Status Check();
  // Login without throttling, for `portcullis auth test` (an operator's check).
  Result<AuthenticatedUser> TestLogin(std::string_view user_id, std::string_view password);

  const LdapSettings& settings() const { return settings_; }

  class Connection;

 private:
  LdapAuthenticator(LdapSettings settings, LoginThrottle& throttle);

  struct Lease;
  // A connection from the pool, or a new one; 503 when pool_size are in use for longer than
  // the operation timeout.
  Result<std::unique_ptr<Connection>> Acquire(bool* reused);
  void Release(std::unique_ptr<Connection> c);
  void Discard();
  // Closes every idle connection (the server closed one: the others are likely gone too).
  void DropIdle();

  // One attempt on one connection. `password` empty: Find (no user bind).
  Result<AuthenticatedUser> Run(Connection& c, std::string_view user_id, std::string_view password,
                                bool login);
  // Run with a pooled connection, retrying once on a fresh one when a reused one was stale.
  Result<AuthenticatedUser> WithConnection(std::string_view user_id, std::string_view password,
                                           bool login);
  std::string RolesFor(const std::vector<std::string>& group_dns,
                       const std::vector<std::string>& group_names) const;

  const LdapSettings settings_;
  LoginThrottle& throttle_;
  std::mutex mu_;
  std::condition_variable free_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections out of the pool or idle in it
};

}  // namespace portcullis::oauth::ldap
