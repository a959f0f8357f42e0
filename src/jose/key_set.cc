#include "jose/key_set.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace portcullis::jose {
namespace {

Error JwksError(std::string detail) {
  return Error::OAuth(400, "invalid_request", "Invalid JWK set.", std::move(detail));
}

std::string_view Str(const boost::json::string& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

Status KeySet::Add(std::string kid, Key key, std::optional<Alg> alg) {
  if (alg && !key.Supports(*alg)) {
    return Fail(
        Error::Internal("KeySet: alg " + std::string(AlgName(*alg)) + " does not fit key " + kid));
  }
  if (entries_.contains(kid)) return Fail(Error::Internal("KeySet: duplicate kid " + kid));
  std::string name = kid;
  entries_.emplace(std::move(name), KeyEntry{std::move(kid), std::move(key), alg});
  return {};
}

const KeyEntry* KeySet::Find(std::string_view kid) const {
  auto it = entries_.find(kid);
  return it == entries_.end() ? nullptr : &it->second;
}

Result<KeySet> ParseJwks(std::string_view json, const JwksLimits& limits) {
  if (json.size() > limits.max_bytes) return Fail(JwksError("JWKS larger than limit"));
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return Fail(JwksError("JWKS is not JSON: " + ec.message()));
  const auto* root = doc.if_object();
  const auto* keys = root ? root->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) return Fail(JwksError("JWKS has no keys array"));
  const auto& members = keys->get_array();
  if (members.size() > limits.max_keys) return Fail(JwksError("JWKS has too many keys"));

  KeySet set;
  for (const auto& member : members) {
    const auto* jwk = member.if_object();
    const auto* kid = jwk ? jwk->if_contains("kid") : nullptr;
    if (kid == nullptr || !kid->is_string() || kid->get_string().empty() ||
        kid->get_string().size() > limits.max_kid_length) {
      ++set.skipped_;
      continue;
    }
    // RFC 7517 §4.2: only signature keys.
    if (const auto* use = jwk->if_contains("use");
        use != nullptr && (!use->is_string() || Str(use->get_string()) != "sig")) {
      ++set.skipped_;
      continue;
    }
    std::optional<Alg> alg;
    if (const auto* a = jwk->if_contains("alg"); a != nullptr) {
      alg = a->is_string() ? ParseAlg(Str(a->get_string())) : std::nullopt;
      if (!alg) {
        ++set.skipped_;
        continue;
      }
    }
    auto key = Key::FromJwk(*jwk);
    if (!key || !set.Add(std::string(Str(kid->get_string())), std::move(*key), alg)) {
      ++set.skipped_;
      continue;
    }
  }
  return set;
}

}  // namespace portcullis::jose
