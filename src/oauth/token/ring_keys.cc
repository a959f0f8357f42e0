#include "oauth/token/ring_keys.h"

#include <strings.h>

#include <optional>
#include <string>

#include "jose/signer.h"
#include "jose/verifier.h"
#include "oauth/oidc/id_token.h"

namespace portcullis::oauth {

struct RingKeys::Prepared {
  std::shared_ptr<const KeyRing> ring;
  std::optional<jose::Signer> access;   // typ at+jwt (RFC 9068 §2.1)
  std::optional<jose::Signer> plain;    // typ JWT (light-4j profile)
  std::optional<jose::Signer> payload;  // typ payload+jwt (signed payloads, not access tokens)
  std::unique_ptr<jose::Verifier> verifier;
};

std::shared_ptr<const RingKeys::Prepared> RingKeys::Current() const {
  auto ring = keys_.ring();
  auto p = prepared_.load(std::memory_order_acquire);
  if (p && p->ring == ring) return p;
  // The ring changed (rotation): prepare once; a racing thread may prepare too, harmlessly.
  auto fresh = std::make_shared<Prepared>();
  fresh->ring = ring;
  if (const jose::Signer* s = ring->signer()) {
    auto a = jose::Signer::Create(s->key(), s->alg(), s->kid(), "at+jwt");
    auto j = jose::Signer::Create(s->key(), s->alg(), s->kid(), "JWT");
    auto d = jose::Signer::Create(s->key(), s->alg(), s->kid(), std::string(kSignedPayloadTyp));
    if (a) fresh->access.emplace(std::move(*a));
    if (j) fresh->plain.emplace(std::move(*j));
    if (d) fresh->payload.emplace(std::move(*d));
  }
  jose::VerifyOptions options;
  options.leeway_seconds = leeway_;
  fresh->verifier = std::make_unique<jose::Verifier>(ring->verify_keys(), options, clock_);
  std::shared_ptr<const Prepared> out = std::move(fresh);
  prepared_.store(out, std::memory_order_release);
  return out;
}

Result<std::string> RingKeys::Sign(std::string_view payload_json, std::string_view typ) const {
  auto p = Current();
  const auto& signer = typ == "at+jwt"            ? p->access
                       : typ == kSignedPayloadTyp ? p->payload
                                                  : p->plain;
  if (!signer) return Fail(Error::Unavailable("no current signing key"));
  return signer->Sign(payload_json);
}

std::optional<jose::Alg> RingKeys::AccessTokenAlg() const {
  auto p = Current();
  if (!p->access) return std::nullopt;
  return p->access->alg();
}

Result<boost::json::object> RingKeys::Verify(std::string_view jwt) const {
  auto p = Current();
  auto v = p->verifier->Verify(jwt);
  if (!v) return Fail(jose::ToError(v.error()));
  // Only what we issue as access tokens: at+jwt (RFC 9068 §2.1) or JWT (light-4j profile; no
  // typ: tokens of light-oauth2's keys). A signed payload (payload+jwt) carries our signature
  // and iss but is not one (RFC 8725 §3.11: explicit typing keeps kinds of JWT apart).
  if (const auto* typ = v->header.if_contains("typ")) {
    std::string t = typ->is_string() ? std::string(typ->get_string()) : std::string("?");
    if (strncasecmp(t.c_str(), "application/", 12) == 0) t.erase(0, 12);
    if (strcasecmp(t.c_str(), "at+jwt") != 0 && strcasecmp(t.c_str(), "JWT") != 0) {
      return Fail(
          Error::Status("ERR10000", "The token is not an access token.", "typ " + t.substr(0, 32)));
    }
  }
  // Never an ID token (oauth/oidc/id_token.h): it carries the typ "ID" claim and no client_id,
  // which every access token we issue has (RFC 9068 §2.2; light-4j's profile too).
  const auto* marker = v->payload.if_contains(oidc::kIdTokenMarkerClaim);
  if ((marker && marker->is_string() && marker->get_string() == oidc::kIdTokenMarker) ||
      !v->payload.contains("client_id")) {
    return Fail(Error::Status("ERR10000", "The token is not an access token.", "an ID token"));
  }
  return std::move(v->payload);
}

Result<std::string> RingKeys::SignIdToken(std::string_view payload_json, jose::Alg alg) const {
  // The ring's signers carry typ JWT, the ID token's (id_token.h). Not the access-token path.
  auto ring = keys_.ring();
  const jose::Signer* s = ring->signer(alg);
  if (!s) {
    return Fail(
        Error::Unavailable("no current " + std::string(jose::AlgName(alg)) + " key for ID tokens"));
  }
  return s->Sign(payload_json);
}

}  // namespace portcullis::oauth
