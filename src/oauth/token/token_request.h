#pragma once
// One token request (RFC 6749 §4, §5), parsed once by the HTTP binding: the form parameters,
// the client credentials presented (Basic header or form, RFC 6749 §2.3.1), the grant type, the
// scope and the target (RFC 8707 `resource`, RFC 8693 `audience`). TokenService::Prepare adds the
// grant found in the registry and the client found in the catalog, so that neither the Basic
// header nor the catalog is read twice whatever thread the request then runs on.
//
// Ownership and lifetime: a TokenRequest owns its Params and its decoded credentials. The
// string views it returns (grant_type(), scope(), resource(), audience()) point into the
// strings held by its own Params: they live as long as the TokenRequest and survive a move of
// it (a vector's move keeps its elements where they are), which is why it is move-only: a copy
// would point into the original. remote_ip() is borrowed from the caller (the http::Request,
// which outlives any work deferred for it). grant() points into the process-wide, immutable
// registry; client() is a catalog snapshot, valid however the catalog changes later.
//
// Thread-safety: immutable once prepared; may be read from any thread.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"
#include "oauth/token/client_auth.h"
#include "oauth/token/params.h"

namespace portcullis::oauth {

class Grant;

class TokenRequest {
 public:
  // Reads the credentials (ReadClientCredentials: the header first, else the form) and the
  // request's fields. A credentials error is kept, not returned: the token endpoint reports an
  // unsupported grant type before it (light-oauth2 reference §6.1).
  TokenRequest(Params params, std::optional<std::string_view> authorization,
               std::string_view remote_ip);
  TokenRequest(TokenRequest&&) = default;
  TokenRequest& operator=(TokenRequest&&) = default;
  TokenRequest(const TokenRequest&) = delete;
  TokenRequest& operator=(const TokenRequest&) = delete;

  const Params& params() const { return params_; }
  std::string_view grant_type() const { return grant_type_; }
  std::string_view scope() const { return scope_; }
  // Present (possibly empty) when the form names it.
  std::optional<std::string_view> resource() const { return resource_; }
  std::optional<std::string_view> audience() const { return audience_; }
  // Whether the form names a target at all: such a request reads the service registry.
  bool NamesTarget() const { return resource_.has_value() || audience_.has_value(); }
  // Whether the client asked for scope explicitly (anything but blanks).
  bool ScopeRequested() const { return scope_.find_first_not_of(' ') != std::string_view::npos; }
  const Result<PresentedCredentials>& credentials() const { return credentials_; }
  std::string_view remote_ip() const { return remote_ip_; }

  // Set by TokenService::Prepare. nullptr: grant type not in the registry / client unknown or
  // credentials unreadable.
  // The DPoP header fields of the request (RFC 9449 §4.1), every one in order: the token
  // service refuses more than one. Set by the HTTP binding after Prepare.
  const std::vector<std::string>& dpop_proofs() const { return dpop_proofs_; }
  void SetDpopProofs(std::vector<std::string> proofs) { dpop_proofs_ = std::move(proofs); }

  const Grant* grant() const { return grant_; }
  const std::shared_ptr<const Client>& client() const { return client_; }
  void Resolve(const Grant* grant, std::shared_ptr<const Client> client) {
    grant_ = grant;
    client_ = std::move(client);
  }

 private:
  Params params_;
  std::string_view grant_type_;
  std::string_view scope_;
  std::optional<std::string_view> resource_;
  std::optional<std::string_view> audience_;
  Result<PresentedCredentials> credentials_;
  std::string_view remote_ip_;
  const Grant* grant_ = nullptr;
  std::shared_ptr<const Client> client_;
  std::vector<std::string> dpop_proofs_;
};

}  // namespace portcullis::oauth
