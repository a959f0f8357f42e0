#include "oauth/upstream/upstream_flows.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "oauth/client/authority.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::oauth::upstream {
namespace json = boost::json;
namespace {

bool IdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '~' ||
         c == '@' || c == '+' || c == '-';
}

std::string ClaimStr(const json::object& o, std::string_view key, size_t max) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  std::string s(v->as_string());
  return s.size() > max ? std::string() : s;
}

// Error answers of the provider are shown only when they are plain tokens (RFC 6749 §4.1.2.1).
std::string SafeToken(std::string_view s) {
  if (s.size() > 64) return "error";
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return "error";
  }
  return std::string(s);
}

// The `email` claim when the provider verified it (email_verified is the JSON boolean true),
// else empty.
std::string VerifiedEmail(const json::object& claims) {
  const auto* ev = claims.if_contains("email_verified");
  if (ev == nullptr || !ev->is_bool() || !ev->as_bool()) return {};
  return ClaimStr(claims, "email", 254);
}

// The value an identity without a link is matched on by the provider's link rule: the
// verified e-mail address (link_claim: email), the named claim's string (link_claim: <claim>),
// or empty when the rule does not apply (none, claim absent, empty, not a string, too long,
// e-mail not verified by the JSON boolean true).
std::string LinkValue(const UpstreamSettings& s, const json::object& claims) {
  switch (s.link) {
    case LinkRule::kEmail:
      return VerifiedEmail(claims);
    case LinkRule::kClaim:
      return ClaimStr(claims, s.link_claim, 64);  // user ids have at most 64 characters
    case LinkRule::kNone:
      break;
  }
  return {};
}

// The local accounts `value` (from LinkValue) names under the rule: the one candidate both the
// second-factor probe and the linking transaction look at (several: refused; none: no link).
Result<std::vector<std::string>> LinkCandidates(store::Tx& tx, UpstreamStore& links,
                                                UserStore& users, const UpstreamSettings& s,
                                                const std::string& value) {
  if (s.link == LinkRule::kEmail) return links.UsersWithEmail(tx, value);
  // link_attribute: user_id: the account of exactly this id, never a case-folded match.
  auto u = users.Find(tx, value);
  if (!u) return Fail(std::move(u.error()));
  if (!*u || (*u)->user_id != value) return std::vector<std::string>();
  return std::vector<std::string>{value};
}

}  // namespace

std::string RolesFor(const UpstreamSettings& s, const json::object& claims) {
  std::vector<std::string> out;
  auto add = [&](std::string_view roles) {
    std::string word;
    for (char c : std::string(roles) + " ") {
      if (c == ' ') {
        if (!word.empty() && std::find(out.begin(), out.end(), word) == out.end()) {
          out.push_back(word);
        }
        word.clear();
      } else {
        word += c;
      }
    }
  };
  add(s.default_roles);
  if (!s.roles_claim.empty()) {
    if (const auto* v = claims.if_contains(s.roles_claim)) {
      auto map = [&](std::string_view value) {
        if (auto it = s.roles.find(std::string(value)); it != s.roles.end()) add(it->second);
      };
      if (v->is_string()) map(v->as_string());
      if (v->is_array()) {
        for (const auto& item : v->as_array()) {
          if (item.is_string()) map(item.as_string());
        }
      }
    }
  }
  std::string joined;
  for (const auto& r : out) joined += (joined.empty() ? "" : " ") + r;
  return joined;
}

std::string NewUserId(const UpstreamSettings& s, std::string_view sub) {
  bool plain = !sub.empty() && std::all_of(sub.begin(), sub.end(), IdChar);
  if (plain && s.user_id_prefix.size() + sub.size() <= 64)
    return s.user_id_prefix + std::string(sub);
  // 128 bits of SHA-256 keep ids distinct without the characters users may not have.
  return s.user_id_prefix + TokenHash(sub).substr(0, 22);
}

UpstreamFlows::UpstreamFlows(UpstreamStore& store, store::Database& db, UserStore& users,
                             const Clock& clock, Random& random, std::string default_redirect_uri)
    : store_(store),
      db_(db),
      users_(users),
      clock_(clock),
      random_(random),
      default_redirect_uri_(std::move(default_redirect_uri)),
      starts_(clock, /*max_failures=*/1, kFlowTtl, kStartsPerIp) {}

void UpstreamFlows::Add(std::shared_ptr<OidcProvider> provider) {
  std::string name = provider->settings().name;
  providers_[name] = std::move(provider);
}

OidcProvider* UpstreamFlows::Find(std::string_view name) const {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

std::string UpstreamFlows::RedirectUri(const OidcProvider& p) const {
  return p.settings().redirect_uri.empty() ? default_redirect_uri_ : p.settings().redirect_uri;
}

Result<StartedFlow> UpstreamFlows::Start(std::string_view name, std::string request,
                                         std::string_view binding_cookie, bool prompt_login,
                                         std::string_view remote_ip,
                                         std::optional<int64_t> max_age) {
  OidcProvider* p = Find(name);
  if (p == nullptr) {
    return Fail(Error::OAuth(400, "invalid_request", "There is no such identity provider."));
  }
  // The start's CSRF token is reusable for its lifetime: without a budget one address could
  // fill upstream_flows. Counted before anything is stored, never refunded.
  if (const std::string key = LoginThrottle::IpKey(remote_ip); !key.empty()) {
    if (auto a = starts_.Acquire(key); !a.allowed) {
      log::Warn("upstream.start_throttled", {{"authenticator", name}, {"remote", remote_ip}});
      Error e = Error::OAuth(429, "slow_down",
                             "Too many sign-ins were started from this address. Try again later.");
      e.retry_after = std::max<int64_t>(1, a.retry_after);
      return Fail(std::move(e));
    }
  }
  StartedFlow out;
  std::string binding(binding_cookie);
  if (binding.size() < 32) binding = random_.Token(32);
  // Set again on every start, so that it lives as long as the newest flow it binds.
  out.binding_cookie = binding;
  const std::string state = random_.Token(32);
  PendingFlow flow;
  flow.state_hash = TokenHash(state);
  flow.authenticator = std::string(name);
  flow.binding_hash = TokenHash(binding);
  flow.request = std::move(request);
  flow.nonce = random_.Token(32);
  flow.code_verifier = random_.Token(32);  // 43 characters (RFC 7636 §4.1)
  flow.expires_at = clock_.Now() + kFlowTtl;
  // base64url(SHA-256(verifier)) is the S256 challenge (RFC 7636 §4.2), as TokenHash computes.
  auto url = p->AuthorizationUrl(RedirectUri(*p), state, flow.nonce, TokenHash(flow.code_verifier),
                                 prompt_login, max_age);
  if (!url) return Fail(std::move(url.error()));
  if (auto s = store_.SaveFlow(flow); !s) return Fail(std::move(s.error()));
  // The cap is housekeeping: the flow is saved, so a failure here must not fail the sign-in
  // (expired flows still go with the purge).
  if (auto s = store_.CapFlows(flow.binding_hash, flows_per_browser_, clock_.Now()); !s) {
    log::Warn("upstream.cap_failed", {{"error", s.error().detail}});
  }
  out.url = std::move(*url);
  return out;
}

Result<FinishedFlow> UpstreamFlows::Finish(std::string_view state, std::string_view code,
                                           std::string_view error,
                                           std::optional<std::string_view> iss,
                                           std::string_view binding_cookie) {
  if (state.empty() || state.size() > 256) {
    return Fail(UpstreamRefused("the answer carries no sign-in of ours", "callback without state"));
  }
  auto flow = store_.TakeFlow(TokenHash(state), clock_.Now());
  if (!flow) return Fail(std::move(flow.error()));
  if (!*flow) {
    return Fail(UpstreamRefused("the sign-in is unknown, expired or was already used",
                                "unknown or used state"));
  }
  // The state was taken: whatever happens next, it cannot be used again.
  if (binding_cookie.empty() || TokenHash(binding_cookie) != (*flow)->binding_hash) {
    return Fail(UpstreamRefused("the sign-in was started in another browser",
                                "binding cookie missing or different"));
  }
  OidcProvider* p = Find((*flow)->authenticator);
  if (p == nullptr) return Fail(UpstreamRefused("the identity provider is no longer configured"));
  if (!error.empty()) {
    return Fail(UpstreamRefused("the identity provider answered " + SafeToken(error),
                                "provider error " + SafeToken(error)));
  }
  // RFC 9207 §2.4: when the provider names itself, it must be the one we sent the user to.
  if (iss && *iss != p->settings().issuer) {
    return Fail(UpstreamRefused("the answer came from another issuer",
                                "iss parameter '" + std::string(iss->substr(0, 256)) + "'"));
  }
  if (!iss) {
    auto d = p->Discover();
    if (!d) return Fail(std::move(d.error()));
    if (d->iss_parameter_supported) {
      return Fail(UpstreamRefused("the answer does not name its issuer",
                                  "iss parameter missing though the provider sends it"));
    }
  }
  if (code.empty() || code.size() > 2048) {
    return Fail(UpstreamRefused("the answer carries no code", "callback without code"));
  }
  auto identity = p->Redeem(code, (*flow)->code_verifier, RedirectUri(*p), (*flow)->nonce);
  if (!identity) return Fail(std::move(identity.error()));
  auto user = MapAccount(*p, *identity);
  if (!user) return Fail(std::move(user.error()));
  FinishedFlow out{(*flow)->authenticator, std::move((*flow)->request), std::move(*user)};
  if (const auto* at = identity->claims.if_contains("auth_time"); at != nullptr) {
    if (at->is_int64()) out.auth_time = at->as_int64();
    if (at->is_uint64() && at->as_uint64() <= INT64_MAX) out.auth_time = int64_t(at->as_uint64());
    if (at->is_double()) out.auth_time = int64_t(at->as_double());
  }
  out.started_at = (*flow)->expires_at - kFlowTtl;
  return out;
}

Status UpstreamFlows::CheckAuthTime(const FinishedFlow& flow, std::optional<int64_t> max_age,
                                    bool prompt_login) const {
  if (!max_age && !prompt_login) return {};
  const OidcProvider* p = Find(flow.authenticator);
  const int64_t skew = p != nullptr ? p->settings().clock_skew_s : 0;
  if (!flow.auth_time) {
    return Fail(UpstreamRefused("the identity provider did not say when the user signed in",
                                "auth_time missing though max_age or prompt=login was asked"));
  }
  if (max_age && clock_.Now() - *flow.auth_time > *max_age + skew) {
    return Fail(UpstreamRefused("the sign-in at the identity provider is older than allowed",
                                "upstream auth_time older than max_age"));
  }
  if (prompt_login && *flow.auth_time + skew < flow.started_at) {
    return Fail(UpstreamRefused("the identity provider did not ask the user to sign in again",
                                "upstream auth_time before the flow started (prompt=login)"));
  }
  return {};
}

Result<AuthenticatedUser> UpstreamFlows::MapAccount(const OidcProvider& provider,
                                                    const UpstreamIdentity& id) {
  const UpstreamSettings& s = provider.settings();
  const int64_t now = clock_.Now();
  std::string note;  // for the log
  // An account with an active second factor is not linked (by e-mail or by claim). Checked in
  // a transaction of its own first (the second-factor store is not read inside another
  // transaction); the callback refuses such accounts anyway, so a factor enrolled meanwhile
  // gains nothing.
  const std::string link_value = LinkValue(s, id.claims);
  if (has_factor_ && !link_value.empty()) {
    auto candidate = db_.TransactValue<std::string>(
        "upstream.link_probe", [&](store::Tx& tx) -> Result<std::string> {
          auto link = store_.FindLink(tx, s.name, id.subject);
          if (!link) return Fail(std::move(link.error()));
          if (*link) return std::string();  // already linked: no new link is made
          auto ids = LinkCandidates(tx, store_, users_, s, link_value);
          if (!ids) return Fail(std::move(ids.error()));
          return ids->size() == 1 ? ids->front() : std::string();
        });
    if (!candidate) return Fail(std::move(candidate.error()));
    if (!candidate->empty()) {
      auto has = has_factor_(*candidate);
      if (!has) return Fail(std::move(has.error()));
      if (*has) {
        return Fail(UpstreamRefused("accounts with a second factor are never linked",
                                    "link to " + *candidate + " refused: second factor"));
      }
    }
  }
  auto result = db_.TransactValue<AuthenticatedUser>(
      "upstream.account", [&](store::Tx& tx) -> Result<AuthenticatedUser> {
        auto link = store_.FindLink(tx, s.name, id.subject);
        if (!link) return Fail(std::move(link.error()));
        if (*link) {
          auto u = users_.FindForUpdate(tx, (*link)->user_id);
          if (!u) return Fail(std::move(u.error()));
          if (!*u) return Fail(UpstreamRefused("the linked account no longer exists"));
          User user = std::move(**u);
          if (user.locked) return Fail(UpstreamRefused("the account is locked", user.user_id));
          if ((*link)->created) {
            std::string roles = RolesFor(s, id.claims);
            if (roles != user.roles) {
              user.roles = roles;
              user.updated_at = now;
              if (auto st = users_.Update(tx, user); !st) return Fail(std::move(st.error()));
            }
          }
          note = "linked";
          return AuthenticatedUser{user.user_id, user.user_type, user.roles, true};
        }
        if (!link_value.empty()) {
          auto ids = LinkCandidates(tx, store_, users_, s, link_value);
          if (!ids) return Fail(std::move(ids.error()));
          if (ids->size() > 1) {  // only e-mail addresses can match several accounts
            return Fail(UpstreamRefused("several accounts have this e-mail address"));
          }
          if (ids->size() == 1) {
            auto u = users_.FindForUpdate(tx, ids->front());
            if (!u) return Fail(std::move(u.error()));
            if (!*u) return Fail(UpstreamRefused("the account no longer exists"));
            const User& user = **u;
            // Admin rights come from the type or the `admin` role (Trust I): neither is linked.
            if (user.user_type == "admin" || HasRole(user.roles, "admin")) {
              return Fail(UpstreamRefused("administrator accounts are never linked",
                                          "link to admin " + user.user_id + " refused"));
            }
            if (user.locked) return Fail(UpstreamRefused("the account is locked", user.user_id));
            auto added = store_.InsertLink(tx, Link{s.name, id.subject, user.user_id, false, now});
            if (!added) return Fail(std::move(added.error()));
            if (!*added) return Fail(UpstreamRefused("the sign-in raced another one; try again"));
            note = s.link == LinkRule::kEmail ? "linked by email" : "linked by " + s.link_claim;
            return AuthenticatedUser{user.user_id, user.user_type, user.roles, true};
          }
        }
        if (!s.create_users) {
          return Fail(UpstreamRefused("there is no account here for this identity",
                                      "no link, create_users off"));
        }
        User user;
        user.user_id = NewUserId(s, id.subject);
        auto existing = users_.Find(tx, user.user_id);
        if (!existing) return Fail(std::move(existing.error()));
        if (*existing) {
          // Never take over an account that happens to have the id (created by an admin).
          return Fail(UpstreamRefused("an account with this identity's name exists already",
                                      "user " + user.user_id + " exists without a link"));
        }
        user.user_type = s.user_type;
        user.first_name = ClaimStr(id.claims, "given_name", 32);
        user.last_name = ClaimStr(id.claims, "family_name", 32);
        user.roles = RolesFor(s, id.claims);
        user.created_at = now;
        user.updated_at = now;
        // The e-mail address when the provider verified it and no one has it here; else a
        // unique address that cannot receive mail (RFC 2606 .invalid): the column is required.
        const std::string email = VerifiedEmail(id.claims);
        bool use_email = !email.empty() && email.size() <= 64;
        if (use_email) {
          auto taken = users_.EmailTaken(tx, email, {});
          if (!taken) return Fail(std::move(taken.error()));
          use_email = !*taken;
        }
        user.email =
            use_email ? email
                      : TokenHash(s.name + "\n" + id.subject).substr(0, 22) + "@upstream.invalid";
        user.email_verified = use_email;
        // Not a password hash: no password verifies against it.
        user.password_hash = "!upstream:" + s.name;
        if (auto st = users_.Insert(tx, user); !st) return Fail(std::move(st.error()));
        auto added = store_.InsertLink(tx, Link{s.name, id.subject, user.user_id, true, now});
        if (!added) return Fail(std::move(added.error()));
        if (!*added) return Fail(UpstreamRefused("the sign-in raced another one; try again"));
        note = "created";
        return AuthenticatedUser{user.user_id, user.user_type, user.roles, true};
      });
  if (result) {
    log::Info("upstream.account",
              {{"authenticator", s.name}, {"user_id", result->user_id}, {"how", note}});
  }
  return result;
}

Status UpstreamFlows::Purge() { return store_.PurgeFlows(clock_.Now()); }

}  // namespace portcullis::oauth::upstream
