#include "oauth/refresh/refresh_admin.h"

#include <boost/json/value.hpp>

#include "oauth/audit/audit.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

Error NotFound() { return Error::Status("ERR12029"); }

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// The token's row: by the hash of the presented value first, else by the value as a hash.
template <typename FindFn>
Result<std::optional<RefreshTokenInfo>> Lookup(std::string_view token_or_hash, FindFn find) {
  if (token_or_hash.empty() || token_or_hash.size() > 1024) {
    return std::optional<RefreshTokenInfo>();
  }
  for (const std::string& key : {TokenHash(token_or_hash), std::string(token_or_hash)}) {
    auto row = find(key);
    if (!row) return Fail(std::move(row.error()));
    if (*row) return std::move(*row);
  }
  return std::optional<RefreshTokenInfo>();
}

}  // namespace

boost::json::object RefreshTokenToJson(const RefreshTokenInfo& t) {
  json::object o;
  o["refreshToken"] = t.token_hash;  // a handle, not the token (see the header)
  o["tokenHash"] = t.token_hash;
  o["familyId"] = t.family_id;
  o["userId"] = OrNull(t.user_id);
  o["userType"] = OrNull(t.user_type);
  o["roles"] = OrNull(t.roles);
  o["clientId"] = t.client_id;
  o["scope"] = OrNull(t.scope);
  o["remember"] = t.remember.empty() ? "N" : t.remember;
  o["state"] = t.state;
  o["createdAt"] = t.created_at;
  o["expiresAt"] = t.expires_at;
  return o;
}

RefreshTokenAdmin::RefreshTokenAdmin(store::Database& db, RefreshTokenStore& tokens,
                                     audit::AuditLog& audit, const Clock& clock)
    : db_(db), tokens_(tokens), audit_(audit), clock_(clock) {}

Result<RefreshTokenAdmin::Page> RefreshTokenAdmin::List(const RefreshTokenFilter& filter,
                                                        int64_t offset, int64_t limit) {
  const int64_t now = clock_.Now();
  auto tokens = tokens_.ListActive(filter, now, offset, limit);
  if (!tokens) return Fail(std::move(tokens.error()));
  auto total = tokens_.CountActive(filter, now);
  if (!total) return Fail(std::move(total.error()));
  return Page{std::move(*tokens), *total};
}

Result<int64_t> RefreshTokenAdmin::CountActive() { return tokens_.CountActive({}, clock_.Now()); }

Result<RefreshTokenInfo> RefreshTokenAdmin::Get(std::string_view token_or_hash) {
  auto found = Lookup(token_or_hash, [&](std::string_view key) { return tokens_.Find(key); });
  if (!found) return Fail(std::move(found.error()));
  if (!*found) return Fail(NotFound());
  return std::move(**found);
}

Result<RefreshTokenInfo> RefreshTokenAdmin::Delete(std::string_view token_or_hash,
                                                   std::string_view actor) {
  return db_.TransactValue<RefreshTokenInfo>(
      "refresh_token.delete", [&](store::Tx& tx) -> Result<RefreshTokenInfo> {
        auto found =
            Lookup(token_or_hash, [&](std::string_view key) { return tokens_.Find(tx, key); });
        if (!found) return Fail(std::move(found.error()));
        if (!*found) return Fail(NotFound());
        const RefreshTokenInfo& info = **found;
        auto family = tokens_.Family(tx, info.family_id);
        if (!family) return Fail(std::move(family.error()));
        // Notifies ("refresh_token", family) with this transaction.
        if (auto r = tokens_.DeleteFamily(tx, info.family_id); !r) {
          return Fail(std::move(r.error()));
        }
        json::object before = RefreshTokenToJson(info);
        before["familySize"] = static_cast<int64_t>(family->size());
        if (auto a = audit_.Record(tx, clock_.Now(),
                                   {std::string(actor), "refresh_token.delete", "refresh_token",
                                    info.token_hash, json::value(std::move(before)), std::nullopt});
            !a) {
          return Fail(std::move(a.error()));
        }
        return info;
      });
}

}  // namespace portcullis::oauth
