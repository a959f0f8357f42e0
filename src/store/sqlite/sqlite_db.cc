// SQLite driver, in WAL mode, with prepared statements cached per connection:
//
// - One writer connection, owned by one writer thread (WriterQueue). Every transaction (BEGIN
//   IMMEDIATE) and every autocommit statement that writes runs there, one at a time, in arrival
//   order: a caller waits in that queue and is woken once, when its work is done, never in
//   SQLite's busy handler, which sleeps between retries (the cause of p99 latencies of hundreds
//   of ms under concurrent writes). The transaction function runs on the writer thread; its
//   caller blocks meanwhile. The busy timeout still applies on the writer, for writers in other
//   processes on the same file (the CLI, another server).
// - A pool of reader connections (Options::pool_size - 1, opened on demand, `query_only`) for
//   autocommit reads, which WAL lets run beside the writer. An autocommit statement is sent to
//   the writer when SQLite says it is not read-only (sqlite3_stmt_readonly); the caller's
//   reader goes back to the pool first, so writers waiting in the queue never hold the readers.
//   With a pool of one (and for ":memory:", which one connection alone can see) the writer
//   serves reads too.
//
// Change notifications cross processes through the store_changes table (migration 0003): a
// notifying transaction appends its rows there, and a subscribed process polls
// `PRAGMA data_version` on its own connection (it changes only when ANOTHER connection has
// committed, so an idle store costs one tiny pragma per poll) and then reads the new rows.

#include <sqlite3.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/log.h"
#include "store/internal.h"
#include "store/sqlite/writer_queue.h"

namespace portcullis::store::internal {
namespace {

// "UNIQUE constraint failed: users.email" -> "users(email)";
// "UNIQUE constraint failed: t.a, t.b" -> "t(a, b)".
std::string SqliteUniqueKey(std::string_view msg) {
  constexpr std::string_view kPrefix = "constraint failed: ";
  size_t at = msg.find(kPrefix);
  if (at == std::string_view::npos) return {};
  std::string_view list = msg.substr(at + kPrefix.size());
  std::string table, cols;
  while (!list.empty()) {
    size_t comma = list.find(", ");
    std::string_view item = list.substr(0, comma);
    size_t dot = item.find('.');
    if (dot == std::string_view::npos) return {};
    if (table.empty()) table = item.substr(0, dot);
    if (!cols.empty()) cols += ", ";
    cols += item.substr(dot + 1);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return table + "(" + cols + ")";
}

Error SqliteError(sqlite3* db, std::string_view what) {
  int ext = sqlite3_extended_errcode(db);
  std::string msg = sqlite3_errmsg(db);
  switch (ext) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return UniqueViolation(SqliteUniqueKey(msg), msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return ForeignKeyViolation(msg);
    default:
      break;
  }
  std::string detail =
      "sqlite " + std::string(what) + ": " + msg + " (code " + std::to_string(ext) + ")";
  int primary = ext & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Error::Unavailable(std::move(detail));
  }
  return Error::Internal(std::move(detail));
}

class SqliteConn {
 public:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  ~SqliteConn() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* db() const { return db_; }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second;
    std::string rewritten = RewritePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, rewritten.data(), static_cast<int>(rewritten.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return Fail(SqliteError(db_, "prepare"));
    if (stmt == nullptr) return Fail(Error::Internal("sqlite prepare: empty statement"));
    std::string_view rest(tail, rewritten.data() + rewritten.size() - tail);
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return Fail(Error::Internal("sqlite prepare: more than one statement (use ExecScript)"));
    }
    stmts_.emplace(std::string(sql), stmt);
    return stmt;
  }

  Status ExecScript(std::string_view sql) {
    std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Fail(SqliteError(db_, "exec"));
    }
    return {};
  }

 private:
  // Looks statements up by string_view, without building a key string per call.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> stmts_;
};

using Writer = WriterQueue<SqliteConn>;

// Resets a statement when the call using it ends, so it can be reused.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_;
};

Status Bind(sqlite3* db, sqlite3_stmt* stmt, std::span<const Param> params) {
  int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return Fail(Error::Internal("sqlite bind: statement has " + std::to_string(expected) +
                                " parameters, " + std::to_string(params.size()) + " given"));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    if (const auto* s = std::get_if<std::string>(&params[i])) {
      rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (const auto* v = std::get_if<int64_t>(&params[i])) {
      rc = sqlite3_bind_int64(stmt, idx, *v);
    } else {
      rc = sqlite3_bind_null(stmt, idx);
    }
    if (rc != SQLITE_OK) return Fail(SqliteError(db, "bind"));
  }
  return {};
}

class SqliteTx final : public Tx {
 public:
  // On one connection (the writer's, or the change watcher's). `origin` names the Database in
  // the change log; empty: record nothing (":memory:", which no other connection can see).
  SqliteTx(SqliteConn& conn, std::string_view origin) : conn_(&conn), origin_(origin) {}
  // An autocommit call: reads run on a connection of `readers`, taken at the first read; every
  // statement that is not read-only (and every script) runs on `writes`, in turn. The reader is
  // given back before a write waits for the writer, so a queue of writers never holds the readers
  // (each autocommit statement is its own snapshot: nothing spans the hand-back).
  SqliteTx(Pool<SqliteConn>& readers, std::string_view origin, Writer& writes)
      : origin_(origin), readers_(&readers), writes_(&writes) {}
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status ExecScript(std::string_view sql) override {
    if (writes_ == nullptr) return conn_->ExecScript(sql);
    ReleaseReader();
    return writes_->Run([&](SqliteConn& writer) { return writer.ExecScript(sql); });
  }

  Status Notify(std::string_view kind, std::string_view id) override {
    if (auto st = ValidateNotify(kind, id); !st) return st;
    if (!origin_.empty()) {
      // In the same transaction as the change, so other processes see both or neither.
      auto r = Exec(
          "INSERT INTO store_changes (origin, kind, id, at) "
          "VALUES ($1, $2, $3, CAST(strftime('%s', 'now') AS INTEGER))",
          {Text(origin_), Text(kind), Text(id)});
      // A store that was never migrated has no change log: in-process delivery still works.
      if (!r && r.error().detail.find("no such table: store_changes") == std::string::npos) {
        return Fail(std::move(r.error()));
      }
    }
    pending_.emplace_back(std::string(kind), std::string(id));
    return {};
  }

  std::vector<std::pair<std::string, std::string>> TakePending() { return std::move(pending_); }

 protected:
  Result<Rows> DoQuery(std::string_view sql, std::span<const Param> params) override {
    Rows rows;
    auto st = Route(sql, params, &rows);
    if (!st) return Fail(std::move(st.error()));
    return rows;
  }

  Result<int64_t> DoExec(std::string_view sql, std::span<const Param> params) override {
    return Route(sql, params, nullptr);
  }

 private:
  // Runs the statement here, or on the writer when this is a reader and the statement writes.
  // Returns the number of rows it changed.
  Result<int64_t> Route(std::string_view sql, std::span<const Param> params, Rows* rows) {
    if (writes_ == nullptr) {
      auto stmt = conn_->Prepare(sql);
      if (!stmt) return Fail(std::move(stmt.error()));
      return Step(*conn_, *stmt, params, rows);
    }
    if (!KnownWrite(sql)) {
      if (!reader_) {
        auto lease = readers_->Acquire();
        if (!lease) return Fail(std::move(lease.error()));
        reader_.emplace(std::move(*lease));
        conn_ = &**reader_;
      }
      auto stmt = conn_->Prepare(sql);
      if (!stmt) return Fail(std::move(stmt.error()));
      if (sqlite3_stmt_readonly(*stmt)) return Step(*conn_, *stmt, params, rows);
      RememberWrite(sql);
    }
    ReleaseReader();
    int64_t changed = 0;
    auto st = writes_->Run([&](SqliteConn& writer) -> Status {
      auto on_writer = writer.Prepare(sql);
      if (!on_writer) return Fail(std::move(on_writer.error()));
      auto n = Step(writer, *on_writer, params, rows);
      if (!n) return Fail(std::move(n.error()));
      changed = *n;
      return {};
    });
    if (!st) return Fail(std::move(st.error()));
    return changed;
  }

  // Runs the statement to completion (so RETURNING clauses and changes() are complete),
  // collecting rows when `rows` is set.
  static Result<int64_t> Step(SqliteConn& conn, sqlite3_stmt* stmt, std::span<const Param> params,
                              Rows* rows) {
    StmtUse use(stmt);
    if (auto st = Bind(conn.db(), stmt, params); !st) return Fail(std::move(st.error()));
    const int ncols = sqlite3_column_count(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return static_cast<int64_t>(sqlite3_changes64(conn.db()));
      if (rc != SQLITE_ROW) return Fail(SqliteError(conn.db(), "step"));
      if (rows == nullptr) continue;
      std::vector<std::optional<std::string>> cells(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        int len = sqlite3_column_bytes(stmt, c);
        cells[c].emplace(text ? text : "", text ? static_cast<size_t>(len) : 0);
      }
      rows->emplace_back(std::move(cells));
    }
  }

  void ReleaseReader() {
    reader_.reset();
    conn_ = nullptr;
  }

  // Statements known to write, by text, so that a write goes to the writer without taking a
  // reader first only to learn that (sqlite3_stmt_readonly depends on the text alone). Per
  // thread: no lock; each store thread learns the few write statements once.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using SqlSet = std::unordered_set<std::string, SqlHash, std::equal_to<>>;
  static SqlSet& Writes() {
    thread_local SqlSet writes;
    return writes;
  }
  static bool KnownWrite(std::string_view sql) { return Writes().contains(sql); }
  static void RememberWrite(std::string_view sql) {
    if (Writes().size() < 512) Writes().emplace(sql);
  }

  SqliteConn* conn_ = nullptr;  // the writer's or watcher's; or the reader while one is held
  std::string_view origin_;
  Pool<SqliteConn>* readers_ = nullptr;
  Writer* writes_ = nullptr;
  std::optional<Pool<SqliteConn>::Lease> reader_;
  std::vector<std::pair<std::string, std::string>> pending_;
};

// `reader`: the connection refuses writes (PRAGMA query_only), so a statement sent to the wrong
// connection fails loudly instead of waiting in the busy handler.
Result<std::unique_ptr<SqliteConn>> Connect(const std::string& path, const Options& options,
                                            bool reader = false) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Fail(OpenError("cannot open SQLite database " + path + ": " + msg));
  }
  auto conn = std::make_unique<SqliteConn>(raw);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // journal_mode=WAL is persistent in the file; the others are per connection.
  auto st = conn->ExecScript(
      reader ? "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
             : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!st) {
    return Fail(
        OpenError("cannot open SQLite database " + path + ": " + std::string(sqlite3_errmsg(raw))));
  }
  return conn;
}

// A random name for one Database in the change log, so its own rows are not delivered twice.
std::string NewOrigin() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kHex[rd() % 16]);
  return out;
}

class SqliteDatabase final : public Database {
 public:
  // `writer`: the connection OpenSqlite made. `readers`: how many reader connections to open at
  // most; 0: the writer serves reads too.
  SqliteDatabase(std::string path, const Options& options, std::unique_ptr<SqliteConn> writer,
                 int readers, bool memory)
      : path_(std::move(path)),
        options_(options),
        origin_(memory ? std::string() : NewOrigin()),
        writer_(std::move(writer), std::chrono::milliseconds(options.acquire_timeout_ms)) {
    if (readers > 0) {
      readers_ = std::make_unique<Pool<SqliteConn>>(
          readers, std::chrono::milliseconds(options.acquire_timeout_ms),
          [this] { return Connect(path_, options_, /*reader=*/true); },
          [](SqliteConn&) { return true; });
    }
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  void Subscribe(Subscriber fn) override {
    subscribers_.Add(std::move(fn));
    if (origin_.empty() || options_.change_poll_ms <= 0) return;
    std::call_once(watch_once_, [this] {
      auto conn = Connect(path_, options_);
      if (!conn) {
        log::Warn("store.change_watch_failed", {{"error", conn.error().detail}});
        return;
      }
      // The starting point is read here, before Subscribe returns, so no later change is missed.
      watch_version_ = DataVersion(**conn);
      // Not migrated yet: every row the migration's table will hold is new.
      watch_seq_ = LastSeq(**conn).value_or(0);
      watcher_ =
          std::jthread([this, own = std::move(*conn)](std::stop_token stop) { Watch(stop, *own); });
    });
  }

 protected:
  Status Run(const TxFn& fn, bool transaction) override {
    std::vector<std::pair<std::string, std::string>> notes;
    if (transaction || readers_ == nullptr) {
      auto st = writer_.Run([&](SqliteConn& conn) -> Status {
        SqliteTx tx(conn, origin_);
        Status st;
        if (transaction) {
          // Other processes' writers are the only ones this can wait for (busy timeout).
          if (auto b = conn.ExecScript("BEGIN IMMEDIATE"); !b) return b;
          // Rolls back if fn throws or fails; disarmed by a successful COMMIT.
          struct Rollback {
            sqlite3* db;
            ~Rollback() {
              if (db && !sqlite3_get_autocommit(db)) {
                sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
              }
            }
          } guard{conn.db()};
          st = fn(tx);
          if (st) {
            if (auto c = conn.ExecScript("COMMIT"); !c) st = std::move(c);
          }
        } else {
          st = fn(tx);
        }
        if (st) notes = tx.TakePending();
        return st;
      });
      if (!st) return st;
    } else {
      SqliteTx tx(*readers_, origin_, writer_);
      if (auto st = fn(tx); !st) return st;
      notes = tx.TakePending();
    }
    for (const auto& [kind, id] : notes) subscribers_.Deliver(kind, id);
    return {};
  }

 private:
  // How long change-log rows are kept: far longer than any poll interval; a process that falls
  // further behind than this still has its periodic full reload.
  static constexpr int64_t kKeepChangesSeconds = 600;

  static int64_t DataVersion(SqliteConn& c) {
    auto stmt = c.Prepare("PRAGMA data_version");
    if (!stmt) return -1;
    StmtUse use(*stmt);
    return sqlite3_step(*stmt) == SQLITE_ROW ? sqlite3_column_int64(*stmt, 0) : -1;
  }

  static std::optional<int64_t> LastSeq(SqliteConn& c) {
    auto stmt = c.Prepare("SELECT COALESCE(MAX(seq), 0) FROM store_changes");
    if (!stmt) return std::nullopt;  // not migrated yet
    StmtUse use(*stmt);
    if (sqlite3_step(*stmt) != SQLITE_ROW) return std::nullopt;
    return sqlite3_column_int64(*stmt, 0);
  }

  // The poll loop, on its own thread and connection (never an I/O thread, never a pooled
  // connection): one `PRAGMA data_version` per interval; the change log is read only when
  // another connection has committed since the last look.
  void Watch(std::stop_token stop, SqliteConn& c) {
    std::mutex mu;
    std::condition_variable_any cv;
    const auto interval = std::chrono::milliseconds(options_.change_poll_ms);
    auto next_prune = std::chrono::steady_clock::now();
    bool warned = false;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, stop, interval, [] { return false; });
      }
      if (stop.stop_requested()) return;
      int64_t version = DataVersion(c);
      if (version == watch_version_ && version != -1) continue;
      watch_version_ = version;
      auto st = ReadChanges(c);
      if (!st) {
        if (!warned) log::Warn("store.change_watch_failed", {{"error", st.error().detail}});
        warned = true;
        continue;
      }
      warned = false;
      if (auto now = std::chrono::steady_clock::now(); now >= next_prune) {
        next_prune = now + std::chrono::seconds(60);
        // A write: on the writer, in turn, like every other write of this process.
        (void)writer_.Run([](SqliteConn& writer) -> Status {
          SqliteTx tx(writer, {});
          auto n = tx.Exec(
              "DELETE FROM store_changes WHERE at < CAST(strftime('%s', 'now') AS INTEGER) - $1",
              {Int(kKeepChangesSeconds)});
          if (!n) return Fail(std::move(n.error()));
          return {};
        });
      }
    }
  }

  // Delivers the change-log rows after watch_seq_ that other Database objects wrote.
  Status ReadChanges(SqliteConn& c) {
    SqliteTx tx(c, {});
    auto rows = tx.Query(
        "SELECT seq, origin, kind, id FROM store_changes WHERE seq > $1 ORDER BY seq LIMIT 1000",
        {Int(watch_seq_)});
    if (!rows) {
      if (rows.error().detail.find("no such table: store_changes") != std::string::npos) return {};
      return Fail(std::move(rows.error()));
    }
    bool all = rows->size() >= 1000;  // a burst (an import): reload everything instead
    for (const auto& row : *rows) {
      watch_seq_ = row.Int(0);
      if (all || row.Str(1) == origin_) continue;
      subscribers_.Deliver(row.Str(2), row.Str(3));
    }
    if (all) {
      if (auto last = LastSeq(c)) watch_seq_ = *last;
      subscribers_.Deliver("*", "");
    }
    return {};
  }

  const std::string path_;
  const Options options_;
  const std::string origin_;  // empty for ":memory:"
  Writer writer_;
  std::unique_ptr<Pool<SqliteConn>> readers_;  // null: the writer serves reads too
  Subscribers subscribers_;
  std::once_flag watch_once_;
  // Owned by the watcher thread once it runs.
  int64_t watch_version_ = -1;
  int64_t watch_seq_ = 0;
  // Last member: stopped and joined first, while everything it uses is still alive.
  std::jthread watcher_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path_view, const Options& options) {
  std::string path(path_view);
  const bool memory = path == ":memory:";
  if (!memory) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Fail(OpenError("cannot open SQLite database " + path + ": directory " + dir.string() +
                            " does not exist"));
    }
  }
  // Every connection to ":memory:" would be a separate database: keep exactly one.
  int pool_size = memory ? 1 : (options.pool_size > 0 ? options.pool_size : 4);
  auto writer = Connect(path, options);
  if (!writer) return Fail(std::move(writer.error()));
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(path, options, std::move(*writer), pool_size - 1, memory));
}

}  // namespace portcullis::store::internal
