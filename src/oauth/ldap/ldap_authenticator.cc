#include "oauth/ldap/ldap_authenticator.h"

#include <ldap.h>
#include <sys/time.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <sstream>

#include "common/log.h"
#include "oauth/ldap/ldap_escape.h"

namespace portcullis::oauth::ldap {

class LdapAuthenticator::Connection {
 public:
  ~Connection() {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
  LDAP* ld = nullptr;
  bool broken = false;  // the connection failed: close it, never reuse it
  int last_rc = 0;      // the last operation's result code
};

namespace {

constexpr size_t kMaxUserId = 256;

// One message for every refusal, so it reveals nothing about which users exist.
Error BadCredentials() {
  return Error::Status("ERR12016", "The user name or password is incorrect.");
}

Error Throttled(std::string_view remote_ip, const LoginThrottle::Admission& a) {
  log::Warn("login.throttled", {{"remote", remote_ip}, {"retry_after", a.retry_after}});
  Error e = Error::OAuth(429, "slow_down", "Too many failed attempts. Try again later.");
  e.retry_after = a.retry_after;
  return e;
}

timeval Tv(int64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// Result codes after which the connection is not to be trusted again.
bool ConnectionLost(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_LOCAL_ERROR || rc == LDAP_ENCODING_ERROR || rc == LDAP_DECODING_ERROR ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_OTHER ||
         rc == LDAP_TIMELIMIT_EXCEEDED;
}

// Bind results that mean "not this user with this password": wrong password, no such entry
// (a template DN), a locked or disabled account (Active Directory answers 49 with a sub-code;
// password policies may answer 19 or 53).
bool Refused(int rc) {
  return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
         rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_INSUFFICIENT_ACCESS ||
         rc == LDAP_INVALID_DN_SYNTAX || rc == LDAP_NO_SUCH_OBJECT ||
         rc == LDAP_CONSTRAINT_VIOLATION;
}

std::string Diagnostic(LDAP* ld) {
  char* msg = nullptr;
  std::string out;
  if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
      msg != nullptr) {
    out = msg;
    ldap_memfree(msg);
  }
  return out;
}

struct LdapEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attributes;  // lower-case name -> values
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The directory could not answer: 503, logged with the cause (never a password).
Error Down(const LdapSettings& s, LDAP* ld, std::string_view step, int rc) {
  std::string diag = Diagnostic(ld);
  log::Warn("ldap.unavailable", {{"authenticator", s.name},
                                 {"step", step},
                                 {"code", rc},
                                 {"error", ldap_err2string(rc)},
                                 {"diagnostic", diag}});
  return Error::Unavailable("ldap " + s.name + ": " + std::string(step) + ": " +
                            ldap_err2string(rc) + (diag.empty() ? "" : " (" + diag + ")"));
}

int Bind(LdapAuthenticator::Connection& c, const std::string& dn, std::string_view password) {
  berval cred{};
  std::string copy(password);  // libldap wants a mutable buffer
  cred.bv_val = copy.data();
  cred.bv_len = copy.size();
  int rc = ldap_sasl_bind_s(c.ld, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  std::fill(copy.begin(), copy.end(), '\0');
  c.last_rc = rc;
  if (ConnectionLost(rc)) c.broken = true;
  return rc;
}

// A search; `out` gets the entries with the requested attributes.
int Search(LdapAuthenticator::Connection& c, const LdapSettings& s, const std::string& base,
           int scope, const std::string& filter, const std::vector<std::string>& attrs,
           int size_limit, std::vector<LdapEntry>& out) {
  std::vector<char*> names;
  for (const auto& a : attrs) names.push_back(const_cast<char*>(a.c_str()));
  if (names.empty()) names.push_back(const_cast<char*>(LDAP_NO_ATTRS));
  names.push_back(nullptr);
  timeval tv = Tv(s.operation_timeout_ms);
  LDAPMessage* res = nullptr;
  int rc = ldap_search_ext_s(c.ld, base.c_str(), scope, filter.c_str(), names.data(), 0, nullptr,
                             nullptr, &tv, size_limit, &res);
  if (res != nullptr) {
    for (LDAPMessage* e = ldap_first_entry(c.ld, res); e != nullptr; e = ldap_next_entry(c.ld, e)) {
      LdapEntry entry;
      if (char* dn = ldap_get_dn(c.ld, e)) {
        entry.dn = dn;
        ldap_memfree(dn);
      }
      for (const auto& a : attrs) {
        berval** values = ldap_get_values_len(c.ld, e, a.c_str());
        if (values == nullptr) continue;
        auto& list = entry.attributes[Lower(a)];
        for (int i = 0; values[i] != nullptr; ++i) {
          list.emplace_back(values[i]->bv_val, values[i]->bv_len);
        }
        ldap_value_free_len(values);
      }
      out.push_back(std::move(entry));
    }
    ldap_msgfree(res);
  }
  c.last_rc = rc;
  if (ConnectionLost(rc)) c.broken = true;
  return rc;
}

// Opens a connection: options, TLS context, StartTLS. ldaps:// handshakes on the first bind.
Result<std::unique_ptr<LdapAuthenticator::Connection>> Open(const LdapSettings& s) {
  auto c = std::make_unique<LdapAuthenticator::Connection>();
  int rc = ldap_initialize(&c->ld, s.url.c_str());
  if (rc != LDAP_SUCCESS) return Fail(Down(s, c->ld, "initialize", rc));
  int version = LDAP_VERSION3;
  ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);  // never chase to other servers
  timeval network = Tv(s.connect_timeout_ms);
  ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &network);
  // Connect without blocking, so that libldap bounds the TLS handshake by the network timeout
  // too (it polls only for asynchronous connections).
  ldap_set_option(c->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON);
  timeval operation = Tv(s.operation_timeout_ms);
  ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &operation);
  int time_limit = static_cast<int>(std::max<int64_t>(1, s.operation_timeout_ms / 1000));
  ldap_set_option(c->ld, LDAP_OPT_TIMELIMIT, &time_limit);
  // TLS: the certificate must chain to ca_file (or the system CAs) and name the host.
  int demand = LDAP_OPT_X_TLS_DEMAND;
  ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  int min_version = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  ldap_set_option(c->ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min_version);
  if (!s.ca_file.empty()) {
    if (ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, s.ca_file.c_str()) != LDAP_OPT_SUCCESS) {
      return Fail(Down(s, c->ld, "ca_file", LDAP_LOCAL_ERROR));
    }
  }
  // The options above apply to this handle's own TLS context, made now.
  int is_server = 0;
  rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  if (rc != LDAP_OPT_SUCCESS) return Fail(Down(s, c->ld, "TLS context", rc));
  if (s.start_tls) {
    rc = ldap_start_tls_s(c->ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return Fail(Down(s, c->ld, "StartTLS", rc));
  }
  return c;
}

}  // namespace

LdapAuthenticator::LdapAuthenticator(LdapSettings settings, LoginThrottle& throttle)
    : settings_(std::move(settings)), throttle_(throttle) {}

LdapAuthenticator::~LdapAuthenticator() = default;

Result<std::shared_ptr<LdapAuthenticator>> LdapAuthenticator::Create(LdapSettings settings,
                                                                     LoginThrottle& throttle) {
  if (!settings.ca_file.empty() && access(settings.ca_file.c_str(), R_OK) != 0) {
    return Fail(Error::Internal("config: authenticators." + settings.name +
                                ".ca_file: cannot read '" + settings.ca_file + "'"));
  }
  // libldap writes with plain send(): a server that closed the connection would raise SIGPIPE,
  // whose default action ends the process. Everything else here handles EPIPE as an error.
  static std::once_flag sigpipe;
  std::call_once(sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  return std::shared_ptr<LdapAuthenticator>(new LdapAuthenticator(std::move(settings), throttle));
}

Result<std::unique_ptr<LdapAuthenticator::Connection>> LdapAuthenticator::Acquire(bool* reused) {
  std::unique_lock lock(mu_);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.operation_timeout_ms);
  while (idle_.empty() && open_ >= settings_.pool_size) {
    if (free_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.pool_size) {
      log::Warn("ldap.pool_exhausted", {{"authenticator", settings_.name}});
      return Fail(Error::Unavailable("ldap " + settings_.name + ": every connection is busy"));
    }
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    *reused = true;
    return c;
  }
  ++open_;
  lock.unlock();
  *reused = false;
  auto c = Open(settings_);
  if (!c) Discard();
  return c;
}

void LdapAuthenticator::Release(std::unique_ptr<Connection> c) {
  if (c->broken) {
    c.reset();  // unbind outside the lock
    Discard();
    return;
  }
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(c));
  free_.notify_one();
}

void LdapAuthenticator::DropIdle() {
  std::vector<std::unique_ptr<Connection>> stale;
  {
    std::lock_guard lock(mu_);
    stale.swap(idle_);
    open_ -= static_cast<int>(stale.size());
    free_.notify_all();
  }
  // Unbound here, outside the lock.
}

void LdapAuthenticator::Discard() {
  std::lock_guard lock(mu_);
  --open_;
  free_.notify_one();
}

std::string LdapAuthenticator::RolesFor(const std::vector<std::string>& group_dns,
                                        const std::vector<std::string>& group_names) const {
  std::set<std::string> roles;
  auto add = [&](const std::string& key) {
    auto it = settings_.roles.find(key);
    if (it == settings_.roles.end()) return;
    std::istringstream in(it->second);
    for (std::string r; in >> r;) roles.insert(r);
  };
  for (const auto& dn : group_dns) add(Lower(NormalizeDn(dn)));
  for (const auto& name : group_names) add(Lower(name));
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : " ") + r;
  return out;
}

Result<AuthenticatedUser> LdapAuthenticator::Run(Connection& c, std::string_view user_id,
                                                 std::string_view password, bool login) {
  const LdapSettings& s = settings_;
  // Look-ups run as the service account, or anonymously when there is none.
  auto bind_service = [&]() -> Status {
    int rc = Bind(c, s.bind_dn, s.bind_password.Reveal());
    if (rc == LDAP_SUCCESS) return {};
    // A refused service account is the configuration's fault, not the user's.
    return Fail(Down(s, c.ld, s.bind_dn.empty() ? "anonymous bind" : "bind as bind_dn", rc));
  };
  auto user_bind = [&](const std::string& dn) -> Status {
    int rc = Bind(c, dn, password);
    if (rc == LDAP_SUCCESS) return {};
    if (Refused(rc)) {
      log::Info("ldap.bind_refused", {{"authenticator", s.name},
                                      {"user_id", std::string(user_id)},
                                      {"code", rc},
                                      {"diagnostic", Diagnostic(c.ld)}});
      return Fail(BadCredentials());
    }
    return Fail(Down(s, c.ld, "bind as the user", rc));
  };
  const Error not_found = login ? BadCredentials() : Error::Status("ERR12013");

  std::vector<std::string> attrs = {s.user_attribute};
  if (!s.member_of_attribute.empty()) attrs.push_back(s.member_of_attribute);
  std::string dn;
  std::optional<LdapEntry> entry;
  if (!s.user_base.empty()) {
    if (auto st = bind_service(); !st) return Fail(st.error());
    std::string filter = FillTemplate(s.user_filter, {{"user", EscapeFilterValue(user_id)}});
    std::vector<LdapEntry> found;
    int rc = Search(c, s, s.user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 2, found);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
      return Fail(Down(s, c.ld, "search for the user", rc));
    }
    if (found.size() != 1) {
      if (!found.empty()) {
        log::Warn("ldap.ambiguous_user",
                  {{"authenticator", s.name}, {"user_id", std::string(user_id)}});
      }
      if (login) {
        // A bind that fails as a real user's would, so the time tells little.
        int brc = Bind(c, "cn=portcullis-no-such-user," + s.user_base, password);
        if (brc != LDAP_SUCCESS && !Refused(brc)) return Fail(Down(s, c.ld, "bind", brc));
      }
      return Fail(not_found);
    }
    entry = std::move(found[0]);
    dn = entry->dn;
    if (login) {
      if (auto st = user_bind(dn); !st) return Fail(st.error());
    }
  } else {
    dn = FillTemplate(s.user_dn_template, {{"user", EscapeDnValue(user_id)}});
    if (login) {
      if (auto st = user_bind(dn); !st) return Fail(st.error());
    } else if (auto st = bind_service(); !st) {
      return Fail(st.error());
    }
    // The entry itself, read as whoever is bound now: its canonical id and memberOf.
    std::vector<LdapEntry> found;
    int rc = Search(c, s, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, found);
    if (rc == LDAP_SUCCESS && found.size() == 1) {
      entry = std::move(found[0]);
    } else if (rc != LDAP_SUCCESS && !Refused(rc)) {
      return Fail(Down(s, c.ld, "read the user entry", rc));
    } else if (!login) {
      return Fail(not_found);
    }
  }

  AuthenticatedUser user;
  user.user_id = std::string(user_id);
  user.user_type = s.user_type;
  std::vector<std::string> group_dns, group_names;
  if (entry) {
    // The stored name; of several values, the one the user typed (as the directory compares:
    // without case), else the first.
    auto it = entry->attributes.find(Lower(s.user_attribute));
    if (it != entry->attributes.end() && !it->second.empty()) {
      user.user_id = it->second[0];
      for (const auto& v : it->second) {
        if (Lower(v) == Lower(user_id)) user.user_id = v;
      }
    }
    if (!s.member_of_attribute.empty()) {
      auto m = entry->attributes.find(Lower(s.member_of_attribute));
      if (m != entry->attributes.end()) {
        for (const auto& g : m->second) {
          group_dns.push_back(g);
          group_names.push_back(FirstRdnValue(g));
        }
      }
    }
  }
  if (!s.group_base.empty()) {
    // After the user's bind the connection is the user's; groups are read as the service
    // account when there is one.
    if (login && !s.bind_dn.empty()) {
      if (auto st = bind_service(); !st) return Fail(st.error());
    }
    std::string filter = FillTemplate(
        s.group_filter, {{"dn", EscapeFilterValue(dn)}, {"user", EscapeFilterValue(user.user_id)}});
    std::vector<LdapEntry> groups;
    int rc =
        Search(c, s, s.group_base, LDAP_SCOPE_SUBTREE, filter, {s.group_name_attribute}, 0, groups);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
      return Fail(Down(s, c.ld, "search for groups", rc));
    }
    for (const auto& g : groups) {
      group_dns.push_back(g.dn);
      auto n = g.attributes.find(Lower(s.group_name_attribute));
      if (n != g.attributes.end()) {
        for (const auto& v : n->second) group_names.push_back(v);
      }
    }
  }
  user.roles = RolesFor(group_dns, group_names);
  return user;
}

Result<AuthenticatedUser> LdapAuthenticator::WithConnection(std::string_view user_id,
                                                            std::string_view password, bool login) {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto c = Acquire(&reused);
    if (!c) return Fail(std::move(c.error()));
    auto r = Run(**c, user_id, password, login);
    // A kept connection the server has since closed (restart, idle timeout): once more on a
    // fresh one. Not after a timeout: the server may have seen the bind, and a directory that
    // locks accounts would count the password twice.
    const bool stale = (*c)->broken && (*c)->last_rc == LDAP_SERVER_DOWN;
    Release(std::move(*c));
    if (!r && stale && reused && attempt == 0) {
      DropIdle();  // the others are as old: the retry gets a fresh connection
      continue;
    }
    return r;
  }
}

namespace {
// The name as the directory compares it (uid and sAMAccountName ignore case and surrounding or
// repeated spaces), so spelling variants of one account share its throttle bucket.
std::string ThrottleName(std::string_view user_id) {
  std::string out;
  for (char ch : user_id) {
    if (ch == ' ') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool AcceptableUserId(std::string_view user_id) {
  return !user_id.empty() && user_id.size() <= kMaxUserId &&
         user_id.find('\0') == std::string_view::npos;
}
}  // namespace

Result<AuthenticatedUser> LdapAuthenticator::TestLogin(std::string_view user_id,
                                                       std::string_view password) {
  if (!AcceptableUserId(user_id) || password.empty()) return Fail(BadCredentials());
  return WithConnection(user_id, password, true);
}

Result<AuthenticatedUser> LdapAuthenticator::Login(std::string_view user_id,
                                                   std::string_view password,
                                                   std::string_view remote_ip) {
  // As the local user store: both counts are taken before the directory is asked.
  const std::string ip_key = LoginThrottle::IpKey(remote_ip);
  const std::string account_key = LoginThrottle::AccountKey(ThrottleName(user_id), remote_ip);
  if (!ip_key.empty()) {
    if (auto a = throttle_.Acquire(ip_key); !a.allowed) return Fail(Throttled(remote_ip, a));
  }
  if (auto a = throttle_.Acquire(account_key); !a.allowed) {
    if (!ip_key.empty()) throttle_.Refund(ip_key);
    return Fail(Throttled(remote_ip, a));
  }
  // An empty password would be an unauthenticated bind (RFC 4513 §5.1.2), which succeeds.
  if (!AcceptableUserId(user_id) || password.empty()) return Fail(BadCredentials());
  auto r = WithConnection(user_id, password, true);
  if (r) {
    throttle_.Success(account_key);
    if (!ip_key.empty()) throttle_.Refund(ip_key);
  } else if (r.error().http_status >= 500) {
    // The directory failed, not the guess.
    throttle_.Refund(account_key);
    if (!ip_key.empty()) throttle_.Refund(ip_key);
  }
  return r;
}

Result<AuthenticatedUser> LdapAuthenticator::Find(std::string_view user_id) {
  if (!AcceptableUserId(user_id)) return Fail(Error::Status("ERR12013"));
  return WithConnection(user_id, {}, false);
}

Status LdapAuthenticator::Check() {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto c = Acquire(&reused);
    if (!c) return Fail(std::move(c.error()));
    int rc = Bind(**c, settings_.bind_dn, settings_.bind_password.Reveal());
    Status st;
    if (rc != LDAP_SUCCESS) {
      st = Fail(Down(settings_, (*c)->ld,
                     settings_.bind_dn.empty() ? "anonymous bind" : "bind as bind_dn", rc));
    }
    const bool stale = (*c)->broken && rc == LDAP_SERVER_DOWN;
    Release(std::move(*c));
    if (!st && stale && reused && attempt == 0) {  // as in WithConnection
      DropIdle();
      continue;
    }
    return st;
  }
}

}  // namespace portcullis::oauth::ldap
