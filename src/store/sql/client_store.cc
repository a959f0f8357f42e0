#include "store/sql/client_store.h"
#include "store/sql/dialect_sql.h"

#include <algorithm>
#include <array>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::store {
namespace {

using oauth::Client;

// The columns of the clients table, in the order of ClientParams and RowToClient. Every
// statement on the table is built from this list.
constexpr std::array<std::string_view, 32> kColumns = {"client_id",
                                                       "client_type",
                                                       "client_profile",
                                                       "client_name",
                                                       "client_desc",
                                                       "secret_hash",
                                                       "scope",
                                                       "custom_claim",
                                                       "redirect_uris",
                                                       "grant_types",
                                                       "token_profile",
                                                       "access_token_ttl",
                                                       "auth_method",
                                                       "jwks",
                                                       "jwks_uri",
                                                       "authenticate_class",
                                                       "deref_client_id",
                                                       "owner_id",
                                                       "host",
                                                       "created_at",
                                                       "updated_at",
                                                       "auth_method_explicit",
                                                       "post_logout_redirect_uris",
                                                       "backchannel_logout_uri",
                                                       "id_token_signed_response_alg",
                                                       "require_par",
                                                       "dpop_bound_access_tokens",
                                                       "tls_subject_kind",
                                                       "tls_subject",
                                                       "tls_bound_tokens",
                                                       "security_profile",
                                                       "second_factor"};
constexpr size_t kIdColumn = 0;
constexpr size_t kCreatedAtColumn = 19;

std::string ColumnList() {
  std::string out;
  for (auto c : kColumns) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

const std::string& SelectSql() {
  static const std::string sql = "SELECT " + ColumnList() + " FROM clients";
  return sql;
}

const std::string& InsertSql() {
  static const std::string sql = [] {
    std::string values;
    for (size_t i = 1; i <= kColumns.size(); ++i) {
      values += (i > 1 ? ", $" : "$") + std::to_string(i);
    }
    return "INSERT INTO clients (" + ColumnList() + ") VALUES (" + values + ")";
  }();
  return sql;
}

// Every column but client_id ($1) and created_at; UpdateParams numbers them in order.
const std::string& UpdateSql() {
  static const std::string sql = [] {
    std::string set;
    size_t n = 1;
    for (size_t i = 0; i < kColumns.size(); ++i) {
      if (i == kIdColumn || i == kCreatedAtColumn) continue;
      set += (set.empty() ? "" : ", ") + std::string(kColumns[i]) + " = $" + std::to_string(++n);
    }
    return "UPDATE clients SET " + set + " WHERE client_id = $1";
  }();
  return sql;
}

Param OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

std::string EncodeList(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

// A malformed value reads as empty.
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

std::vector<Param> ClientParams(const Client& c) {
  return {Text(c.client_id),
          Text(oauth::ClientTypeName(c.client_type)),
          Text(c.client_profile),
          Text(c.client_name),
          OptText(c.client_desc),
          OptText(c.secret_hash),
          OptText(oauth::JoinScope(c.scope)),
          OptText(c.custom_claim),
          Text(EncodeList(c.redirect_uris)),
          Text(EncodeList(c.grant_types)),
          Text(oauth::TokenProfileName(c.token_profile)),
          store::OptInt(c.access_token_ttl),
          Text(oauth::AuthMethodName(c.auth_method)),
          OptText(c.jwks),
          OptText(c.jwks_uri),
          OptText(c.authenticate_class),
          OptText(c.deref_client_id),
          Text(c.owner_id),
          Text(c.host),
          Int(c.created_at),
          Int(c.updated_at),
          Int(c.auth_method_explicit ? 1 : 0),
          Text(EncodeList(c.post_logout_redirect_uris)),
          OptText(c.backchannel_logout_uri),
          OptText(c.id_token_signed_response_alg),
          Int(c.require_par ? 1 : 0),
          Int(c.dpop_bound_access_tokens ? 1 : 0),
          OptText(std::string(oauth::TlsSubjectKindName(c.tls_subject_kind))),
          OptText(c.tls_subject),
          Int(c.tls_bound_tokens ? 1 : 0),
          OptText(std::string(oauth::SecurityProfileName(c.security_profile))),
          OptText(c.second_factor_required ? "required" : "")};
}

std::vector<Param> UpdateParams(const Client& c) {
  auto all = ClientParams(c);
  std::vector<Param> out;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i != kCreatedAtColumn) out.push_back(std::move(all[i]));
  }
  return out;
}

// Stored spellings are the enums' names (client_type has a CHECK constraint); a value written
// by other means reads as the column's default.
Client RowToClient(const Row& r) {
  Client c;
  c.client_id = r.Str(0);
  c.client_type = oauth::ParseClientType(r.Str(1)).value_or(oauth::ClientType::kConfidential);
  c.client_profile = r.Str(2);
  c.client_name = r.Str(3);
  c.client_desc = r.Str(4);
  c.secret_hash = r.Str(5);
  c.scope = oauth::SplitScope(r.Str(6));
  c.custom_claim = r.Str(7);
  c.redirect_uris = DecodeList(r.Str(8));
  c.grant_types = DecodeList(r.Str(9));
  c.token_profile = oauth::ParseTokenProfile(r.Str(10)).value_or(oauth::TokenProfile::kRfc9068);
  c.access_token_ttl = r.OptInt(11);
  c.auth_method = oauth::ParseAuthMethod(r.Str(12)).value_or(oauth::AuthMethod::kClientSecretBasic);
  c.jwks = r.Str(13);
  c.jwks_uri = r.Str(14);
  c.authenticate_class = r.Str(15);
  c.deref_client_id = r.Str(16);
  c.owner_id = r.Str(17);
  c.host = r.Str(18);
  c.created_at = r.Int(19);
  c.updated_at = r.Int(20);
  c.auth_method_explicit = r.Int(21) != 0;
  c.post_logout_redirect_uris = DecodeList(r.Str(22));
  c.backchannel_logout_uri = r.Str(23);
  c.id_token_signed_response_alg = r.Str(24);
  c.require_par = r.Int(25) != 0;
  c.dpop_bound_access_tokens = r.Int(26) != 0;
  c.tls_subject_kind = oauth::ParseTlsSubjectKind(r.Str(27)).value_or(oauth::TlsSubjectKind::kNone);
  c.tls_subject = r.Str(28);
  c.tls_bound_tokens = r.Int(29) != 0;
  // An unknown spelling reads as the strictest profile there is, never as none.
  if (std::string p = r.Str(30); !p.empty()) {
    c.security_profile = oauth::ParseSecurityProfile(p).value_or(oauth::SecurityProfile::kFapi2);
  }
  // Like the profile: an unknown spelling reads as the stricter "required", never as optional.
  c.second_factor_required = !r.Str(31).empty() && r.Str(31) != "optional";
  return c;
}

Result<std::optional<Client>> OneClient(Result<std::optional<Row>> row) {
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Client>();
  return std::optional<Client>(RowToClient(**row));
}

Result<std::vector<Client>> Clients(Result<Rows> rows) {
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<Client> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(RowToClient(r));
  return out;
}

std::vector<std::string> Column0(const Rows& rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Str(0));
  return out;
}

constexpr std::string_view kHostPrefix =
    "substr(host, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT)";

}  // namespace

Result<std::optional<Client>> SqlClientStore::Find(std::string_view client_id) {
  return OneClient(db_.QueryRow(SelectSql() + " WHERE client_id = $1", {Text(client_id)}));
}

Result<std::vector<Client>> SqlClientStore::FindAll() { return Clients(db_.Query(SelectSql())); }

Result<std::optional<Client>> SqlClientStore::Load(Tx& tx, std::string_view client_id) {
  return OneClient(tx.QueryRow(SelectSql() + " WHERE client_id = $1", {Text(client_id)}));
}

Result<std::optional<Client>> SqlClientStore::LoadForUpdate(Tx& tx, std::string_view client_id) {
  // SQLite's BEGIN IMMEDIATE already serializes writers.
  std::string sql = SelectSql() + " WHERE client_id = $1";
  sql += ForUpdate(tx.dialect());
  return OneClient(tx.QueryRow(sql, {Text(client_id)}));
}

Status SqlClientStore::Insert(Tx& tx, const Client& c) {
  auto params = ClientParams(c);
  auto r = tx.Exec(InsertSql(), params);
  if (!r) {
    if (IsUniqueViolation(r.error())) return Fail(oauth::ClientExists(c.client_id));
    return Fail(std::move(r.error()));
  }
  return {};
}

Result<bool> SqlClientStore::InsertIfAbsent(Tx& tx, const Client& c) {
  auto params = ClientParams(c);
  auto r = tx.Exec(InsertSql() + " ON CONFLICT DO NOTHING", params);
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> SqlClientStore::Update(Tx& tx, const Client& c) {
  auto params = UpdateParams(c);
  auto r = tx.Exec(UpdateSql(), params);
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> SqlClientStore::UpdateSecretHash(Tx& tx, std::string_view client_id,
                                              std::string_view secret_hash, int64_t now) {
  auto r = tx.Exec("UPDATE clients SET secret_hash = $2, updated_at = $3 WHERE client_id = $1",
                   {Text(client_id), secret_hash.empty() ? Null() : Text(secret_hash), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> SqlClientStore::ReplaceSecretHash(Tx& tx, std::string_view client_id,
                                               std::string_view from, std::string_view to,
                                               int64_t now) {
  auto r = tx.Exec(
      "UPDATE clients SET secret_hash = $3, updated_at = $4 WHERE client_id = $1 AND "
      "secret_hash = $2",
      {Text(client_id), Text(from), Text(to), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  return *r > 0;
}

Result<bool> SqlClientStore::Delete(Tx& tx, std::string_view client_id) {
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

Result<std::vector<Client>> SqlClientStore::List(Tx& tx, const oauth::ClientListQuery& q) {
  std::string order = ByteOrder(tx.dialect());
  return Clients(tx.Query(SelectSql() + " WHERE " + std::string(kHostPrefix) +
                              " ORDER BY client_name" + order + ", client_id" + order +
                              " LIMIT $2 OFFSET $3",
                          {Text(q.host_prefix), Int(q.limit), Int(q.offset)}));
}

Result<int64_t> SqlClientStore::Count(Tx& tx, std::string_view host_prefix) {
  auto row = tx.QueryRow("SELECT count(*) FROM clients WHERE " + std::string(kHostPrefix),
                         {Text(host_prefix)});
  if (!row) return Fail(std::move(row.error()));
  return *row ? (**row).Int(0) : 0;
}

Result<oauth::ClientLinkMap> SqlClientStore::Links(Tx& tx, std::string_view client_id) {
  std::string order = ByteOrder(tx.dialect());
  auto rows = tx.Query(
      "SELECT service_id, endpoint FROM client_endpoints WHERE client_id = $1 ORDER BY "
      "service_id" +
          order + ", endpoint" + order,
      {Text(client_id)});
  if (!rows) return Fail(std::move(rows.error()));
  oauth::ClientLinkMap out;
  for (const auto& r : *rows) out[r.Str(0)].push_back(r.Str(1));
  return out;
}

Result<std::vector<std::string>> SqlClientStore::ServiceLinks(Tx& tx, std::string_view client_id,
                                                              std::string_view service_id) {
  auto rows = tx.Query(
      "SELECT endpoint FROM client_endpoints WHERE client_id = $1 AND service_id = $2 "
      "ORDER BY endpoint" +
          ByteOrder(tx.dialect()),
      {Text(client_id), Text(service_id)});
  if (!rows) return Fail(std::move(rows.error()));
  return Column0(*rows);
}

Status SqlClientStore::ReplaceServiceLinks(Tx& tx, std::string_view client_id,
                                           std::string_view service_id,
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

Status SqlClientStore::DeleteLinks(Tx& tx, std::string_view client_id,
                                   std::optional<std::string_view> service_id) {
  auto r = service_id
               ? tx.Exec("DELETE FROM client_endpoints WHERE client_id = $1 AND service_id = $2",
                         {Text(client_id), Text(*service_id)})
               : tx.Exec("DELETE FROM client_endpoints WHERE client_id = $1", {Text(client_id)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<std::vector<std::string>> SqlClientStore::ClientsLinkedTo(Tx& tx,
                                                                 std::string_view service_id) {
  auto rows = tx.Query(
      "SELECT client_id FROM client_endpoints WHERE service_id = $1 GROUP BY client_id "
      "ORDER BY client_id" +
          ByteOrder(tx.dialect()),
      {Text(service_id)});
  if (!rows) return Fail(std::move(rows.error()));
  return Column0(*rows);
}

Result<std::vector<std::string>> SqlClientStore::LinkedScope(Tx& tx, std::string_view client_id) {
  std::string order = ByteOrder(tx.dialect());
  auto rows = tx.Query(
      "SELECT e.scope FROM client_endpoints l JOIN service_endpoints e ON "
      "e.service_id = l.service_id AND e.endpoint = l.endpoint WHERE l.client_id = $1 "
      "ORDER BY l.service_id" +
          order + ", l.endpoint" + order,
      {Text(client_id)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) {
    for (auto& s : oauth::SplitScope(r.Str(0))) {
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

Status SqlClientStore::SetScope(Tx& tx, std::string_view client_id,
                                const std::vector<std::string>& scope, int64_t now) {
  std::string text = oauth::JoinScope(scope);
  auto r = tx.Exec("UPDATE clients SET scope = $2, updated_at = $3 WHERE client_id = $1",
                   {Text(client_id), text.empty() ? Null() : Text(text), Int(now)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<bool> SqlClientStore::LockService(Tx& tx, std::string_view service_id) {
  std::string sql = "SELECT service_id FROM services WHERE service_id = $1";
  if (tx.dialect() == Dialect::kPostgres) sql += " FOR SHARE";
  auto row = tx.QueryRow(sql, {Text(service_id)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

Result<bool> SqlClientStore::EndpointExists(Tx& tx, std::string_view service_id,
                                            std::string_view endpoint) {
  auto row =
      tx.QueryRow("SELECT endpoint FROM service_endpoints WHERE service_id = $1 AND endpoint = $2",
                  {Text(service_id), Text(endpoint)});
  if (!row) return Fail(std::move(row.error()));
  return row->has_value();
}

}  // namespace portcullis::store
