#include "oauth/code/pushed_authorization.h"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "oauth/client/client.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

Error Invalid(std::string description) {
  return Error::OAuth(400, "invalid_request", std::move(description));
}

// The authorization endpoint's refusal as a token-endpoint error (RFC 9126 §2.3): always 400,
// with an RFC 6749 §5.2 / §4.1.2.1 code; light-oauth2's ERR code stays in `code`.
Error AsPushError(Error e) {
  static constexpr std::string_view kKept[] = {
      "invalid_request",     "invalid_scope",         "unsupported_response_type",
      "unauthorized_client", "request_not_supported", "registration_not_supported"};
  e.http_status = 400;
  if (e.code == "ERR12027") {
    e.oauth_error = "invalid_scope";
  } else if (std::find(std::begin(kKept), std::end(kKept), e.oauth_error) == std::end(kKept)) {
    e.oauth_error = "invalid_request";  // e.g. ERR12026's invalid_grant: a bad redirect_uri
  }
  return e;
}

}  // namespace

std::string PushedAuthorizationResponse::ToJson() const {
  boost::json::object o;
  o["request_uri"] = request_uri;
  o["expires_in"] = expires_in;
  return boost::json::serialize(o);
}

PushedAuthorizationService::PushedAuthorizationService(int64_t ttl_s, TokenService& tokens,
                                                       const AuthorizationService& authorization,
                                                       PushedRequestStore& store,
                                                       const Clock& clock, Random& random)
    : ttl_s_(std::clamp<int64_t>(ttl_s, 1, 600)),
      tokens_(tokens),
      authorization_(authorization),
      store_(store),
      clock_(clock),
      random_(random) {}

std::string PushedAuthorizationService::Endpoint() const {
  return tokens_.settings().issuer + "/oauth2/par";
}

Result<PushedAuthorizationResponse> PushedAuthorizationService::Push(
    const Params& p, std::optional<std::string_view> authorization,
    std::shared_ptr<const ClientCertificate> cert, std::span<const std::string> dpop_proofs) {
  auto client = tokens_.AuthenticateFormClient(p, authorization, std::move(cert));
  if (!client) return Fail(std::move(client.error()));
  const Client& c = **client;
  // The authorization request is the form minus client authentication (FromFields reads only
  // authorization request parameters).
  auto req = AuthorizationRequest::FromFields(p.fields());
  if (!req) return Fail(AsPushError(std::move(req.error())));
  // RFC 9449 §10.1: a DPoP proof here binds the code to its key, as dpop_jkt does. Checked before
  // anything is stored, its jti remembered as at the token endpoint (one use, every instance).
  if (!dpop_proofs.empty()) {
    auto jkt = tokens_.CheckDpopProof(dpop_proofs, Endpoint(), c);
    if (!jkt) return Fail(std::move(jkt.error()));
    // "...MUST reject the request if the JWK Thumbprint in dpop_jkt does not match the public key
    // in the DPoP header."
    if (req->dpop_jkt.has_value() && *req->dpop_jkt != *jkt) {
      return Fail(Invalid("dpop_jkt does not name the key of the DPoP proof."));
    }
    req->dpop_jkt = std::move(*jkt);
  }
  // RFC 9126 §2.1: request_uri "MUST NOT be provided" here.
  if (req->request_uri.has_value()) {
    return Fail(Invalid("request_uri must not be sent in a pushed authorization request."));
  }
  // RFC 9126 §2.1: the request is the authenticated client's.
  if (!req->client_id.has_value()) {
    req->client_id = c.client_id;
  } else if (*req->client_id != c.client_id) {
    return Fail(Invalid("client_id is not the authenticated client."));
  }
  PushedRequest row;
  std::string reference = random_.Token(32);  // 256 bits, base64url
  row.reference_hash = TokenHash(reference);
  req->pushed_hash = row.reference_hash;  // a pushed request: requirePushedAuthorizationRequests
  auto v = authorization_.Validate(*req, /*light_order=*/false);
  if (!v) return Fail(AsPushError(std::move(v.error().error)));

  req->pushed_hash.clear();
  row.client_id = c.client_id;
  row.params = req->ToQuery();
  row.created_at = clock_.Now();
  row.expires_at = row.created_at + ttl_s_;
  auto inserted = store_.Insert(row);
  if (!inserted) return Fail(std::move(inserted.error()));
  if (!*inserted) return Fail(Error::Internal("pushed request reference collision"));
  log::Info("par.pushed", {{"client_id", c.client_id}});
  return PushedAuthorizationResponse{std::string(kPushedRequestUriPrefix) + reference, ttl_s_};
}

}  // namespace portcullis::oauth
