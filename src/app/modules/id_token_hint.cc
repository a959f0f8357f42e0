#include "app/modules/id_token_hint.h"

#include <algorithm>
#include <utility>

#include "oauth/oidc/id_token.h"

namespace portcullis::app {

oauth::IdTokenHintReader MakeIdTokenHintReader(const oauth::KeyManager& keys, std::string issuer,
                                               int64_t leeway_s, const Clock& clock) {
  return [&keys, issuer = std::move(issuer), leeway_s, &clock](
             std::string_view hint, std::string_view client_id) -> Result<std::string> {
    auto h =
        oauth::oidc::ReadIdTokenHint(hint, keys.ring()->verify_keys(), issuer, clock, leeway_s);
    if (!h) return Fail(std::move(h.error()));
    if (std::find(h->audience.begin(), h->audience.end(), client_id) == h->audience.end()) {
      return Fail(Error::OAuth(400, "invalid_request", "issued to another client"));
    }
    return std::move(h->sub);
  };
}

}  // namespace portcullis::app
