#include "oauth/token/ring_keys.h"

#include <optional>

#include "jose/signer.h"
#include "jose/verifier.h"

namespace portcullis::oauth {

struct RingKeys::Prepared {
  std::shared_ptr<const KeyRing> ring;
  std::optional<jose::Signer> access;  // typ at+jwt (RFC 9068 §2.1)
  std::optional<jose::Signer> plain;   // typ JWT (light-4j profile, signed payloads)
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
    if (a) fresh->access.emplace(std::move(*a));
    if (j) fresh->plain.emplace(std::move(*j));
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
  const auto& signer = typ == "at+jwt" ? p->access : p->plain;
  if (!signer) return Fail(Error::Unavailable("no current signing key"));
  return signer->Sign(payload_json);
}

Result<boost::json::object> RingKeys::Verify(std::string_view jwt) const {
  auto p = Current();
  auto v = p->verifier->Verify(jwt);
  if (!v) return Fail(jose::ToError(v.error()));
  return std::move(v->payload);
}

}  // namespace portcullis::oauth
