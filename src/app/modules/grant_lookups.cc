#include "app/modules/grant_lookups.h"

#include "oauth/client/client_service.h"

namespace portcullis::app {

Result<std::optional<oauth::CurrentUser>> StoreGrantLookups::FindUser(store::Tx& tx,
                                                                      std::string_view user_id) {
  auto u = users_.Find(tx, user_id);
  if (!u) return Fail(std::move(u.error()));
  if (!*u) return std::optional<oauth::CurrentUser>();
  return std::optional<oauth::CurrentUser>(
      oauth::CurrentUser{(*u)->user_type, (*u)->roles, (*u)->locked, (*u)->first_name,
                         (*u)->last_name, (*u)->email, (*u)->updated_at});
}

Result<std::optional<oauth::ExchangePolicy>> StoreGrantLookups::FindDelegation(
    std::string_view client_id, std::string_view audience) {
  auto p = delegations_.Find(client_id, audience);
  if (!p) return Fail(std::move(p.error()));
  if (!*p) return std::optional<oauth::ExchangePolicy>();
  return std::optional<oauth::ExchangePolicy>(
      oauth::ExchangePolicy{std::move((*p)->scopes), (*p)->max_depth});
}

Result<std::optional<std::vector<std::string>>> StoreGrantLookups::ServiceScopes(
    std::string_view service_id) {
  return services_.DeclaredScopes(service_id);
}

Status StoreGrantLookups::UpgradeLegacySecret(std::string_view client_id,
                                              std::string_view legacy_hash, const Secret& secret) {
  return oauth::UpgradeLegacySecret(db_, clients_, audit_, secrets_, clock_, client_id, legacy_hash,
                                    secret);
}

}  // namespace portcullis::app
