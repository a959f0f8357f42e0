#pragma once
// An immutable snapshot of the published signing keys: the Signer of the current key, the JWKS
// document (bytes and ETag precomputed), the certificate per kid and the verification KeySet.
//
// Built by KeyManager whenever the stored keys change and handed out as
// std::shared_ptr<const KeyRing>: readers (token issuing, /oauth2/keys, /oauth2/key/{kid},
// introspection) take a reference and use it without locks for as long as they need.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "jose/key_set.h"
#include "jose/signer.h"
#include "oauth/key/master_key.h"
#include "oauth/key/signing_key.h"

namespace portcullis::oauth {

class KeyRing {
 public:
  // From every stored record; retired and revoked ones are left out. Decrypts the current key
  // only. Fails when a published record cannot be read or the current key cannot be opened
  // (e.g. a wrong master key): the caller keeps its previous ring.
  // `primary`: the algorithm access tokens are signed with (keys.algorithm); signer() is its
  // current key. Without it (or without a current key of it), the current key activated last.
  static Result<std::shared_ptr<const KeyRing>> Build(const std::vector<SigningKeyRecord>& records,
                                                      const MasterKey& master,
                                                      std::optional<jose::Alg> primary = {});
  // No keys at all (before the first successful build).
  static std::shared_ptr<const KeyRing> Empty();

  // Null when there is no current key.
  const jose::Signer* signer() const { return signer_ ? &*signer_ : nullptr; }
  // The current key of one algorithm (ID tokens: RS256 and what a client registered, OIDC Core
  // §15.1); null when the ring holds none. The KeyManager keeps one per managed algorithm.
  const jose::Signer* signer(jose::Alg alg) const;
  const std::string& current_kid() const { return current_kid_; }

  // RFC 7517 §5 JWK Set of every published key, current first, then next, then previous.
  const std::string& jwks_json() const { return jwks_json_; }
  // Strong ETag: quoted base64url(SHA-256(jwks_json)).
  const std::string& jwks_etag() const { return jwks_etag_; }

  // Certificate PEM of a published key; null for unknown, retired or revoked kids.
  const std::string* CertificatePem(std::string_view kid) const;
  // Published keys, for verifying our own tokens (introspection, deref).
  const std::shared_ptr<const jose::KeySet>& verify_keys() const { return verify_keys_; }
  // Published records, current first (private key fields cleared).
  const std::vector<SigningKeyRecord>& published() const { return published_; }

 private:
  KeyRing() = default;

  std::optional<jose::Signer> signer_;
  std::vector<jose::Signer> signers_;  // one current per algorithm
  std::string current_kid_;
  std::string jwks_json_;
  std::string jwks_etag_;
  std::map<std::string, std::string, std::less<>> certificates_;
  std::shared_ptr<const jose::KeySet> verify_keys_;
  std::vector<SigningKeyRecord> published_;
};

}  // namespace portcullis::oauth
