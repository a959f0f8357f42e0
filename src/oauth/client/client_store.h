#pragma once
// SQL for clients and their endpoint links (tables clients, client_endpoints), in portable SQL
// over store::Tx. Every function runs inside the caller's transaction; none notifies or audits:
// ClientService does that around them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/client.h"
#include "store/db.h"

namespace portcullis::oauth::client_store {

// SELECT list matching RowToClient.
extern const char* const kColumns;
Client RowToClient(const store::Row& row);

Result<std::optional<Client>> Load(store::Tx& tx, std::string_view client_id);
// Load, taking the row lock on PostgreSQL (SELECT ... FOR UPDATE), so concurrent link changes
// and scope recomputations of one client queue instead of losing updates.
Result<std::optional<Client>> LoadForUpdate(store::Tx& tx, std::string_view client_id);
Result<std::vector<Client>> LoadAll(store::Tx& tx);
// Unique violation on the id is returned as is (callers map it to ERR12019).
Status Insert(store::Tx& tx, const Client& c);
// Writes every column but client_id and created_at. Returns false when no such client.
Result<bool> Update(store::Tx& tx, const Client& c);
Result<bool> UpdateSecretHash(store::Tx& tx, std::string_view client_id,
                              std::string_view secret_hash, int64_t now);
// Deletes the client with its links, refresh tokens, codes, reference tokens, consents and
// delegation policies. Returns false when no such client.
Result<bool> Delete(store::Tx& tx, std::string_view client_id);

struct ListQuery {
  std::string host_prefix;
  int64_t offset = 0;
  int64_t limit = 10;
};
// Sorted by clientName, then clientId (byte order on both backends).
Result<std::vector<Client>> List(store::Tx& tx, const ListQuery& q);
Result<int64_t> Count(store::Tx& tx, std::string_view host_prefix);

// service_id -> endpoint ids, sorted.
using LinkMap = std::map<std::string, std::vector<std::string>>;
Result<LinkMap> Links(store::Tx& tx, std::string_view client_id);
Result<std::vector<std::string>> ServiceLinks(store::Tx& tx, std::string_view client_id,
                                              std::string_view service_id);
// Replaces the client's links to one service.
Status ReplaceServiceLinks(store::Tx& tx, std::string_view client_id, std::string_view service_id,
                           const std::vector<std::string>& endpoints);
Status DeleteLinks(store::Tx& tx, std::string_view client_id,
                   std::optional<std::string_view> service_id);
// Clients with at least one link to the service, sorted by id.
Result<std::vector<std::string>> ClientsLinkedTo(store::Tx& tx, std::string_view service_id);

// The scope reference §7.3 derives from links: the linked endpoints' scopes, split on spaces,
// de-duplicated in order (by service id, then endpoint).
Result<std::vector<std::string>> LinkedScope(store::Tx& tx, std::string_view client_id);
Status SetScope(store::Tx& tx, std::string_view client_id, const std::vector<std::string>& scope,
                int64_t now);

// " COLLATE BINARY" (SQLite) or " COLLATE \"C\"" (PostgreSQL): the same order on both.
std::string_view ByteOrder(store::Dialect d);
// " FOR UPDATE" on PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers.
std::string_view ForUpdate(store::Dialect d);

// JSON array text for list columns, and back (a malformed value reads as empty).
std::string EncodeList(const std::vector<std::string>& items);
std::vector<std::string> DecodeList(std::string_view text);

}  // namespace portcullis::oauth::client_store
