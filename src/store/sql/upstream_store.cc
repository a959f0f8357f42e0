#include "store/sql/upstream_store.h"

#include <algorithm>

namespace portcullis::store {

using oauth::upstream::Link;
using oauth::upstream::PendingFlow;

Status SqlUpstreamStore::SaveFlow(const PendingFlow& f) {
  auto n = db_.Exec(
      "INSERT INTO upstream_flows (state_hash, authenticator, binding_hash, request, nonce,"
      " code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {Text(f.state_hash), Text(f.authenticator), Text(f.binding_hash), Text(f.request),
       Text(f.nonce), Text(f.code_verifier), Int(f.expires_at)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Result<std::optional<PendingFlow>> SqlUpstreamStore::TakeFlow(std::string_view state_hash,
                                                              int64_t now) {
  // One statement: of two concurrent takes only one deletes (and so returns) the row.
  auto row = db_.QueryRow(
      "DELETE FROM upstream_flows WHERE state_hash = $1 AND expires_at > $2"
      " RETURNING authenticator, binding_hash, request, nonce, code_verifier, expires_at",
      {Text(state_hash), Int(now)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<PendingFlow>();
  const Row& r = **row;
  return std::optional<PendingFlow>(PendingFlow{std::string(state_hash), r.Str(0), r.Str(1),
                                                r.Str(2), r.Str(3), r.Str(4), r.Int(5)});
}

Status SqlUpstreamStore::PurgeFlows(int64_t now) {
  auto n = db_.Exec("DELETE FROM upstream_flows WHERE expires_at <= $1", {Int(now)});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Status SqlUpstreamStore::CapFlows(std::string_view binding_hash, int64_t keep, int64_t now) {
  // seq orders the flows by saving (a rowid alias on SQLite, a sequence on PostgreSQL).
  auto n = db_.Exec(
      "DELETE FROM upstream_flows WHERE binding_hash = $1 AND seq NOT IN"
      " (SELECT seq FROM upstream_flows WHERE binding_hash = $1 AND expires_at > $2"
      " ORDER BY seq DESC LIMIT $3)",
      {Text(binding_hash), Int(now), Int(std::max<int64_t>(keep, 0))});
  if (!n) return Fail(std::move(n.error()));
  return {};
}

Result<std::optional<Link>> SqlUpstreamStore::FindLink(Tx& tx, std::string_view authenticator,
                                                       std::string_view subject) {
  auto row = tx.QueryRow(
      "SELECT user_id, created, created_at FROM upstream_links"
      " WHERE authenticator = $1 AND subject = $2",
      {Text(authenticator), Text(subject)});
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<Link>();
  const Row& r = **row;
  return std::optional<Link>(
      Link{std::string(authenticator), std::string(subject), r.Str(0), r.Int(1) != 0, r.Int(2)});
}

Result<bool> SqlUpstreamStore::InsertLink(Tx& tx, const Link& l) {
  auto n = tx.Exec(
      "INSERT INTO upstream_links (authenticator, subject, user_id, created, created_at)"
      " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (authenticator, subject) DO NOTHING",
      {Text(l.authenticator), Text(l.subject), Text(l.user_id), Int(l.created ? 1 : 0),
       Int(l.created_at)});
  if (!n) return Fail(std::move(n.error()));
  return *n == 1;
}

Result<std::vector<std::string>> SqlUpstreamStore::UsersWithEmail(Tx& tx, std::string_view email) {
  auto rows =
      tx.Query("SELECT user_id FROM users WHERE LOWER(email) = LOWER($1) LIMIT 2", {Text(email)});
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.Str(0));
  return out;
}

}  // namespace portcullis::store
