#include "oauth/oidc/id_token.h"

#include <openssl/evp.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <optional>

#include "common/encoding.h"
#include "jose/verifier.h"

namespace portcullis::oauth::oidc {
namespace {

namespace json = boost::json;

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// The verifier's clock for ReadIdTokenHint: the token's own iat, so exp (after iat) never
// counts as passed while the signature, iss and typ are still checked.
class AtClock final : public Clock {
 public:
  explicit AtClock(int64_t at) : at_(at) {}
  int64_t Now() const override { return at_; }

 private:
  int64_t at_;
};

Error Invalid(std::string why) {
  return Error::Status("ERR10000", "The id_token_hint is not an ID token issued here.",
                       std::move(why));
}

std::string Str(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<int64_t> Int(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return std::nullopt;
}

}  // namespace

std::string AtHash(std::string_view access_token, jose::Alg alg) {
  const EVP_MD* md = alg == jose::Alg::kEdDSA ? EVP_sha512() : EVP_sha256();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(access_token.data(), access_token.size(), digest, &len, md, nullptr);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), len / 2));
}

json::object IdTokenClaims(const IdTokenFields& f, jose::Alg alg) {
  json::object c;
  // Requested claims first, so the ones this function sets always win.
  for (const auto& [k, v] : f.extra) c[k] = v;
  c["iss"] = f.issuer;
  c["sub"] = f.sub;
  c["aud"] = f.client_id;
  c["exp"] = f.exp;
  c["iat"] = f.iat;
  if (f.auth_time > 0) c["auth_time"] = f.auth_time;
  if (!f.nonce.empty()) c["nonce"] = f.nonce;
  if (!f.access_token.empty()) c["at_hash"] = AtHash(f.access_token, alg);
  if (!f.sid.empty()) c["sid"] = f.sid;
  if (!f.acr.empty()) c["acr"] = f.acr;
  if (auto amr = Split(f.amr); !amr.empty()) {
    json::array a;
    for (auto& m : amr) a.emplace_back(std::move(m));
    c["amr"] = std::move(a);
  }
  c[kIdTokenMarkerClaim] = kIdTokenMarker;
  // Never an access token's claims: the kinds stay apart (see the header).
  c.erase("client_id");
  c.erase("scope");
  return c;
}

Result<jose::Alg> IdTokenAlg(std::string_view registered) {
  if (registered.empty()) return jose::Alg::kRS256;
  auto alg = jose::ParseAlg(registered);
  if (!alg) {
    return Fail(Error::Internal("id_token_signed_response_alg " +
                                std::string(registered.substr(0, 16)) + " is not supported"));
  }
  return *alg;
}

std::vector<jose::Alg> IdTokenAlgs(jose::Alg primary) {
  std::vector<jose::Alg> out{jose::Alg::kRS256};
  if (primary != jose::Alg::kRS256) out.push_back(primary);
  return out;
}

Result<IdTokenHint> ReadIdTokenHint(std::string_view token,
                                    std::shared_ptr<const jose::KeySet> keys,
                                    std::string_view issuer, const Clock& clock, int64_t leeway_s) {
  if (token.size() > jose::kMaxTokenBytes) return Fail(Invalid("too large"));
  // iat is read before the signature is checked only to choose the verifier's clock; every
  // claim used below comes from the verified payload.
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Fail(Invalid("malformed"));
  auto raw = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!raw) return Fail(Invalid("malformed"));
  boost::system::error_code ec;
  json::value unverified = json::parse(*raw, ec);
  if (ec || !unverified.is_object()) return Fail(Invalid("malformed"));
  auto claimed_iat = Int(unverified.get_object(), "iat");
  if (!claimed_iat) return Fail(Invalid("no iat"));
  if (*claimed_iat > clock.Now() + leeway_s) return Fail(Invalid("iat in the future"));

  AtClock at(*claimed_iat);
  jose::VerifyOptions options;
  options.leeway_seconds = 0;
  options.issuer = std::string(issuer);
  options.typ = std::string(kIdTokenTyp);
  jose::Verifier verifier(std::move(keys), options, at);
  auto v = verifier.Verify(token);
  if (!v) return Fail(Invalid(std::string(jose::ReasonName(v.error().reason))));
  const json::object& p = v->payload;
  if (Str(p, kIdTokenMarkerClaim) != kIdTokenMarker) return Fail(Invalid("not an ID token"));
  if (p.contains("client_id")) return Fail(Invalid("an access token"));
  IdTokenHint out;
  out.sub = Str(p, "sub");
  if (out.sub.empty()) return Fail(Invalid("no sub"));
  if (const auto* aud = p.if_contains("aud")) {
    if (aud->is_string()) out.audience.emplace_back(aud->get_string());
    if (aud->is_array()) {
      for (const auto& a : aud->get_array()) {
        if (a.is_string()) out.audience.emplace_back(a.get_string());
      }
    }
  }
  if (out.audience.empty()) return Fail(Invalid("no aud"));
  out.client_id = Str(p, "azp");
  if (out.client_id.empty()) out.client_id = out.audience.front();
  out.sid = Str(p, "sid");
  out.auth_time = Int(p, "auth_time").value_or(0);
  out.iat = *Int(p, "iat");
  return out;
}

}  // namespace portcullis::oauth::oidc
