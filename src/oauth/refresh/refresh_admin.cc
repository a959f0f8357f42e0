#include "oauth/refresh/refresh_admin.h"

#include <boost/json/value.hpp>

#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Text;

constexpr const char* kColumns =
    "token_hash, family_id, client_id, user_id, user_type, roles, scope, remember, state, "
    "created_at, expires_at";

RefreshTokenInfo RowToInfo(const store::Row& r) {
  return RefreshTokenInfo{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5),
                          r.Str(6), r.Str(7), r.Str(8), r.Int(9), r.Int(10)};
}

Error NotFound() { return Error::Status("ERR12029"); }

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// The token's row: by the hash of the presented value first, else by the value as a hash.
Result<std::optional<RefreshTokenInfo>> Lookup(store::Tx& tx, std::string_view token_or_hash) {
  if (token_or_hash.empty() || token_or_hash.size() > 1024) {
    return std::optional<RefreshTokenInfo>();
  }
  for (const std::string& key : {TokenHash(token_or_hash), std::string(token_or_hash)}) {
    auto row = tx.QueryRow(
        std::string("SELECT ") + kColumns + " FROM refresh_tokens WHERE token_hash = $1",
        {Text(key)});
    if (!row) return Fail(std::move(row.error()));
    if (*row) return std::optional<RefreshTokenInfo>(RowToInfo(**row));
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

RefreshTokenAdmin::RefreshTokenAdmin(store::Database& db, const Clock& clock)
    : db_(db), clock_(clock) {}

Result<std::vector<RefreshTokenInfo>> RefreshTokenAdmin::List(std::string_view prefix,
                                                              int64_t offset, int64_t limit) {
  using Out = std::vector<RefreshTokenInfo>;
  return db_.TransactValue<Out>("refresh_token.list", [&](store::Tx& tx) -> Result<Out> {
    std::string order(client_store::ByteOrder(tx.dialect()));
    auto rows = tx.Query(
        std::string("SELECT ") + kColumns +
            " FROM refresh_tokens WHERE state = 'active' AND expires_at > $2 AND "
            "substr(COALESCE(user_id, ''), 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) "
            "ORDER BY user_id" +
            order + ", created_at, token_hash" + order + " LIMIT $3 OFFSET $4",
        {Text(prefix), Int(clock_.Now()), Int(limit), Int(offset)});
    if (!rows) return Fail(std::move(rows.error()));
    Out out;
    for (const auto& r : *rows) out.push_back(RowToInfo(r));
    return out;
  });
}

Result<RefreshTokenInfo> RefreshTokenAdmin::Get(std::string_view token_or_hash) {
  return db_.TransactValue<RefreshTokenInfo>("refresh_token.get",
                                             [&](store::Tx& tx) -> Result<RefreshTokenInfo> {
                                               auto found = Lookup(tx, token_or_hash);
                                               if (!found) return Fail(std::move(found.error()));
                                               if (!*found) return Fail(NotFound());
                                               return std::move(**found);
                                             });
}

Result<RefreshTokenInfo> RefreshTokenAdmin::Delete(std::string_view token_or_hash,
                                                   std::string_view actor) {
  return db_.TransactValue<RefreshTokenInfo>(
      "refresh_token.delete", [&](store::Tx& tx) -> Result<RefreshTokenInfo> {
        auto found = Lookup(tx, token_or_hash);
        if (!found) return Fail(std::move(found.error()));
        if (!*found) return Fail(NotFound());
        const RefreshTokenInfo& info = **found;
        auto family = tx.Query(
            std::string("SELECT ") + kColumns + " FROM refresh_tokens WHERE family_id = $1",
            {Text(info.family_id)});
        if (!family) return Fail(std::move(family.error()));
        auto r = tx.Exec("DELETE FROM refresh_tokens WHERE family_id = $1", {Text(info.family_id)});
        if (!r) return Fail(std::move(r.error()));
        if (auto n = tx.Notify("refresh_token", info.family_id); !n) {
          return Fail(std::move(n.error()));
        }
        json::object before = RefreshTokenToJson(info);
        before["familySize"] = static_cast<int64_t>(family->size());
        if (auto a = audit::Record(tx, clock_.Now(),
                                   {std::string(actor), "refresh_token.delete", "refresh_token",
                                    info.token_hash, json::value(std::move(before)), std::nullopt});
            !a) {
          return Fail(std::move(a.error()));
        }
        return info;
      });
}

}  // namespace portcullis::oauth
