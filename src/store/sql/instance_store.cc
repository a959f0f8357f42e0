#include "store/sql/instance_store.h"

#include "store/sql/dialect_sql.h"

namespace portcullis::store {

using oauth::Instance;

Status SqlInstanceStore::Beat(const Instance& i) {
  // One upsert: the first beat inserts, later ones refresh the row.
  auto n = db_.Exec(
      "INSERT INTO instances (instance_id, host, pid, services, version, started_at, last_seen)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (instance_id) DO UPDATE SET"
      " host = excluded.host, pid = excluded.pid, services = excluded.services,"
      " version = excluded.version, started_at = excluded.started_at,"
      " last_seen = excluded.last_seen",
      {Text(i.instance_id), Text(i.host), Int(i.pid), Text(i.services), Text(i.version),
       Int(i.started_at), Int(i.last_seen)});
  if (!n) return Fail(n.error());
  return {};
}

Result<std::vector<Instance>> SqlInstanceStore::List() {
  auto rows = db_.Query(
      "SELECT instance_id, host, pid, services, version, started_at, last_seen FROM instances"
      " ORDER BY last_seen DESC, instance_id" +
      ByteOrder(db_.dialect()));
  if (!rows) return Fail(rows.error());
  std::vector<Instance> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    out.push_back(Instance{r.Str(0), r.Str(1), r.Int(2), r.Str(3), r.Str(4), r.Int(5), r.Int(6)});
  }
  return out;
}

Status SqlInstanceStore::Remove(std::string_view instance_id) {
  auto n = db_.Exec("DELETE FROM instances WHERE instance_id = $1", {Text(instance_id)});
  if (!n) return Fail(n.error());
  return {};
}

Result<int64_t> SqlInstanceStore::Purge(int64_t before) {
  auto n = db_.Exec("DELETE FROM instances WHERE last_seen < $1", {Int(before)});
  if (!n) return Fail(n.error());
  return static_cast<int64_t>(*n);
}

}  // namespace portcullis::store
