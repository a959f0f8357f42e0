#include "oauth/logout/end_session.h"

#include <algorithm>

#include "oauth/client/client_catalog.h"
#include "oauth/code/authorization_service.h"

namespace portcullis::oauth {
namespace {

Error Invalid(std::string description) {
  return Error::OAuth(400, "invalid_request", std::move(description));
}

constexpr size_t kMaxValue = 8192;  // an ID token with many claims still fits

}  // namespace

Result<EndSessionRequest> EndSessionRequest::FromFields(const FormFields& fields) {
  EndSessionRequest r;
  bool seen_hint = false, seen_client = false, seen_uri = false;
  for (const auto& [k, v] : fields) {
    std::string* into = nullptr;
    bool* seen = nullptr;
    if (k == "id_token_hint") {
      into = &r.id_token_hint;
      seen = &seen_hint;
    } else if (k == "client_id") {
      into = &r.client_id;
      seen = &seen_client;
    } else if (k == "post_logout_redirect_uri") {
      into = &r.post_logout_redirect_uri;
      seen = &seen_uri;
    } else if (k == "state") {
      into = &r.state;
      seen = &r.has_state;
    } else {
      continue;  // ui_locales, logout_hint, csrf, ...: not ours to read here
    }
    if (*seen) return Fail(Invalid("The parameter " + k + " is repeated."));
    if (v.size() > kMaxValue) return Fail(Invalid("The parameter " + k + " is too long."));
    *seen = true;
    *into = v;
  }
  return r;
}

FormFields EndSessionRequest::ToFields() const {
  FormFields out;
  if (!id_token_hint.empty()) out.emplace_back("id_token_hint", id_token_hint);
  if (!client_id.empty()) out.emplace_back("client_id", client_id);
  if (!post_logout_redirect_uri.empty()) {
    out.emplace_back("post_logout_redirect_uri", post_logout_redirect_uri);
  }
  if (has_state) out.emplace_back("state", state);
  return out;
}

std::string EndSessionTarget::RedirectLocation() const {
  if (redirect.empty() || !has_state) return redirect;
  FormFields params;
  if (has_state) params.emplace_back("state", state);
  return AppendQuery(redirect, params);
}

EndSession::EndSession(const ClientCatalog& clients, LogoutHintReader read_hint)
    : clients_(clients), read_hint_(std::move(read_hint)) {}

Result<EndSessionTarget> EndSession::Resolve(const EndSessionRequest& r) const {
  EndSessionTarget t;
  t.state = r.state;
  t.has_state = r.has_state;
  t.client_id = r.client_id;
  if (!r.id_token_hint.empty()) {
    auto hint = read_hint_ ? read_hint_(r.id_token_hint)
                           : Result<LogoutHint>(Fail(Invalid("id_token_hint is not supported.")));
    if (!hint) {
      return Fail(Invalid("The id_token_hint is not a valid ID token of this server."));
    }
    // §2: with both, the client_id must be the one the ID token was issued to.
    if (!r.client_id.empty() && r.client_id != hint->client_id &&
        std::find(hint->audience.begin(), hint->audience.end(), r.client_id) ==
            hint->audience.end()) {
      return Fail(Invalid("client_id does not match the id_token_hint's audience."));
    }
    if (t.client_id.empty()) t.client_id = hint->client_id;
    t.hint = std::move(*hint);
  }
  if (r.post_logout_redirect_uri.empty() || t.client_id.empty()) return t;
  auto client = clients_.Find(t.client_id);
  if (!client) return t;
  // §3: exact string comparison against the registered list; anything else is not followed.
  for (const auto& registered : client->post_logout_redirect_uris) {
    if (registered == r.post_logout_redirect_uri) t.redirect = registered;
  }
  return t;
}

}  // namespace portcullis::oauth
