#pragma once
// The storage driver: a small interface that the domain stores (clients, users, codes, tokens,
// keys, ...) are written against once, in portable SQL, for both backends. Only the migrations
// (src/store/migrations/<dialect>/) and the driver differ per dialect.
//
// SQL dialect rules for domain stores:
//   - Placeholders are PostgreSQL-style `$1..$n` in both dialects (repeats and any order are
//     fine); the SQLite driver rewrites them to `?N`. Every `$N` up to the number of
//     parameters must appear: PostgreSQL infers a text parameter's type from where it is used
//     (integers are sent typed int8), so write `$1::text` where the context gives no type.
//   - Integers are int64 (BIGINT / INTEGER columns); timestamps are unix seconds. Do not select
//     PostgreSQL booleans (they come back as "t"/"f"): use integers or CHAR(1).
//   - `RETURNING` and `INSERT ... ON CONFLICT` are fine (SQLite >= 3.35).
//   - A statement that fails inside a transaction aborts the whole transaction on PostgreSQL:
//     return the error from the transaction function, do not carry on.
//
// Errors: unique-key and foreign-key violations are recognisable (IsUniqueViolation,
// IsForeignKeyViolation); an unreachable database, a dropped connection or an exhausted pool is
// Error::Unavailable (503, retry later); any other database failure is Error::Internal with the
// driver's message in `detail` only, never in `description`.
//
// Thread-safety: a Database is safe to use from many threads at once; a Tx belongs to the one
// call that received it. Calls block (network or disk I/O) and must not run on I/O threads.
// Do not call the Database from inside a transaction function: the transaction holds a pooled
// connection, and a nested call may wait for another one.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"

namespace portcullis::store {

enum class Dialect { kSqlite, kPostgres };
std::string_view DialectName(Dialect d);  // "sqlite" | "postgres"

// A statement parameter: NULL, text or a 64-bit integer. Integers are sent to PostgreSQL as
// text typed int8, to SQLite as int64.
using Param = std::variant<std::monostate, std::string, int64_t>;

// Builders, so a parameter list reads `{Text(id), Int(now), Null(), OptText(desc)}`.
// (`std::string` and integer literals convert implicitly; string_view needs Text().)
inline Param Null() { return std::monostate{}; }
inline Param Text(std::string_view s) { return std::string(s); }
inline Param Int(int64_t v) { return v; }
inline Param OptText(const std::optional<std::string>& s) {
  return s ? Param(*s) : Param(std::monostate{});
}
inline Param OptInt(const std::optional<int64_t>& v) {
  return v ? Param(*v) : Param(std::monostate{});
}

// One result row; owns its values. Column indexes follow the SELECT list. An out-of-range
// index reads as NULL.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}

  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return i >= cells_.size() || !cells_[i].has_value(); }
  // The value as text (integers in decimal); nullopt for NULL. Valid while the Row lives.
  std::optional<std::string_view> Text(size_t i) const;
  // The value as text; empty for NULL.
  std::string Str(size_t i) const;
  std::optional<std::string> OptStr(size_t i) const;
  // The value as an integer; 0 for NULL or a non-integer value.
  int64_t Int(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};

using Rows = std::vector<Row>;

// One connection, inside a transaction (Database::Transact) or in autocommit mode (the
// Database convenience calls). Not thread-safe; valid only during the call that handed it out.
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Dialect dialect() const = 0;

  Result<Rows> Query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return DoQuery(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Result<Rows> Query(std::string_view sql, std::span<const Param> params) {
    return DoQuery(sql, params);
  }
  // The first row, or nullopt when there is none.
  Result<std::optional<Row>> QueryRow(std::string_view sql,
                                      std::initializer_list<Param> params = {}) {
    return FirstRow(DoQuery(sql, std::span<const Param>(params.begin(), params.size())));
  }
  Result<std::optional<Row>> QueryRow(std::string_view sql, std::span<const Param> params) {
    return FirstRow(DoQuery(sql, params));
  }
  // Runs one statement; returns the number of rows inserted, updated or deleted.
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Param> params = {}) {
    return DoExec(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Result<int64_t> Exec(std::string_view sql, std::span<const Param> params) {
    return DoExec(sql, params);
  }
  // Runs several `;`-separated statements without parameters (migrations, DDL).
  virtual Status ExecScript(std::string_view sql) = 0;

  // Announces a change of entity `kind` (e.g. "client") with id `id` to every subscriber
  // (Database::Subscribe). Inside a transaction it is sent only when the transaction commits,
  // and dropped when it rolls back. `kind` must not contain ':'.
  virtual Status Notify(std::string_view kind, std::string_view id) = 0;

 protected:
  virtual Result<Rows> DoQuery(std::string_view sql, std::span<const Param> params) = 0;
  virtual Result<int64_t> DoExec(std::string_view sql, std::span<const Param> params) = 0;

 private:
  static Result<std::optional<Row>> FirstRow(Result<Rows> rows);
};

struct Options {
  // Connections kept open at most. 0 picks the default: 8 for PostgreSQL, 4 for SQLite
  // (1 for an in-memory SQLite database).
  int pool_size = 0;
  // SQLite: how long a statement waits for a lock held by another writer.
  int busy_timeout_ms = 5000;
  // PostgreSQL: how long opening a connection may take.
  int connect_timeout_s = 5;
  // How long a call waits for a free pooled connection before failing with Unavailable.
  int acquire_timeout_ms = 5000;
  // PostgreSQL: how many times a transaction is re-run after a serialization failure or a
  // deadlock (SQLSTATE 40001, 40P01). The transaction function must be safe to re-run.
  int max_tx_retries = 3;
  // SQLite: how often a subscribed Database looks for changes committed by other processes
  // (one `PRAGMA data_version` per look, on a thread of its own). 0 turns the look off.
  int change_poll_ms = 250;
  // PostgreSQL application_name (visible in pg_stat_activity); the LISTEN connection uses
  // `<application_name>-listen`.
  std::string application_name = "portcullis";
};

class Database {
 public:
  using TxFn = std::function<Status(Tx&)>;
  // Called with the kind and id given to Notify. ("*", "") means "notifications may have been
  // missed (the listener reconnected): reload everything".
  using Subscriber = std::function<void(std::string_view kind, std::string_view id)>;
  // Called once per store call with its name, its duration and whether it succeeded.
  using Observer = std::function<void(std::string_view op, double seconds, bool ok)>;

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual Dialect dialect() const = 0;

  // Runs `fn` in one transaction: BEGIN (SQLite: BEGIN IMMEDIATE, so writers queue instead of
  // failing), then COMMIT when fn succeeds, ROLLBACK when it fails or throws. On PostgreSQL a
  // serialization failure or deadlock re-runs fn (Options::max_tx_retries). `op` names the
  // call for the observer, e.g. "client.update".
  Status Transact(std::string_view op, const TxFn& fn);
  Status Transact(const TxFn& fn) { return Transact("transact", fn); }

  // Transact for a function that computes a value.
  template <typename T>
  Result<T> TransactValue(std::string_view op, const std::function<Result<T>(Tx&)>& fn) {
    std::optional<T> out;
    auto st = Transact(op, [&](Tx& tx) -> Status {
      auto r = fn(tx);
      if (!r) return Fail(std::move(r.error()));
      out = std::move(*r);
      return {};
    });
    if (!st) return Fail(std::move(st.error()));
    return std::move(*out);
  }

  // One statement outside an explicit transaction (autocommit).
  Result<Rows> Query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return Query(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Result<Rows> Query(std::string_view sql, std::span<const Param> params);
  Result<std::optional<Row>> QueryRow(std::string_view sql,
                                      std::initializer_list<Param> params = {}) {
    return QueryRow(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Result<std::optional<Row>> QueryRow(std::string_view sql, std::span<const Param> params);
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Param> params = {}) {
    return Exec(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Result<int64_t> Exec(std::string_view sql, std::span<const Param> params);

  // A round trip to the database (readiness probes).
  Status Ping();

  // Applies the embedded migrations that are not yet applied, each in its own transaction, and
  // returns how many it applied. Idempotent; safe to run from several processes at once
  // (PostgreSQL: serialized by an advisory lock; SQLite: by the write lock).
  Result<int> Migrate();
  // The highest applied migration version; 0 for an empty database.
  Result<int> SchemaVersion();
  // The highest version this binary embeds.
  int LatestSchemaVersion() const;

  // Notify outside an explicit transaction: sent at once.
  Status Notify(std::string_view kind, std::string_view id);

  // Registers a change listener. PostgreSQL: the first call opens one dedicated LISTEN
  // connection on a background thread (waiting up to the connect timeout for it), which
  // reconnects with back-off and then calls every subscriber with ("*", ""); notifications
  // from every instance on the database arrive, this one's included. SQLite: this process's
  // own notifications on the committing thread after the commit; those of other processes on
  // the same file (the CLI, another server) through the store_changes log, which the first
  // call starts polling on a background thread (Options::change_poll_ms). Callbacks must be
  // quick and thread-safe.
  virtual void Subscribe(Subscriber fn) = 0;

  // Sets the latency hook (nullptr removes it). May be called at any time.
  void SetObserver(Observer fn);

 protected:
  Database() = default;
  // Runs fn on one pooled connection, in a transaction when `transaction`, else in autocommit.
  virtual Status Run(const TxFn& fn, bool transaction) = 0;
  void Observe(std::string_view op, double seconds, bool ok) const;

 private:
  std::atomic<std::shared_ptr<const Observer>> observer_;
};

// Opens `url`:
//   sqlite:PATH (also sqlite://PATH, sqlite::memory:)  the directory of PATH must exist
//   postgres://... | postgresql://...                 a libpq connection URI
// It connects once, so an unreachable server or a bad path fails here with an Error whose
// description names the cause in one line, e.g. "cannot connect to PostgreSQL at
// 127.0.0.1:5432: Connection refused". It does not migrate: call Migrate().
Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, const Options& options = {});

// Violations, as returned by any call. Both are HTTP 409 with oauth_error "conflict" and
// message "UNIQUE_VIOLATION" / "FOREIGN_KEY_VIOLATION"; a domain store normally maps them to
// its own light-oauth2 error (e.g. ERR12019 CLIENT_ID_EXISTS).
bool IsUniqueViolation(const Error& e);
bool IsForeignKeyViolation(const Error& e);
// For a unique violation, the violated key as "table(col1, col2)", e.g. "users(email)", so a
// store can tell a duplicate id from a duplicate email; empty when unknown.
std::string ViolatedKey(const Error& e);

Error UniqueViolation(std::string_view key, std::string_view driver_message);
Error ForeignKeyViolation(std::string_view driver_message);

}  // namespace portcullis::store
