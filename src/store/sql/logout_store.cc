#include "store/sql/logout_store.h"

namespace portcullis::store {
namespace {

using oauth::LogoutDelivery;
using oauth::LogoutParticipant;

// Claiming scans a few due rows and takes the first one whose conditional update wins; a loser
// (another instance took it first) moves on to the next.
constexpr int kClaimCandidates = 8;

Result<std::vector<LogoutParticipant>> Participants(Result<Rows> rows, int64_t now) {
  if (!rows) return Fail(std::move(rows.error()));
  std::vector<LogoutParticipant> out;
  for (const auto& r : *rows) {
    LogoutParticipant p{r.Str(0), r.Str(1), r.Str(2), r.Int(3)};
    if (p.expires_at > now) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

Status SqlLogoutStore::AddParticipant(const LogoutParticipant& p) {
  // Every code of a session records its client again (ParticipantRecordingCodeStore), but the
  // row changes at most once a second (expires_at is now + a fixed TTL). Reading first keeps the
  // usual case off the single SQLite writer: an upsert that changes nothing is still a write
  // transaction, queued behind every other write (bench/results/HOTSPOTS.md). The upsert below
  // keeps the later expiry whatever happened between the two statements.
  auto row =
      db_.QueryRow("SELECT expires_at FROM logout_participants WHERE sid = $1 AND client_id = $2",
                   {Text(p.sid), Text(p.client_id)});
  if (!row) return Fail(row.error());
  if (*row && (*row)->Int(0) >= p.expires_at) return {};
  auto n = db_.Exec(
      "INSERT INTO logout_participants (sid, client_id, user_id, expires_at)"
      " VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (sid, client_id) DO UPDATE SET expires_at = excluded.expires_at"
      " WHERE logout_participants.expires_at < excluded.expires_at",
      {Text(p.sid), Text(p.client_id), Text(p.user_id), Int(p.expires_at)});
  if (!n) return Fail(n.error());
  return {};
}

Result<std::vector<LogoutParticipant>> SqlLogoutStore::TakeParticipants(Tx& tx,
                                                                        std::string_view sid,
                                                                        int64_t now) {
  return Participants(tx.Query("DELETE FROM logout_participants WHERE sid = $1"
                               " RETURNING sid, client_id, user_id, expires_at",
                               {Text(sid)}),
                      now);
}

Result<std::vector<LogoutParticipant>> SqlLogoutStore::TakeParticipantsOfUser(
    Tx& tx, std::string_view user_id, int64_t now) {
  return Participants(tx.Query("DELETE FROM logout_participants WHERE user_id = $1"
                               " RETURNING sid, client_id, user_id, expires_at",
                               {Text(user_id)}),
                      now);
}

Status SqlLogoutStore::Enqueue(Tx& tx, const LogoutDelivery& d) {
  auto n = tx.Exec(
      "INSERT INTO logout_outbox (id, client_id, sub, sid, attempts, next_attempt_at, created_at,"
      " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {Text(d.id), Text(d.client_id), Text(d.sub), d.sid.empty() ? Null() : Text(d.sid),
       Int(d.attempts), Int(d.next_attempt_at), Int(d.created_at), Int(d.expires_at)});
  if (!n) return Fail(n.error());
  return {};
}

Result<std::optional<LogoutDelivery>> SqlLogoutStore::Claim(int64_t now, int64_t lease_s) {
  auto due = db_.Query(
      "SELECT id, next_attempt_at FROM logout_outbox WHERE next_attempt_at <= $1"
      " AND expires_at > $1 ORDER BY next_attempt_at, id LIMIT " +
          std::to_string(kClaimCandidates),
      {Int(now)});
  if (!due) return Fail(std::move(due.error()));
  for (const auto& candidate : *due) {
    // Conditional on the next_attempt_at we saw: of concurrent claimers, one moves it on.
    auto row = db_.QueryRow(
        "UPDATE logout_outbox SET attempts = attempts + 1, next_attempt_at = $1"
        " WHERE id = $2 AND next_attempt_at = $3"
        " RETURNING id, client_id, sub, sid, attempts, next_attempt_at, created_at, expires_at",
        {Int(now + lease_s), Text(candidate.Str(0)), Int(candidate.Int(1))});
    if (!row) return Fail(std::move(row.error()));
    if (!*row) continue;
    const auto& r = **row;
    return std::optional<LogoutDelivery>(LogoutDelivery{r.Str(0), r.Str(1), r.Str(2), r.Str(3),
                                                        static_cast<int>(r.Int(4)), r.Int(5),
                                                        r.Int(6), r.Int(7)});
  }
  return std::optional<LogoutDelivery>();
}

Status SqlLogoutStore::Remove(std::string_view id) {
  auto n = db_.Exec("DELETE FROM logout_outbox WHERE id = $1", {Text(id)});
  if (!n) return Fail(n.error());
  return {};
}

Status SqlLogoutStore::Reschedule(std::string_view id, int64_t next_attempt_at) {
  auto n = db_.Exec("UPDATE logout_outbox SET next_attempt_at = $1 WHERE id = $2",
                    {Int(next_attempt_at), Text(id)});
  if (!n) return Fail(n.error());
  return {};
}

Result<int64_t> SqlLogoutStore::Purge(int64_t now) {
  auto p = db_.Exec("DELETE FROM logout_participants WHERE expires_at <= $1", {Int(now)});
  if (!p) return Fail(p.error());
  auto n = db_.Exec("DELETE FROM logout_outbox WHERE expires_at <= $1", {Int(now)});
  if (!n) return Fail(n.error());
  return *n;
}

}  // namespace portcullis::store
