// PostgreSQL driver (libpq): a bounded pool of connections, text-format parameters through
// PQexecParams (one round trip), broken connections dropped and reopened, one LISTEN
// connection on a background thread for change notifications.

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "store/internal.h"

namespace portcullis::store::internal {
namespace {

constexpr unsigned kInt8Oid = 20;
constexpr const char* kChannel = "portcullis_changes";

struct PgResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

struct PgConnFree {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnFree>;

std::string FirstLine(std::string_view s) {
  size_t nl = s.find('\n');
  std::string line(s.substr(0, nl));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

// libpq: 'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs the
// server running...' -> "Connection refused".
std::string ConnectCause(PGconn* c) {
  std::string line = FirstLine(c ? PQerrorMessage(c) : "out of memory");
  constexpr std::string_view kFailed = "failed: ";
  size_t at = line.rfind(kFailed);
  if (at != std::string::npos) line = line.substr(at + kFailed.size());
  if (line.starts_with("FATAL:")) line = line.substr(line.find_first_not_of(' ', 6));
  return line.empty() ? "unknown error" : line;
}

std::string Where(PGconn* c) {
  const char* host = c ? PQhost(c) : nullptr;
  const char* port = c ? PQport(c) : nullptr;
  std::string where = host && *host ? host : "localhost";
  if (where.starts_with("/")) return where + " (socket, port " + (port ? port : "") + ")";
  if (port && *port) where += std::string(":") + port;
  return where;
}

Result<PgConnPtr> Connect(std::string_view url, const Options& options,
                          const std::string& application_name) {
  std::string conninfo(url);
  std::string timeout = std::to_string(std::max(1, options.connect_timeout_s));
  // Keywords processed later win: the URL (dbname, expanded) may override the defaults.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), application_name.c_str(), conninfo.c_str(), nullptr};
  PgConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail(OpenError("cannot connect to PostgreSQL at " + Where(conn.get()) + ": " +
                          ConnectCause(conn.get())));
  }
  // Warnings and notices go to our log, not to stderr.
  PQsetNoticeProcessor(
      conn.get(),
      [](void*, const char* message) {
        log::Debug("store.pg_notice", {{"message", FirstLine(message)}});
      },
      nullptr);
  return conn;
}

bool IsConnectionLoss(PGconn* c, const char* sqlstate) {
  if (PQstatus(c) == CONNECTION_BAD) return true;
  if (sqlstate == nullptr) return false;
  std::string_view s(sqlstate);
  // Class 08: connection exception (but 08P01, protocol violation, is what a wrong parameter
  // count gives, on a healthy connection); 57P01..57P03: admin/crash shutdown.
  return (s.starts_with("08") && s != "08P01") || s == "57P01" || s == "57P02" || s == "57P03";
}

// "Key (a, b)=(x, y) already exists." -> "a, b" (the values stay out of the log).
std::string KeyColumns(const char* detail) {
  if (detail == nullptr) return {};
  std::string_view d(detail);
  if (!d.starts_with("Key (")) return {};
  size_t end = d.find(")=");
  if (end == std::string_view::npos) return {};
  return std::string(d.substr(5, end - 5));
}

class PgConn {
 public:
  explicit PgConn(PgConnPtr c) : c_(std::move(c)) {}
  PGconn* get() const { return c_.get(); }

  // True when the connection looks usable. Reads whatever the server sent while the
  // connection sat idle, without a round trip: a terminated backend or a restarted server has
  // sent an error and closed the socket, which PQconsumeInput notices.
  bool Healthy() {
    if (PQstatus(c_.get()) != CONNECTION_OK) return false;
    if (PQtransactionStatus(c_.get()) != PQTRANS_IDLE) return false;
    // The goodbye error arrives first (libpq hands it to the notice processor) and the end of
    // the stream after it, so read until the socket has nothing more to say.
    for (int i = 0; i < 8; ++i) {
      pollfd p{PQsocket(c_.get()), POLLIN, 0};
      if (p.fd < 0) return false;
      if (::poll(&p, 1, 0) <= 0) break;
      if (PQconsumeInput(c_.get()) == 0) return false;
      while (PGnotify* n = PQnotifies(c_.get())) PQfreemem(n);
    }
    return PQstatus(c_.get()) == CONNECTION_OK;
  }

 private:
  PgConnPtr c_;
};

class PgTx final : public Tx {
 public:
  explicit PgTx(PgConn& conn) : conn_(conn) {}
  Dialect dialect() const override { return Dialect::kPostgres; }

  bool broken() const { return broken_; }
  bool retryable() const { return retryable_; }
  int statements() const { return statements_; }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    ++statements_;
    PgResult r(PQexec(conn_.get(), text.c_str()));
    auto ok = Check(r.get());
    if (!ok) return Fail(std::move(ok.error()));
    return {};
  }

  Status Notify(std::string_view kind, std::string_view id) override {
    if (auto st = ValidateNotify(kind, id); !st) return st;
    std::string payload(kind);
    payload += ':';
    payload += id;
    auto r = Query("SELECT pg_notify($1, $2)", {std::string(kChannel), std::move(payload)});
    if (!r) return Fail(std::move(r.error()));
    return {};
  }

 protected:
  Result<Rows> DoQuery(std::string_view sql, std::span<const Param> params) override {
    PgResult r = Execute(sql, params);
    auto ok = Check(r.get());
    if (!ok) return Fail(std::move(ok.error()));
    const int nrows = PQntuples(r.get());
    const int ncols = PQnfields(r.get());
    Rows rows;
    rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      std::vector<std::optional<std::string>> cells(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(r.get(), i, c)) continue;
        cells[c].emplace(PQgetvalue(r.get(), i, c), PQgetlength(r.get(), i, c));
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  Result<int64_t> DoExec(std::string_view sql, std::span<const Param> params) override {
    PgResult r = Execute(sql, params);
    auto ok = Check(r.get());
    if (!ok) return Fail(std::move(ok.error()));
    const char* n = PQcmdTuples(r.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  PgResult Execute(std::string_view sql, std::span<const Param> params) {
    std::string text(sql);
    std::vector<std::string> ints;  // storage for integers rendered as text
    ints.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<unsigned> types(params.size(), 0);  // 0: let the server infer
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      } else if (const auto* v = std::get_if<int64_t>(&params[i])) {
        values[i] = ints.emplace_back(std::to_string(*v)).c_str();
        types[i] = kInt8Oid;
      }
    }
    ++statements_;
    return PgResult(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()),
                                 types.data(), values.data(), nullptr, nullptr,
                                 /*resultFormat=*/0));
  }

  Result<const PGresult*> Check(const PGresult* r) {
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      return r;
    }
    const char* sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string msg = primary ? primary : FirstLine(PQerrorMessage(conn_.get()));
    std::string state = sqlstate ? sqlstate : "";
    if (IsConnectionLoss(conn_.get(), sqlstate)) {
      broken_ = true;
      return Fail(Error::Unavailable("PostgreSQL connection lost: " + msg));
    }
    if (state == "23505") {
      const char* table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
      std::string cols = KeyColumns(PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
      std::string key = table && !cols.empty() ? std::string(table) + "(" + cols + ")" : "";
      return Fail(UniqueViolation(key, msg));
    }
    if (state == "23503") return Fail(ForeignKeyViolation(msg));
    if (state == "40001" || state == "40P01") retryable_ = true;
    std::string detail = "postgres: " + msg + (state.empty() ? "" : " (SQLSTATE " + state + ")");
    if (state == "53300" || state == "57014") return Fail(Error::Unavailable(std::move(detail)));
    return Fail(Error::Internal(std::move(detail)));
  }

  PgConn& conn_;
  bool broken_ = false;
  bool retryable_ = false;
  int statements_ = 0;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(std::string url, const Options& options)
      : url_(std::move(url)),
        options_(options),
        pool_(
            options.pool_size > 0 ? options.pool_size : 8,
            std::chrono::milliseconds(options.acquire_timeout_ms),
            [this]() -> Result<std::unique_ptr<PgConn>> {
              auto c = Connect(url_, options_, options_.application_name);
              if (!c) {
                // The pool reports the outage as Unavailable with the cause in the detail.
                return Fail(Error::Unavailable(std::move(c.error().detail)));
              }
              return std::make_unique<PgConn>(std::move(*c));
            },
            [](PgConn& c) { return c.Healthy(); }) {}

  ~PgDatabase() override {
    if (listener_.joinable()) {
      stop_ = true;
      char b = 1;
      [[maybe_unused]] auto n = ::write(wake_[1], &b, 1);
      listener_.join();
    }
    if (wake_[0] >= 0) ::close(wake_[0]);
    if (wake_[1] >= 0) ::close(wake_[1]);
  }

  void Seed(PgConnPtr c) { pool_.Add(std::make_unique<PgConn>(std::move(c))); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  void Subscribe(Subscriber fn) override {
    subscribers_.Add(std::move(fn));
    std::unique_lock lock(listen_mu_);
    if (listener_.joinable()) return;
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      log::Error("store.pg_listen_failed", {{"error", "pipe2 failed"}});
      return;
    }
    listener_ = std::thread([this] { ListenLoop(); });
    // Wait for the first LISTEN attempt, so a Notify right after Subscribe is not missed.
    listen_cv_.wait_for(lock, std::chrono::seconds(options_.connect_timeout_s + 1),
                        [this] { return first_attempt_done_; });
  }

 protected:
  Status Run(const TxFn& fn, bool transaction) override {
    const int max_attempts = 1 + std::max(0, options_.max_tx_retries);
    int reconnects = 0;
    for (int attempt = 1;;) {
      auto lease = pool_.Acquire();
      if (!lease) return Fail(std::move(lease.error()));
      PgTx tx(**lease);
      if (transaction) {
        if (auto b = tx.ExecScript("BEGIN"); !b) {
          if (!tx.broken()) return b;
          // Nothing ran yet: the connection died while idle. Try a fresh one.
          lease->Discard();
          if (++reconnects > 2) return b;
          continue;
        }
      }
      Status st;
      try {
        st = fn(tx);
        if (st && transaction) st = tx.ExecScript("COMMIT");
      } catch (...) {
        Abandon(tx, *lease, transaction);
        throw;
      }
      if (st) return st;
      Abandon(tx, *lease, transaction);
      if (transaction && tx.retryable() && attempt < max_attempts) {
        ++attempt;
        log::Debug("store.tx_retry", {{"attempt", attempt}});
        continue;
      }
      return st;
    }
  }

 private:
  // Rolls back after a failure; drops the connection when it is broken or not clean.
  static void Abandon(PgTx& tx, Pool<PgConn>::Lease& lease, bool transaction) {
    if (!tx.broken() && transaction) {
      PgResult r(PQexec(lease->get(), "ROLLBACK"));
    }
    if (tx.broken() || PQstatus(lease->get()) != CONNECTION_OK ||
        PQtransactionStatus(lease->get()) != PQTRANS_IDLE) {
      lease.Discard();
    }
  }

  // Waits up to `ms` for the wake pipe; true when asked to stop.
  bool WaitStop(int ms) {
    pollfd p{wake_[0], POLLIN, 0};
    ::poll(&p, 1, ms);
    return stop_.load();
  }

  void MarkFirstAttempt() {
    std::lock_guard lock(listen_mu_);
    if (!first_attempt_done_) {
      first_attempt_done_ = true;
      listen_cv_.notify_all();
    }
  }

  void ListenLoop() {
    int backoff_ms = 100;
    bool connected_before = false;
    bool failed_before = false;
    while (!stop_) {
      auto conn = Connect(url_, options_, options_.application_name + "-listen");
      if (conn) {
        std::string listen = std::string("LISTEN ") + kChannel;
        PgResult r(PQexec(conn->get(), listen.c_str()));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) conn = Fail(Error::Unavailable(""));
      }
      if (!conn) {
        if (!failed_before) {
          log::Warn("store.pg_listen_down", {{"error", conn.error().detail}});
        }
        failed_before = true;
        MarkFirstAttempt();
        if (WaitStop(backoff_ms)) return;
        backoff_ms = std::min(backoff_ms * 2, 5000);
        continue;
      }
      backoff_ms = 100;
      MarkFirstAttempt();
      if (connected_before || failed_before) {
        log::Info("store.pg_listen_reconnected");
        subscribers_.Deliver("*", "");
      }
      connected_before = true;
      failed_before = false;
      Listen(conn->get());
      if (!stop_)
        log::Warn("store.pg_listen_lost", {{"error", FirstLine(PQerrorMessage(conn->get()))}});
    }
  }

  // Delivers notifications until the connection breaks or stop is requested.
  void Listen(PGconn* c) {
    auto last_check = std::chrono::steady_clock::now();
    while (!stop_) {
      pollfd fds[2] = {{PQsocket(c), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      int n = ::poll(fds, 2, 10'000);
      if (stop_) return;
      if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (PQconsumeInput(c) == 0) return;
        while (PGnotify* note = PQnotifies(c)) {
          auto [kind, id] = SplitPayload(note->extra ? note->extra : "");
          subscribers_.Deliver(kind, id);
          PQfreemem(note);
        }
      }
      // A silent peer (network partition) does not close the socket: probe it now and then.
      auto now = std::chrono::steady_clock::now();
      if (now - last_check > std::chrono::seconds(30)) {
        last_check = now;
        PgResult r(PQexec(c, "SELECT 1"));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return;
      }
      if (PQstatus(c) != CONNECTION_OK) return;
    }
  }

  const std::string url_;
  const Options options_;
  Pool<PgConn> pool_;
  Subscribers subscribers_;

  std::mutex listen_mu_;
  std::condition_variable listen_cv_;
  bool first_attempt_done_ = false;
  std::thread listener_;
  std::atomic<bool> stop_{false};
  int wake_[2] = {-1, -1};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const Options& options) {
  auto first = Connect(url, options, options.application_name);
  if (!first) return Fail(std::move(first.error()));
  auto db = std::make_unique<PgDatabase>(std::string(url), options);
  db->Seed(std::move(*first));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace portcullis::store::internal
