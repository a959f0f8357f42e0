#include "store/db.h"

#include <charconv>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "store/internal.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kUniqueMessage = "UNIQUE_VIOLATION";
constexpr std::string_view kForeignKeyMessage = "FOREIGN_KEY_VIOLATION";
constexpr std::string_view kUniqueDetailPrefix = "unique violation on ";

// Serializes Migrate() across processes on PostgreSQL (pg_advisory_xact_lock key).
constexpr int64_t kMigrationLockKey = 0x706f7274'63756c6c;  // "portcull"

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::string_view DialectName(Dialect d) { return d == Dialect::kSqlite ? "sqlite" : "postgres"; }

// --- Row ---

std::optional<std::string_view> Row::Text(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return std::string_view(*cells_[i]);
}

std::string Row::Str(size_t i) const { return IsNull(i) ? std::string() : *cells_[i]; }

std::optional<std::string> Row::OptStr(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return *cells_[i];
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  const std::string& s = *cells_[i];
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

int64_t Row::Int(size_t i) const { return OptInt(i).value_or(0); }

// --- Tx ---

Result<std::optional<Row>> Tx::FirstRow(Result<Rows> rows) {
  if (!rows) return Fail(std::move(rows.error()));
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

// --- Database ---

void Database::SetObserver(Observer fn) {
  observer_.store(fn ? std::make_shared<const Observer>(std::move(fn)) : nullptr);
}

void Database::Observe(std::string_view op, double seconds, bool ok) const {
  if (auto obs = observer_.load()) (*obs)(op, seconds, ok);
}

Status Database::Transact(std::string_view op, const TxFn& fn) {
  Timer t;
  Status st = Run(fn, /*transaction=*/true);
  Observe(op, t.Seconds(), st.has_value());
  return st;
}

Result<Rows> Database::Query(std::string_view sql, std::span<const Param> params) {
  Timer t;
  Result<Rows> out;
  Status st = Run(
      [&](Tx& tx) -> Status {
        out = tx.Query(sql, params);
        if (!out) return Fail(out.error());
        return {};
      },
      /*transaction=*/false);
  Observe("query", t.Seconds(), st.has_value());
  if (!st) return Fail(std::move(st.error()));
  return out;
}

Result<std::optional<Row>> Database::QueryRow(std::string_view sql, std::span<const Param> params) {
  auto rows = Query(sql, params);
  if (!rows) return Fail(std::move(rows.error()));
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

Result<int64_t> Database::Exec(std::string_view sql, std::span<const Param> params) {
  Timer t;
  Result<int64_t> out;
  Status st = Run(
      [&](Tx& tx) -> Status {
        out = tx.Exec(sql, params);
        if (!out) return Fail(out.error());
        return {};
      },
      /*transaction=*/false);
  Observe("exec", t.Seconds(), st.has_value());
  if (!st) return Fail(std::move(st.error()));
  return out;
}

Status Database::Ping() {
  Timer t;
  Status st = Run(
      [](Tx& tx) -> Status {
        auto r = tx.Query("SELECT 1");
        if (!r) return Fail(std::move(r.error()));
        return {};
      },
      /*transaction=*/false);
  Observe("ping", t.Seconds(), st.has_value());
  return st;
}

Status Database::Notify(std::string_view kind, std::string_view id) {
  Timer t;
  Status st = Run([&](Tx& tx) { return tx.Notify(kind, id); }, /*transaction=*/false);
  Observe("notify", t.Seconds(), st.has_value());
  return st;
}

int Database::LatestSchemaVersion() const {
  auto all = internal::EmbeddedMigrations(dialect());
  return all.empty() ? 0 : all.back().version;
}

Result<int> Database::SchemaVersion() {
  std::string_view exists_sql =
      dialect() == Dialect::kPostgres
          ? "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
          : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
            "'schema_migrations'";
  auto exists = QueryRow(exists_sql);
  if (!exists) return Fail(std::move(exists.error()));
  if (!*exists || (*exists)->Int(0) == 0) return 0;
  auto v = QueryRow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!v) return Fail(std::move(v.error()));
  return static_cast<int>(*v ? (*v)->Int(0) : 0);
}

Result<int> Database::Migrate() {
  int applied = 0;
  for (const internal::Migration& m : internal::EmbeddedMigrations(dialect())) {
    bool did = false;
    Status st = Transact("migrate", [&](Tx& tx) -> Status {
      did = false;
      if (tx.dialect() == Dialect::kPostgres) {
        // Held until this transaction ends; a concurrent Migrate waits here and then sees the
        // migration applied.
        auto lock = tx.Query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
        if (!lock) return Fail(std::move(lock.error()));
      }
      if (auto r = tx.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 "version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, "
                                 "applied_at BIGINT NOT NULL)");
          !r) {
        return r;
      }
      auto present =
          tx.QueryRow("SELECT version FROM schema_migrations WHERE version = $1", {m.version});
      if (!present) return Fail(std::move(present.error()));
      if (*present) return {};
      if (auto r = tx.ExecScript(m.sql); !r) return r;
      auto ins = tx.Exec(
          "INSERT INTO schema_migrations (version, name, applied_at) "
          "VALUES ($1, $2, $3)",
          {m.version, Text(m.name), SystemClock::Instance().Now()});
      if (!ins) return Fail(std::move(ins.error()));
      did = true;
      return {};
    });
    if (!st) {
      Error e = std::move(st.error());
      e.detail = "migration " + std::string(m.name) + " failed: " + e.detail;
      return Fail(std::move(e));
    }
    if (did) {
      ++applied;
      log::Info("store.migrated", {{"dialect", DialectName(dialect())}, {"migration", m.name}});
    }
  }
  auto version = SchemaVersion();
  if (version && *version > LatestSchemaVersion()) {
    log::Warn("store.schema_newer_than_binary",
              {{"schema_version", *version}, {"binary_version", LatestSchemaVersion()}});
  }
  return applied;
}

// --- errors ---

Error UniqueViolation(std::string_view key, std::string_view driver_message) {
  std::string detail(kUniqueDetailPrefix);
  detail += key.empty() ? "?" : key;
  detail += ": ";
  detail += driver_message;
  return Error{409,
               "conflict",
               {},
               std::string(kUniqueMessage),
               "The resource already exists.",
               std::move(detail)};
}

Error ForeignKeyViolation(std::string_view driver_message) {
  return Error{409,
               "conflict",
               {},
               std::string(kForeignKeyMessage),
               "The request refers to a resource that does not exist.",
               "foreign key violation: " + std::string(driver_message)};
}

bool IsUniqueViolation(const Error& e) {
  return e.http_status == 409 && e.message == kUniqueMessage;
}

bool IsForeignKeyViolation(const Error& e) {
  return e.http_status == 409 && e.message == kForeignKeyMessage;
}

std::string ViolatedKey(const Error& e) {
  if (!IsUniqueViolation(e) || !e.detail.starts_with(kUniqueDetailPrefix)) return {};
  std::string_view rest = std::string_view(e.detail).substr(kUniqueDetailPrefix.size());
  size_t end = rest.find(": ");
  std::string_view key = rest.substr(0, end);
  return key == "?" ? std::string() : std::string(key);
}

// --- opening ---

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, const Options& options) {
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    // sqlite:///abs/path and sqlite://rel/path are accepted too.
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) return Fail(internal::OpenError("database URL \"sqlite:\" names no file"));
    return internal::OpenSqlite(path, options);
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return internal::OpenPostgres(url, options);
  }
  std::string scheme(url.substr(0, url.find(':')));
  return Fail(internal::OpenError("unsupported database URL scheme \"" + scheme +
                                  "\" (expected sqlite:PATH or postgres://...)"));
}

namespace internal {

Error OpenError(std::string message) {
  Error e = Error::Unavailable(message);
  e.description = std::move(message);
  return e;
}

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  const size_t n = sql.size();
  auto copy_until = [&](size_t end) {
    out.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // Quoted literal or identifier; a doubled quote is an escaped quote.
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      copy_until(j < n ? j + 1 : n);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      copy_until(j == std::string_view::npos ? n : j);
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t j = sql.find("*/", i + 2);
      copy_until(j == std::string_view::npos ? n : j + 2);
    } else if (c == '$' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

void Subscribers::Add(Database::Subscriber fn) {
  std::lock_guard lock(mu_);
  fns_.push_back(std::make_shared<const Database::Subscriber>(std::move(fn)));
}

void Subscribers::Deliver(std::string_view kind, std::string_view id) const {
  std::vector<std::shared_ptr<const Database::Subscriber>> fns;
  {
    std::lock_guard lock(mu_);
    fns = fns_;
  }
  for (const auto& fn : fns) (*fn)(kind, id);
}

bool Subscribers::empty() const {
  std::lock_guard lock(mu_);
  return fns_.empty();
}

std::pair<std::string_view, std::string_view> SplitPayload(std::string_view payload) {
  size_t colon = payload.find(':');
  if (colon == std::string_view::npos) return {payload, {}};
  return {payload.substr(0, colon), payload.substr(colon + 1)};
}

Status ValidateNotify(std::string_view kind, std::string_view id) {
  if (kind.empty() || kind.find(':') != std::string_view::npos) {
    return Fail(Error::Internal("notify: kind \"" + std::string(kind) +
                                "\" must be non-empty and contain no ':'"));
  }
  // PostgreSQL's NOTIFY payload limit is 8000 bytes.
  if (kind.size() + 1 + id.size() >= 8000) {
    return Fail(Error::Internal("notify: payload too long"));
  }
  return {};
}

}  // namespace internal
}  // namespace portcullis::store
