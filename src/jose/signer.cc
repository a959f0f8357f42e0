#include "jose/signer.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.h"
#include "jose/ossl.h"

namespace portcullis::jose {

struct Signer::State {
  Key key;
  Alg alg;
  std::string kid;
  std::string encoded_header;
  internal::MdCtxPtr tmpl;  // may be null: then each Sign initialises a context
};

Result<Signer> Signer::Create(Key key, Alg alg, std::string kid, std::string typ) {
  if (!key.has_private()) return Fail(Error::Internal("Signer needs a private key"));
  if (!key.Supports(alg)) {
    return Fail(
        Error::Internal(std::string("Signer: key does not support ") + std::string(AlgName(alg))));
  }
  boost::json::object header;
  header["alg"] = AlgName(alg);
  if (!kid.empty()) header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  auto tmpl = internal::NewTemplate(key.get(), alg, true);
  std::string encoded = Base64UrlEncode(boost::json::serialize(header));
  return Signer(std::make_shared<const State>(
      State{std::move(key), alg, std::move(kid), std::move(encoded), std::move(tmpl)}));
}

Result<std::string> Signer::Sign(std::string_view payload_json) const {
  const State& s = *state_;
  std::string token;
  // header . payload . signature (RSA 2048: 342 chars, ES256: 86, EdDSA: 86)
  token.reserve(s.encoded_header.size() + payload_json.size() * 4 / 3 + 350);
  token += s.encoded_header;
  token += '.';
  token += Base64UrlEncode(payload_json);
  auto sig = internal::SignWith(s.tmpl.get(), s.key.get(), s.alg, token);
  if (!sig) return Fail(Error::Internal(internal::OpenSslError("JWS sign")));
  token += '.';
  token += Base64UrlEncode(*sig);
  return token;
}

const std::string& Signer::kid() const { return state_->kid; }
Alg Signer::alg() const { return state_->alg; }
const Key& Signer::key() const { return state_->key; }
const std::string& Signer::encoded_header() const { return state_->encoded_header; }

}  // namespace portcullis::jose
