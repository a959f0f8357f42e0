#include "oauth/token/token_request.h"

namespace portcullis::oauth {

TokenRequest::TokenRequest(Params params, std::optional<std::string_view> authorization,
                           std::string_view remote_ip)
    : params_(std::move(params)),
      credentials_(ReadClientCredentials(authorization, &params_)),
      remote_ip_(remote_ip) {
  // Views into params_, taken after it reached its place (see the header on lifetime).
  grant_type_ = params_.Value("grant_type");
  scope_ = params_.Value("scope");
  resource_ = params_.Get("resource");
  audience_ = params_.Get("audience");
}

}  // namespace portcullis::oauth
