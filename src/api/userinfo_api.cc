#include "api/userinfo_api.h"

#include <strings.h>

#include <boost/json/serialize.hpp>
#include <memory>
#include <optional>
#include <string>

#include "http/message.h"
#include "http/router.h"
#include "oauth/dpop/dpop_proof.h"
#include "oauth/oidc/user_claims.h"
#include "oauth/token/claims.h"
#include "oauth/token/params.h"
#include "oauth/token/token_service.h"
#include "oauth/user/user_store.h"
#include "verify/sender.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

constexpr std::string_view kRealm = "Bearer realm=\"userinfo\"";

std::string Quoted(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '"' && c != '\\') out += c;
  }
  return out;
}

// RFC 6750 §3: the error in the body (RFC 6749 style) and in WWW-Authenticate.
Response Challenge(int status, std::string_view error, std::string description,
                   std::string_view scope = {}) {
  Response r = http::RenderError(Error::OAuth(status, std::string(error), description));
  std::string challenge(kRealm);
  challenge +=
      ", error=\"" + std::string(error) + "\", error_description=\"" + Quoted(description) + "\"";
  if (!scope.empty()) challenge += ", scope=\"" + Quoted(scope) + "\"";
  r.With("WWW-Authenticate", challenge);
  return r;
}

Response InvalidToken(std::string description) {
  return Challenge(401, "invalid_token", std::move(description));
}

bool IsForm(const Request& req) {
  auto ct = req.Header("content-type");
  if (!ct) return false;
  std::string_view v = *ct;
  static constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  return v.size() >= kForm.size() && strncasecmp(v.data(), kForm.data(), kForm.size()) == 0 &&
         (v.size() == kForm.size() || v[kForm.size()] == ';' || v[kForm.size()] == ' ');
}

// The access token of the request and how it came (RFC 9449 §7: the DPoP scheme with its proofs,
// every DPoP field joined by "," so that several are refused), or the response that refuses it.
struct Presented {
  std::string token;
  bool dpop = false;
  std::optional<std::string> proofs;
  std::string method;
  std::string certificate;  // DER, empty without one
};

std::variant<Presented, Response> TokenOf(const Request& req, bool post) {
  Presented out;
  out.method = req.method;
  out.certificate = req.client_cert;
  if (req.QueryParam("access_token")) {
    return Challenge(400, "invalid_request",
                     "The access token is not accepted in the query (RFC 6750 §2.3).");
  }
  std::optional<std::string> found;
  if (auto h = req.Header("authorization")) {
    std::string_view v = *h;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.size() >= 5 && strncasecmp(v.data(), "dpop ", 5) == 0) {
      out.dpop = true;
      v.remove_prefix(5);
    } else if (v.size() < 7 || strncasecmp(v.data(), "bearer ", 7) != 0) {
      return Challenge(401, "invalid_token",
                       "The Authorization header is not a Bearer or DPoP token.");
    } else {
      v.remove_prefix(7);
    }
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty()) return Challenge(401, "invalid_token", "The bearer token is empty.");
    found = std::string(v);
  }
  // A POST body that is not a form carries no token (§2.2); with the header it is ignored.
  if (post && !req.body.empty() && (IsForm(req) || !found)) {
    if (!IsForm(req)) {
      return Challenge(400, "invalid_request",
                       "The body must be application/x-www-form-urlencoded.");
    }
    auto form = oauth::Params::FromForm(req.body);
    if (!form) return Challenge(400, "invalid_request", "The form is malformed.");
    if (form->Has("access_token")) {
      // RFC 6750 §2: a client MUST NOT use more than one method.
      if (found) {
        return Challenge(400, "invalid_request", "The access token was sent in more than one way.");
      }
      if (form->Value("access_token").empty()) {
        return Challenge(401, "invalid_token", "The bearer token is empty.");
      }
      found = std::string(form->Value("access_token"));
    }
  }
  if (!found) {
    // §3.1: a request without authentication gets the challenge without an error code.
    Response r = http::RenderError(
        Error::OAuth(401, "invalid_request", "An access token is required (RFC 6750)."));
    r.With("WWW-Authenticate", std::string(kRealm));
    return r;
  }
  if (out.dpop) {
    std::string proofs;
    int n = 0;
    for (const auto& [name, value] : req.headers) {
      if (name == "dpop") {
        if (n++ > 0) proofs += ',';
        proofs += value;
      }
    }
    if (n > 0) out.proofs = std::move(proofs);
  }
  out.token = std::move(*found);
  return out;
}

struct State {
  explicit State(UserinfoBinding b) : binding(std::move(b)), replay(kReplayCapacity) {}
  static constexpr size_t kReplayCapacity = 100000;
  UserinfoBinding binding;
  verify::ReplayCache replay;
};

Response Answer(oauth::TokenService& tokens, oauth::UserStore& users, State& state,
                const Presented& presented) {
  const std::string& token = presented.token;
  auto claims = tokens.BearerClaims(token);
  if (!claims) return InvalidToken(claims.error().description);
  // RFC 9449 §7 / RFC 8705 §3: a sender-constrained token is accepted only from its holder; an
  // unbound token sent with the DPoP scheme is refused too. Unbound Bearer tokens skip this.
  if (presented.dpop || claims->contains("cnf")) {
    verify::Presented p;
    p.dpop_scheme = presented.dpop;
    if (presented.proofs) p.proof = *presented.proofs;
    p.method = presented.method;
    p.htu = state.binding.url;
    p.htu_alias = state.binding.alias_url;
    if (!presented.certificate.empty()) p.certificate = presented.certificate;
    // FAPI 2.0 §5.4.1: a fapi2 client's proofs are PS256, ES256 or EdDSA here too, as at the
    // token endpoint (the token's client_id names the client).
    verify::DpopPolicy policy = state.binding.policy;
    policy.algorithms =
        tokens.ProofAlgorithmsFor(oauth::StringClaim(*claims, "client_id"), policy.algorithms);
    if (auto refused = verify::CheckSenderConstraint(*claims, token, p, policy,
                                                     state.binding.clock.Now(), state.replay)) {
      Response r = http::RenderError(
          Error::OAuth(401, refused->error, refused->description, refused->reason));
      r.With("WWW-Authenticate", verify::Challenge(*refused, policy));
      return r;
    }
    // RFC 9449 §9: with server nonces on (dpop.require_nonce), the proof must carry one here
    // too, as at the token endpoint; checked last, so every other fault of the proof is
    // reported first. The caller adds the DPoP-Nonce to use.
    if (presented.dpop && tokens.dpop().nonces_required()) {
      const std::string_view proof = presented.proofs ? std::string_view(*presented.proofs) : "";
      const std::string_view headers[] = {proof};
      auto checked = tokens.dpop().Validate(
          headers, {presented.method, state.binding.url, token, state.binding.alias_url});
      if (!checked) {
        verify::SenderRefusal refusal{true,
                                      checked.error().oauth_error == oauth::dpop::kUseNonce
                                          ? std::string(oauth::dpop::kUseNonce)
                                          : "invalid_dpop_proof",
                                      "dpop_nonce", checked.error().description};
        Response r = http::RenderError(
            Error::OAuth(401, refusal.error, refusal.description, refusal.reason));
        r.With("WWW-Authenticate", verify::Challenge(refusal, policy));
        return r;
      }
    }
  }
  // Only tokens issued for a user: a client_credentials token has no one to describe.
  std::string user_id = oauth::StringClaim(*claims, "user_id");
  if (user_id.empty()) return InvalidToken("The access token was not issued for a user.");
  auto scope = oauth::ScopeClaim(*claims);
  if (std::find(scope.begin(), scope.end(), "openid") == scope.end()) {
    return Challenge(403, "insufficient_scope", "The access token's scope lacks openid.", "openid");
  }
  // A user signed in by a configured authenticator (LDAP) is not the user store's: a same-named
  // local account is someone else, whose profile is never theirs. The authenticator holds no
  // profile claims, so such a user gets `sub` alone.
  if (!oauth::StringClaim(*claims, oauth::kUserRealmClaim).empty()) {
    json::object out;
    out["sub"] = user_id;
    Response r = Response::Json(200, json::serialize(out));
    r.With("Cache-Control", "no-store").With("Pragma", "no-cache");
    return r;
  }
  // Read again: a user deleted or locked since the token was issued gets nothing.
  auto user = users.Find(user_id);
  if (!user) return http::RenderError(user.error());
  if (!*user || (*user)->locked) return InvalidToken("The user may no longer sign in.");
  std::vector<std::string> requested;
  if (const auto* names = claims->if_contains(oauth::oidc::kUserinfoClaimsClaim);
      names && names->is_array()) {
    for (const auto& n : names->get_array()) {
      if (n.is_string()) requested.emplace_back(n.get_string());
    }
  }
  const auto& u = **user;
  json::object out = oauth::oidc::UserClaims(
      {u.user_id, u.first_name, u.last_name, u.email, u.updated_at, u.email_verified,
       u.phone_number, u.phone_number_verified, u.address},
      scope, requested);
  // The same sub as the user's ID tokens: the user id, stable per user.
  out["sub"] = user_id;
  Response r = Response::Json(200, json::serialize(out));
  r.With("Cache-Control", "no-store").With("Pragma", "no-cache");
  return r;
}

}  // namespace

void RegisterUserinfoApi(http::Router& router, oauth::TokenService& tokens, oauth::UserStore& users,
                         UserinfoBinding binding) {
  auto state = std::make_shared<State>(std::move(binding));
  for (bool post : {false, true}) {
    router.Add(post ? "POST" : "GET", "/oauth2/userinfo", "token",
               [&tokens, &users, state, post](Request& req) -> Reply {
                 auto token = TokenOf(req, post);
                 if (auto* refused = std::get_if<Response>(&token)) return std::move(*refused);
                 // Reference tokens and the user read need the store.
                 return http::Blocking(
                     [&tokens, &users, state, t = std::get<Presented>(std::move(token))] {
                       Response r = Answer(tokens, users, *state, t);
                       // RFC 9449 §8, §9: the nonce for the next proof, as the token endpoint
                       // hands it out with every answer.
                       if (tokens.dpop().nonces_required()) {
                         r.With("DPoP-Nonce", tokens.dpop().CurrentNonce());
                       }
                       return r;
                     });
               });
  }
}

}  // namespace portcullis::api
