#include "store/sql/audit_log.h"

#include <string>
#include <vector>

namespace portcullis::store {

using oauth::audit::Entry;
using oauth::audit::Page;
using oauth::audit::Query;
using oauth::audit::StoredJson;
using AuditRow = oauth::audit::Row;

Status SqlAuditLog::Record(Tx& tx, int64_t now, Entry entry) {
  std::string before = StoredJson(entry.before);
  std::string after = StoredJson(entry.after);
  auto r = tx.Exec(
      "INSERT INTO audit_log (at, actor, action, entity_kind, entity_id, before_json, after_json) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {Int(now), Text(entry.actor), Text(entry.action), Text(entry.entity_kind),
       Text(entry.entity_id), before.empty() ? Null() : Text(before),
       after.empty() ? Null() : Text(after)});
  if (!r) return Fail(std::move(r.error()));
  return {};
}

Result<Page> SqlAuditLog::List(const Query& q) {
  std::string where = " WHERE 1 = 1";
  std::vector<Param> params;
  auto add = [&](std::string_view cond, Param p) {
    params.push_back(std::move(p));
    std::string n = "$" + std::to_string(params.size());
    std::string c(cond);
    for (size_t pos; (pos = c.find("$?")) != std::string::npos;) c.replace(pos, 2, n);
    where += " AND " + c;
  };
  if (!q.entity_kind.empty()) add("entity_kind = CAST($? AS TEXT)", q.entity_kind);
  if (!q.entity_id.empty()) add("entity_id = CAST($? AS TEXT)", q.entity_id);
  if (!q.actor.empty()) add("actor = CAST($? AS TEXT)", q.actor);
  if (!q.action.empty()) {
    if (q.action.back() == '.') {
      add("substr(action, 1, length(CAST($? AS TEXT))) = CAST($? AS TEXT)", q.action);
    } else {
      add("action = CAST($? AS TEXT)", q.action);
    }
  }
  if (q.since) add("at >= $?", *q.since);
  if (q.until) add("at < $?", *q.until);

  auto count = db_.QueryRow("SELECT count(*) FROM audit_log" + where, params);
  if (!count) return Fail(std::move(count.error()));
  Page page;
  page.total = *count ? (**count).Int(0) : 0;

  auto list_params = params;
  list_params.push_back(Int(q.limit));
  list_params.push_back(Int(q.offset));
  std::string sql =
      "SELECT id, at, actor, action, entity_kind, entity_id, before_json, after_json FROM "
      "audit_log" +
      where + " ORDER BY id DESC LIMIT $" + std::to_string(params.size() + 1) + " OFFSET $" +
      std::to_string(params.size() + 2);
  auto rows = db_.Query(sql, list_params);
  if (!rows) return Fail(std::move(rows.error()));
  for (const auto& r : *rows) {
    page.entries.push_back(
        AuditRow{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Str(6), r.Str(7)});
  }
  return page;
}

}  // namespace portcullis::store
