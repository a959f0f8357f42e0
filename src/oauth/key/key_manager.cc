#include "oauth/key/key_manager.h"

#include <algorithm>
#include <charconv>

#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "jose/key.h"

namespace portcullis::oauth {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

// Records in `state` (of `alg` when given), newest (by activate_at, then created_at) first.
std::vector<const SigningKeyRecord*> InState(const std::vector<SigningKeyRecord>& records,
                                             KeyState state,
                                             std::optional<jose::Alg> alg = std::nullopt) {
  std::vector<const SigningKeyRecord*> out;
  for (const auto& r : records) {
    if (r.state == state && (!alg || r.alg == *alg)) out.push_back(&r);
  }
  std::ranges::sort(out, [](const auto* a, const auto* b) {
    if (a->activate_at != b->activate_at) return a->activate_at > b->activate_at;
    return a->created_at > b->created_at;
  });
  return out;
}

// A lost compare-and-set means another instance made the same move: not an error.
Status IgnoreConflict(Status s) {
  if (!s && IsKeyConflict(s.error())) {
    log::Info("signing_key_conflict", {{"detail", s.error().detail}});
    return {};
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<KeyManager>> KeyManager::Create(KeyStore& store, const Clock& clock,
                                                       Random& random, MasterKey master,
                                                       KeyManagerConfig config) {
  auto bad = [](std::string what) { return Fail(Error::Internal("key manager config: " + what)); };
  if (!config.provider_id.empty()) {
    if (config.provider_id.size() > 2 || !AllDigits(config.provider_id)) {
      return bad("provider_id must be one or two digits");
    }
    if (config.provider_id.size() == 1) config.provider_id = "0" + config.provider_id;
    if (config.provider_id == "00") return bad("provider_id 00 is reserved for federation");
  }
  if (config.publish_ahead_seconds < 0 || config.leeway_seconds < 0) {
    return bad("publish_ahead and leeway must not be negative");
  }
  if (config.rotation_interval_seconds <= config.publish_ahead_seconds) {
    return bad("rotation_interval must be longer than publish_ahead");
  }
  if (config.max_token_lifetime_seconds <= 0 || config.certificate_lifetime_seconds <= 0) {
    return bad("lifetimes must be positive");
  }
  return std::unique_ptr<KeyManager>(
      new KeyManager(store, clock, random, std::move(master), std::move(config)));
}

KeyManager::KeyManager(KeyStore& store, const Clock& clock, Random& random, MasterKey master,
                       KeyManagerConfig config)
    : store_(store),
      clock_(clock),
      random_(random),
      master_(std::move(master)),
      config_(std::move(config)),
      ring_(KeyRing::Empty()) {}

std::string KeyManager::NextKid(const std::vector<SigningKeyRecord>& existing) const {
  const std::string& prefix = config_.provider_id;
  uint64_t highest = 99;
  for (const auto& r : existing) {
    std::string_view kid = r.kid;
    if (!kid.starts_with(prefix)) continue;
    kid.remove_prefix(prefix.size());
    uint64_t n = 0;
    if (!AllDigits(kid) || kid.size() > 15) continue;
    std::from_chars(kid.data(), kid.data() + kid.size(), n);
    highest = std::max(highest, n);
  }
  return prefix + std::to_string(highest + 1);
}

std::vector<jose::Alg> KeyManager::Managed() const {
  std::vector<jose::Alg> out{config_.alg};
  for (jose::Alg a : config_.extra_algs) {
    if (std::ranges::find(out, a) == out.end()) out.push_back(a);
  }
  return out;
}

Result<std::string> KeyManager::CreateKey(std::vector<SigningKeyRecord>& existing, KeyState state,
                                          int64_t now, jose::Alg alg) {
  auto key = jose::Key::Generate(alg);
  if (!key) return Fail(std::move(key.error()));
  SigningKeyRecord r;
  r.kid = NextKid(existing);
  r.alg = alg;
  r.state = state;
  r.created_at = now;
  r.publish_at = now;
  r.activate_at = state == KeyState::kCurrent ? now : now + config_.publish_ahead_seconds;
  auto pem = key->PrivatePem();
  if (!pem) return Fail(std::move(pem.error()));
  auto sealed = SealKey(*pem, r.kid, master_, random_);
  if (!sealed) return Fail(std::move(sealed.error()));
  r.private_key_encrypted = std::move(*sealed);
  auto jwk = key->ToPublicJwk(r.kid, alg);
  if (!jwk) return Fail(std::move(jwk.error()));
  r.public_jwk = boost::json::serialize(*jwk);
  auto cert = key->SelfSignedCertificatePem(config_.certificate_common_name + " " + r.kid, now,
                                            now + config_.certificate_lifetime_seconds, random_);
  if (!cert) return Fail(std::move(cert.error()));
  r.certificate_pem = std::move(*cert);
  if (auto created = store_.Create(r); !created) return Fail(std::move(created.error()));
  log::Info("signing_key_created", {{"kid", r.kid},
                                    {"state", KeyStateName(state)},
                                    {"alg", jose::AlgName(alg)},
                                    {"activate_at", r.activate_at}});
  std::string kid = r.kid;
  r.private_key_encrypted.clear();
  existing.push_back(std::move(r));
  return kid;
}

Status KeyManager::Promote(const SigningKeyRecord& next, const SigningKeyRecord* current,
                           int64_t now) {
  // next -> current first: a reader in between sees two current keys, never none.
  if (auto s = store_.UpdateState(next.kid, {KeyState::kNext, KeyState::kCurrent, {}, {}}); !s) {
    return s;
  }
  if (now < next.activate_at) {
    log::Warn("signing_key_promoted_early",
              {{"kid", next.kid}, {"seconds_early", next.activate_at - now}});
  }
  log::Info("signing_key_current", {{"kid", next.kid}});
  if (current == nullptr) return {};
  int64_t expires = now + config_.max_token_lifetime_seconds + config_.leeway_seconds;
  return IgnoreConflict(
      store_.UpdateState(current->kid, {KeyState::kCurrent, KeyState::kPrevious, now, expires}));
}

Status KeyManager::Tick() {
  std::lock_guard lock(write_mu_);
  auto records = store_.List();
  if (!records) return Fail(std::move(records.error()));
  const int64_t now = clock_.Now();

  for (const auto* r : InState(*records, KeyState::kPrevious)) {
    if (r->expires_at > now) continue;
    if (auto s = IgnoreConflict(
            store_.UpdateState(r->kid, {KeyState::kPrevious, KeyState::kRetired, {}, {}}));
        !s) {
      return s;
    }
    log::Info("signing_key_retired", {{"kid", r->kid}});
  }

  for (jose::Alg alg : Managed()) {
    if (auto s = TickAlg(*records, alg, now); !s) return s;
  }
  // A current key of an algorithm no longer configured stops signing once `alg` has one; it
  // stays published as previous until the tokens it signed have expired.
  auto managed = Managed();
  if (!InState(*records, KeyState::kCurrent, config_.alg).empty()) {
    for (const auto* r : InState(*records, KeyState::kCurrent)) {
      if (std::ranges::find(managed, r->alg) != managed.end()) continue;
      int64_t expires = now + config_.max_token_lifetime_seconds + config_.leeway_seconds;
      if (auto s = IgnoreConflict(
              store_.UpdateState(r->kid, {KeyState::kCurrent, KeyState::kPrevious, now, expires}));
          !s) {
        return s;
      }
    }
  }
  return Publish();
}

Status KeyManager::TickAlg(std::vector<SigningKeyRecord>& records, jose::Alg alg, int64_t now) {
  auto currents = InState(records, KeyState::kCurrent, alg);
  auto nexts = InState(records, KeyState::kNext, alg);
  // Leftovers of an interrupted promotion (two currents) or of concurrent rotations (two nexts).
  for (size_t i = 1; i < currents.size(); ++i) {
    int64_t expires = now + config_.max_token_lifetime_seconds + config_.leeway_seconds;
    if (auto s = IgnoreConflict(store_.UpdateState(
            currents[i]->kid, {KeyState::kCurrent, KeyState::kPrevious, now, expires}));
        !s) {
      return s;
    }
  }
  for (size_t i = 1; i < nexts.size(); ++i) {
    if (auto s = IgnoreConflict(
            store_.UpdateState(nexts[i]->kid, {KeyState::kNext, KeyState::kRetired, now, now}));
        !s) {
      return s;
    }
  }
  const SigningKeyRecord* current = currents.empty() ? nullptr : currents.front();
  const SigningKeyRecord* next = nexts.empty() ? nullptr : nexts.front();

  Status step;
  if (current == nullptr && next != nullptr) {
    step = IgnoreConflict(Promote(*next, nullptr, now));
  } else if (current == nullptr) {
    // First start (or every key revoked): nothing can have cached a kid we have not created.
    auto kid = CreateKey(records, KeyState::kCurrent, now, alg);
    if (!kid) step = IgnoreConflict(Fail(std::move(kid.error())));
  } else if (next != nullptr && next->activate_at <= now) {
    step = IgnoreConflict(Promote(*next, current, now));
  } else if (next == nullptr && now >= current->activate_at + config_.rotation_interval_seconds -
                                           config_.publish_ahead_seconds) {
    auto kid = CreateKey(records, KeyState::kNext, now, alg);
    if (!kid) step = IgnoreConflict(Fail(std::move(kid.error())));
  }
  return step;
}

Result<std::string> KeyManager::Rotate() {
  std::lock_guard lock(write_mu_);
  auto records = store_.List();
  if (!records) return Fail(std::move(records.error()));
  const int64_t now = clock_.Now();
  std::string primary_kid;
  for (jose::Alg alg : Managed()) {
    for (const auto* r : InState(*records, KeyState::kNext, alg)) {
      // It never signed, so it can leave the JWKS at once.
      if (auto s = IgnoreConflict(
              store_.UpdateState(r->kid, {KeyState::kNext, KeyState::kRetired, now, now}));
          !s) {
        return Fail(std::move(s.error()));
      }
    }
    auto kid = CreateKey(*records, KeyState::kNext, now, alg);
    if (!kid) return kid;
    if (primary_kid.empty()) primary_kid = std::move(*kid);
  }
  if (auto s = Publish(); !s) return Fail(std::move(s.error()));
  return primary_kid;
}

Status KeyManager::Revoke(std::string_view kid) {
  std::lock_guard lock(write_mu_);
  auto records = store_.List();
  if (!records) return Fail(std::move(records.error()));
  const int64_t now = clock_.Now();
  auto it = std::ranges::find(*records, kid, &SigningKeyRecord::kid);
  if (it == records->end()) return Fail(KeyNotFound(kid));
  if (!IsPublished(it->state)) return {};
  const KeyState was = it->state;
  std::optional<int64_t> retired_at;
  if (it->retired_at == 0) retired_at = now;
  if (auto s = store_.UpdateState(kid, {was, KeyState::kRevoked, retired_at, now}); !s) return s;
  log::Warn("signing_key_revoked", {{"kid", std::string(kid)}, {"was", KeyStateName(was)}});
  const auto managed = Managed();
  if (was == KeyState::kCurrent && std::ranges::find(managed, it->alg) != managed.end()) {
    it->state = KeyState::kRevoked;
    const jose::Alg alg = it->alg;
    auto nexts = InState(*records, KeyState::kNext, alg);
    // Another instance that saw the revocation may have replaced the key first (its Tick):
    // a conflict means there is a signer already, as in Tick.
    if (!nexts.empty()) {
      if (auto s = IgnoreConflict(Promote(*nexts.front(), nullptr, now)); !s) return s;
    } else {
      auto created = CreateKey(*records, KeyState::kCurrent, now, alg);
      if (!created) {
        if (auto s = IgnoreConflict(Fail(std::move(created.error()))); !s) return s;
      }
    }
  }
  return Publish();
}

Status KeyManager::Reload() {
  std::lock_guard lock(write_mu_);
  return Publish();
}

Result<std::vector<SigningKeyRecord>> KeyManager::Records() const {
  auto records = store_.List();
  if (!records) return Fail(std::move(records.error()));
  for (auto& r : *records) r.private_key_encrypted.clear();
  return records;
}

Status KeyManager::Publish() {
  auto records = store_.List();
  if (!records) return Fail(std::move(records.error()));
  std::vector<const SigningKeyRecord*> published;
  for (const auto& r : *records) {
    if (IsPublished(r.state)) published.push_back(&r);
  }
  std::ranges::sort(published, {}, &SigningKeyRecord::kid);
  std::string fingerprint;
  for (const auto* r : published) {
    fingerprint += r->kid + ":" + std::string(KeyStateName(r->state)) + ":" +
                   std::to_string(r->activate_at) + ";";
  }
  if (fingerprint == published_fingerprint_) return {};
  auto ring = KeyRing::Build(*records, master_, config_.alg);
  if (!ring) {
    log::Error("signing_key_ring_build_failed", {{"detail", ring.error().detail}});
    return Fail(std::move(ring.error()));
  }
  ring_.store(std::move(*ring), std::memory_order_release);
  published_fingerprint_ = std::move(fingerprint);
  log::Info("signing_key_ring_published",
            {{"current", ring_.load()->current_kid()}, {"keys", uint64_t{published.size()}}});
  return {};
}

}  // namespace portcullis::oauth
