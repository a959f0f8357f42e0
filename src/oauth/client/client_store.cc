#include "oauth/client/client_store.h"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::oauth::client_store {
namespace {

using store::Int;
using store::Null;
using store::Text;

store::Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

}  // namespace

const char* const kColumns =
    "client_id, client_type, client_profile, client_name, client_desc, secret_hash, scope, "
    "custom_claim, redirect_uris, grant_types, token_profile, access_token_ttl, auth_method, "
    "jwks, jwks_uri, authenticate_class, deref_client_id, owner_id, host, created_at, updated_at, "
    "auth_method_explicit";

std::string_view ByteOrder(store::Dialect d) {
  return d == store::Dialect::kPostgres ? " COLLATE \"C\"" : " COLLATE BINARY";
}

std::string_view ForUpdate(store::Dialect d) {
  return d == store::Dialect::kPostgres ? " FOR UPDATE" : "";
}

std::string EncodeList(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

std::vector<std::string> DecodeList(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  boost::json::error_code ec;
  auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string().data(), item.as_string().size());
  }
  return out;
}

Client RowToClient(const store::Row& r) {
  Client c;
  c.client_id = r.Str(0);
  c.client_type = r.Str(1);
  c.client_profile = r.Str(2);
  c.client_name = r.Str(3);
  c.client_desc = r.Str(4);
  c.secret_hash = r.Str(5);
  c.scope = SplitScope(r.Str(6));
  c.custom_claim = r.Str(7);
  c.redirect_uris = DecodeList(r.Str(8));
  c.grant_types = DecodeList(r.Str(9));
  c.token_profile = r.IsNull(10) ? "rfc9068" : r.Str(10);
  c.access_token_ttl = r.OptInt(11);
  c.auth_method = r.IsNull(12) ? "client_secret_basic" : r.Str(12);
  c.jwks = r.Str(13);
  c.jwks_uri = r.Str(14);
  c.authenticate_class = r.Str(15);
  c.deref_client_id = r.Str(16);
  c.owner_id = r.Str(17);
  c.host = r.Str(18);
  c.created_at = r.Int(19);
  c.updated_at = r.Int(20);
  c.auth_method_explicit = r.Int(21) != 0;
  return c;
}

Result<std::optional<Client>> Load(store::Tx& tx, std::string_view client_id) {
  auto row = tx.QueryRow(std::string("SELECT ") + kColumns + " FROM clients WHERE client_id = $1",
                         {Text(client_id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Client>();
  return std::optional<Client>(RowToClient(**row));
}

Result<std::optional<Client>> LoadForUpdate(store::Tx& tx, std::string_view client_id) {
  auto row = tx.QueryRow(std::string("SELECT ") + kColumns + " FROM clients WHERE client_id = $1" +
                             std::string(ForUpdate(tx.dialect())),
                         {Text(client_id)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Client>();
  return std::optional<Client>(RowToClient(**row));
}

Result<std::vector<Client>> LoadAll(store::Tx& tx) {
  auto rows = tx.Query(std::string("SELECT ") + kColumns + " FROM clients");
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<Client> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(RowToClient(r));
  return out;
}

Status Insert(store::Tx& tx, const Client& c) {
  auto r = tx.Exec(std::string("INSERT INTO clients (") + kColumns +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                       "$15, $16, $17, $18, $19, $20, $21, $22)",
                   {Text(c.client_id),
                    Text(c.client_type),
                    Text(c.client_profile),
                    Text(c.client_name),
                    OptText(c.client_desc),
                    OptText(c.secret_hash),
                    OptText(JoinScope(c.scope)),
                    OptText(c.custom_claim),
                    Text(EncodeList(c.redirect_uris)),
                    Text(EncodeList(c.grant_types)),
                    Text(c.token_profile),
                    store::OptInt(c.access_token_ttl),
                    Text(c.auth_method),
                    OptText(c.jwks),
                    OptText(c.jwks_uri),
                    OptText(c.authenticate_class),
                    OptText(c.deref_client_id),
                    Text(c.owner_id),
                    Text(c.host),
                    Int(c.created_at),
                    Int(c.updated_at),
                    Int(c.auth_method_explicit ? 1 : 0)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<bool> Update(store::Tx& tx, const Client& c) {
  auto r = tx.Exec(
      "UPDATE clients SET client_type = $2, client_profile = $3, client_name = $4, "
      "client_desc = $5, secret_hash = $6, scope = $7, custom_claim = $8, redirect_uris = $9, "
      "grant_types = $10, token_profile = $11, access_token_ttl = $12, auth_method = $13, "
      "jwks = $14, jwks_uri = $15, authenticate_class = $16, deref_client_id = $17, "
      "owner_id = $18, host = $19, updated_at = $20, auth_method_explicit = $21 "
      "WHERE client_id = $1",
      {Text(c.client_id),
       Text(c.client_type),
       Text(c.client_profile),
       Text(c.client_name),
       OptText(c.client_desc),
       OptText(c.secret_hash),
       OptText(JoinScope(c.scope)),
       OptText(c.custom_claim),
       Text(EncodeList(c.redirect_uris)),
       Text(EncodeList(c.grant_types)),
       Text(c.token_profile),
       store::OptInt(c.access_token_ttl),
       Text(c.auth_method),
       OptText(c.jwks),
       OptText(c.jwks_uri),
       OptText(c.authenticate_class),
       OptText(c.deref_client_id),
       Text(c.owner_id),
       Text(c.host),
       Int(c.updated_at),
       Int(c.auth_method_explicit ? 1 : 0)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> UpdateSecretHash(store::Tx& tx, std::string_view client_id,
                              std::string_view secret_hash, int64_t now) {
  auto r = tx.Exec("UPDATE clients SET secret_hash = $2, updated_at = $3 WHERE client_id = $1",
                   {Text(client_id), secret_hash.empty() ? Null() : Text(secret_hash), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> Delete(store::Tx& tx, std::string_view client_id) {
  // Explicit, not left to ON DELETE CASCADE: reference tokens have no foreign key, and the
  // removal of everything the client owns must not depend on a backend's FK settings.
  for (const char* sql : {"DELETE FROM client_endpoints WHERE client_id = $1",
                          "DELETE FROM refresh_tokens WHERE client_id = $1",
                          "DELETE FROM auth_codes WHERE client_id = $1",
                          "DELETE FROM reference_tokens WHERE client_id = $1",
                          "DELETE FROM consents WHERE client_id = $1",
                          "DELETE FROM delegation_policies WHERE client_id = $1"}) {
    auto r = tx.Exec(sql, {Text(client_id)});
    if (!r) return Fail(std::move(r.error()));
  }
  auto r = tx.Exec("DELETE FROM clients WHERE client_id = $1", {Text(client_id)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<std::vector<Client>> List(store::Tx& tx, const ListQuery& q) {
  std::string order(ByteOrder(tx.dialect()));
  auto rows = tx.Query(
      std::string("SELECT ") + kColumns +
          " FROM clients WHERE substr(host, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) "
          "ORDER BY client_name" +
          order + ", client_id" + order + " LIMIT $2 OFFSET $3",
      {Text(q.host_prefix), Int(q.limit), Int(q.offset)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<Client> out;
  for (const auto& r : *rows) out.push_back(RowToClient(r));
  return out;
}

Result<int64_t> Count(store::Tx& tx, std::string_view host_prefix) {
  auto row = tx.QueryRow(
      "SELECT count(*) FROM clients WHERE substr(host, 1, length(CAST($1 AS TEXT))) = CAST($1 AS "
      "TEXT)",
      {Text(host_prefix)});
  if (!row) return Fail(std::move(row.error()));
  return *row ? (**row).Int(0) : 0;
}

Result<LinkMap> Links(store::Tx& tx, std::string_view client_id) {
  std::string order(ByteOrder(tx.dialect()));
  auto rows = tx.Query(
      "SELECT service_id, endpoint FROM client_endpoints WHERE client_id = $1 "
      "ORDER BY service_id" +
          order + ", endpoint" + order,
      {Text(client_id)});
  if (!rows) return Fail(std::move(rows.error()));
  LinkMap out;
  for (const auto& r : *rows) out[r.Str(0)].push_back(r.Str(1));
  return out;
}

Result<std::vector<std::string>> ServiceLinks(store::Tx& tx, std::string_view client_id,
                                              std::string_view service_id) {
  std::string order(ByteOrder(tx.dialect()));
  auto rows = tx.Query(
      "SELECT endpoint FROM client_endpoints WHERE client_id = $1 AND "
      "service_id = $2 ORDER BY endpoint" +
          order,
      {Text(client_id), Text(service_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.Str(0));
  return out;
}

Status ReplaceServiceLinks(store::Tx& tx, std::string_view client_id, std::string_view service_id,
                           const std::vector<std::string>& endpoints) {
  if (auto st = DeleteLinks(tx, client_id, service_id); !st) return st;
  for (const auto& e : endpoints) {
    auto r = tx.Exec(
        "INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ($1, $2, $3)",
        {Text(client_id), Text(service_id), Text(e)});
    if (!r) return Fail(std::move(r.error()));
  }
  return {};
}

Status DeleteLinks(store::Tx& tx, std::string_view client_id,
                   std::optional<std::string_view> service_id) {
  auto r = service_id
               ? tx.Exec(
                     "DELETE FROM client_endpoints WHERE client_id = $1 AND "
                     "service_id = $2",
                     {Text(client_id), Text(*service_id)})
               : tx.Exec("DELETE FROM client_endpoints WHERE client_id = $1", {Text(client_id)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<std::vector<std::string>> ClientsLinkedTo(store::Tx& tx, std::string_view service_id) {
  std::string order(ByteOrder(tx.dialect()));
  auto rows = tx.Query(
      "SELECT client_id FROM client_endpoints WHERE service_id = $1 "
      "GROUP BY client_id ORDER BY client_id" +
          order,
      {Text(service_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.Str(0));
  return out;
}

Result<std::vector<std::string>> LinkedScope(store::Tx& tx, std::string_view client_id) {
  std::string order(ByteOrder(tx.dialect()));
  auto rows = tx.Query(
      "SELECT e.scope FROM client_endpoints l JOIN service_endpoints e ON "
      "e.service_id = l.service_id AND e.endpoint = l.endpoint WHERE l.client_id = $1 "
      "ORDER BY l.service_id" +
          order + ", l.endpoint" + order,
      {Text(client_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) {
    for (auto& s : SplitScope(r.Str(0))) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

Status SetScope(store::Tx& tx, std::string_view client_id, const std::vector<std::string>& scope,
                int64_t now) {
  std::string text = JoinScope(scope);
  auto r = tx.Exec("UPDATE clients SET scope = $2, updated_at = $3 WHERE client_id = $1",
                   {Text(client_id), text.empty() ? Null() : Text(text), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

}  // namespace portcullis::oauth::client_store
