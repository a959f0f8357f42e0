#pragma once
// TokenKeys over the KeyManager's ring: signs with the current key, verifies against every
// published key. Signers (one per JOSE typ) and the verifier are built once per ring and
// swapped atomically, so signing and verifying take no lock.

#include <atomic>
#include <memory>

#include "common/clock.h"
#include "oauth/key/key_manager.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {

class RingKeys final : public TokenKeys {
 public:
  RingKeys(const KeyManager& keys, const Clock& clock, int64_t leeway_seconds = 60)
      : keys_(keys), clock_(clock), leeway_(leeway_seconds) {}

  Result<std::string> Sign(std::string_view payload_json, std::string_view typ) const override;
  Result<boost::json::object> Verify(std::string_view jwt) const override;
  Result<std::string> SignIdToken(std::string_view payload_json, jose::Alg alg) const override;
  std::optional<jose::Alg> AccessTokenAlg() const override;
  std::shared_ptr<const void> Epoch() const override { return keys_.ring(); }

 private:
  struct Prepared;
  std::shared_ptr<const Prepared> Current() const;

  const KeyManager& keys_;
  const Clock& clock_;
  int64_t leeway_;
  mutable std::atomic<std::shared_ptr<const Prepared>> prepared_;
};

}  // namespace portcullis::oauth
