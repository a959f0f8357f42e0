#include "oauth/key/key_ring.h"

#include <openssl/evp.h>

#include <algorithm>

#include <boost/json.hpp>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

int Rank(KeyState s) {
  switch (s) {
    case KeyState::kCurrent:
      return 0;
    case KeyState::kNext:
      return 1;
    default:
      return 2;
  }
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace

std::shared_ptr<const KeyRing> KeyRing::Empty() {
  auto ring = std::shared_ptr<KeyRing>(new KeyRing());
  ring->jwks_json_ = R"({"keys":[]})";
  ring->jwks_etag_ = "\"" + Base64UrlEncode(Sha256(ring->jwks_json_)) + "\"";
  ring->verify_keys_ = std::make_shared<const jose::KeySet>();
  return ring;
}

Result<std::shared_ptr<const KeyRing>> KeyRing::Build(const std::vector<SigningKeyRecord>& records,
                                                      const MasterKey& master,
                                                      std::optional<jose::Alg> primary) {
  auto ring = std::shared_ptr<KeyRing>(new KeyRing());
  for (const auto& r : records) {
    if (IsPublished(r.state)) ring->published_.push_back(r);
  }
  // Current first, then next, then previous; newest first within a state.
  std::ranges::sort(ring->published_, [](const auto& a, const auto& b) {
    if (Rank(a.state) != Rank(b.state)) return Rank(a.state) < Rank(b.state);
    if (a.activate_at != b.activate_at) return a.activate_at > b.activate_at;
    return a.kid > b.kid;
  });

  auto keys = std::make_shared<jose::KeySet>();
  boost::json::array jwks;
  for (auto& r : ring->published_) {
    boost::system::error_code ec;
    boost::json::value jwk = boost::json::parse(r.public_jwk, ec);
    if (ec || !jwk.is_object()) return Fail(Error::Internal("key " + r.kid + ": bad public JWK"));
    auto key = jose::Key::FromJwk(jwk.get_object());
    if (!key) return Fail(Error::Internal("key " + r.kid + ": " + key.error().detail));
    if (auto added = keys->Add(r.kid, *key, r.alg); !added) return Fail(std::move(added.error()));
    jwks.push_back(std::move(jwk));
    ring->certificates_.emplace(r.kid, r.certificate_pem);

    // Several "current" records of one algorithm can exist for an instant while another
    // instance rotates; the one activated last signs.
    if (r.state == KeyState::kCurrent && !ring->signer(r.alg)) {
      auto pem = OpenKey(r.private_key_encrypted, r.kid, master);
      if (!pem) return Fail(Error::Internal("key " + r.kid + ": " + pem.error().detail));
      auto priv = jose::Key::FromPem(pem->Reveal());
      if (!priv) return Fail(Error::Internal("key " + r.kid + ": " + priv.error().detail));
      if (!priv->SamePublicKey(*key)) {
        return Fail(Error::Internal("key " + r.kid + ": private key does not match its JWK"));
      }
      auto signer = jose::Signer::Create(*priv, r.alg, r.kid);
      if (!signer) return Fail(std::move(signer.error()));
      ring->signers_.push_back(std::move(*signer));
    }
    r.private_key_encrypted.clear();
  }
  // published_ is sorted current-first, newest-first: signers_[0] is the current activated last.
  for (const auto& s : ring->signers_) {
    if (primary && s.alg() == *primary) ring->signer_ = s;
  }
  if (!ring->signer_ && !ring->signers_.empty()) ring->signer_ = ring->signers_.front();
  if (ring->signer_) ring->current_kid_ = ring->signer_->kid();
  ring->jwks_json_ = boost::json::serialize(boost::json::object{{"keys", std::move(jwks)}});
  ring->jwks_etag_ = "\"" + Base64UrlEncode(Sha256(ring->jwks_json_)) + "\"";
  ring->verify_keys_ = std::move(keys);
  return std::shared_ptr<const KeyRing>(std::move(ring));
}

const jose::Signer* KeyRing::signer(jose::Alg alg) const {
  for (const auto& s : signers_) {
    if (s.alg() == alg) return &s;
  }
  return nullptr;
}

const std::string* KeyRing::CertificatePem(std::string_view kid) const {
  auto it = certificates_.find(kid);
  return it == certificates_.end() ? nullptr : &it->second;
}

}  // namespace portcullis::oauth
